"""GET /healthz: what a load balancer asks each chat server instance."""

from pathlib import Path

import httpx
from agents.testing import ScriptedModel

from chat_server.app import create_app
from shared.db import make_engine
from shared.settings import Settings
from tests.chat_server.fakes import FakeTaskServer


async def test_healthz_answers_503_with_the_reason_while_the_database_is_unreachable(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'chat.db'}")
    mcp = FakeTaskServer()
    app = create_app(settings, model=ScriptedModel([]), mcp_server=mcp)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            ok = await client.get("/healthz")
            assert (ok.status_code, ok.json()) == (200, {"status": "ok"})
            # The task server being down is /readyz's business, not a reason to leave the pool.
            mcp.up = False
            assert (await client.get("/healthz")).status_code == 200
            working = app.state.engine
            app.state.engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'chat.db'}")
            try:
                down = await client.get("/healthz")
            finally:
                app.state.engine.dispose()
                app.state.engine = working
            assert (down.status_code, down.json()) == (
                503,
                {"status": "unavailable", "database": "unreachable"},
            )
