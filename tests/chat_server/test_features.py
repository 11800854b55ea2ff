"""Optional features load on their first request (chat_server/features.py), not at start."""

import subprocess
import sys
from pathlib import Path

import httpx
from agents.testing import ScriptedModel

from chat_server.app import create_app
from chat_server.features import FEATURES, LazyFeature
from shared.settings import Settings
from tests.chat_server.fakes import TaskMCP

NOT_AT_START = [
    "radicale",
    "icalendar",
    "alembic",
    "chat_server.agent.offline.grammar",
    "chat_server.web.panel",
    "chat_server.caldav.server",
    "chat_server.web.signin",
]


def test_the_app_module_imports_none_of_the_optional_features() -> None:
    probe = f"import sys, chat_server.app; print([m for m in {NOT_AT_START!r} if m in sys.modules])"
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "[]"


async def test_a_features_first_request_loads_it_and_answers_like_any_other(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'f.db'}")
    app = create_app(settings, model=ScriptedModel([]), mcp_server=TaskMCP())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            first = await client.get("/api/app-passwords")
            again = await client.get("/api/app-passwords")
            missing = await client.get("/api/app-passwords-and-more")
            discovery = await client.get("/.well-known/caldav")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert missing.status_code == 404
    assert discovery.status_code == 301
    assert discovery.headers["location"] == "/caldav/"
    # Each loaded feature's placeholder is gone from the routing table; the others wait.
    waiting = {route.feature.name for route in app.router.routes if isinstance(route, LazyFeature)}
    assert waiting == {f.name for f in FEATURES} - {"caldav"}


def test_with_the_api_docs_on_every_feature_is_routed_at_once(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'f.db'}", chat_api_docs=True
    )
    app = create_app(settings, model=ScriptedModel([]), mcp_server=TaskMCP())
    assert not [route for route in app.router.routes if isinstance(route, LazyFeature)]
    assert "/api/import" in app.openapi()["paths"]
