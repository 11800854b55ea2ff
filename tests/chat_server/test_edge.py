"""The chat server's edge: foreign hosts, cross-site requests and response headers, in-process."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from agents.testing import ScriptedModel

from chat_server.app import create_app
from chat_server.web.edge import allowed_host_names, host_name
from shared.auth import mint_jwt
from shared.settings import Settings
from tests.chat_server.fakes import FakeTaskServer

LIST = {"type": "threads.list", "params": {}}
SECRET = "edge-test-secret-that-is-long-enough-for-hs256"


@asynccontextmanager
async def client_for(tmp_path: Path, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'edge.db'}", **overrides
    )
    app = create_app(settings, model=ScriptedModel([]), mcp_server=FakeTaskServer())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
            yield c


@pytest.mark.parametrize(
    ("host", "name"),
    [("127.0.0.1:8000", "127.0.0.1"), ("[::1]:8000", "::1"), ("LocalHost", "localhost"),
     ("::1", "::1"), ("tasks.example.com", "tasks.example.com")],
)
def test_host_name_drops_the_port_and_brackets(host: str, name: str) -> None:
    assert host_name(host) == name


def test_a_wildcard_bind_address_is_not_an_allowed_host_name() -> None:
    assert "0.0.0.0" not in allowed_host_names("0.0.0.0", [])
    assert "tasks.example.com" in allowed_host_names("0.0.0.0", ["Tasks.example.com:443"])


@pytest.mark.parametrize("path", ["/", "/api/tasks", "/healthz", "/static/app.css"])
async def test_a_foreign_host_header_gets_421_on_every_route(tmp_path: Path, path: str) -> None:
    async with client_for(tmp_path) as client:
        response = await client.get(path, headers={"Host": "rebind.attacker.example:8000"})

    assert response.status_code == 421
    assert response.json() == {
        "error": "misdirected_request",
        "message": "Host 'rebind.attacker.example:8000' is not served here; add it to "
        "CHAT_ALLOWED_HOSTS if a proxy forwards it",
    }


async def test_a_cors_preflight_for_a_foreign_host_gets_421_too(tmp_path: Path) -> None:
    preflight = {
        "Origin": "https://app.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    async with client_for(tmp_path, cors_origins="https://app.example.com") as client:
        foreign = await client.options(
            "/chatkit", headers={**preflight, "Host": "rebind.attacker.example"}
        )
        ours = await client.options("/chatkit", headers=preflight)

    assert foreign.status_code == 421 and "access-control-allow-origin" not in foreign.headers
    assert ours.status_code == 200
    assert ours.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_chat_allowed_hosts_adds_names_a_proxy_forwards(tmp_path: Path) -> None:
    async with client_for(tmp_path, chat_allowed_hosts="tasks.example.com") as client:
        allowed = await client.get("/healthz", headers={"Host": "tasks.example.com"})
        other = await client.get("/healthz", headers={"Host": "other.example.com"})

    assert (allowed.status_code, other.status_code) == (200, 421)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
async def test_state_changing_requests_must_be_json(tmp_path: Path, content_type: str | None
                                                    ) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"type": "threads.list", "params": {}}'
    async with client_for(tmp_path) as client:
        response = await client.post("/chatkit", content=body, headers=headers)

    assert response.status_code == 415
    assert response.json()["message"] == (
        "state-changing requests must be sent as Content-Type: application/json"
    )


@pytest.mark.parametrize(
    "origin",
    ["http://evil.invalid", "http://127.0.0.1:9999", "null", "https://127.0.0.1.evil.invalid",
     "http://[::1:80", "http://[::1]:99999"],
)
async def test_a_foreign_origin_is_refused(tmp_path: Path, origin: str) -> None:
    async with client_for(tmp_path) as client:
        response = await client.post("/chatkit", json=LIST, headers={"Origin": origin})

    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden_origin", "message": f"requests from origin {origin!r} are refused"}


async def test_cross_site_fetch_metadata_without_origin_is_refused(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        response = await client.post(
            "/chatkit", json=LIST, headers={"Sec-Fetch-Site": "cross-site"}
        )

    assert response.status_code == 403
    assert response.json()["message"] == "cross-site requests are refused"


@pytest.mark.parametrize(
    "headers",
    [
        {},  # the terminal client and curl
        {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"},  # the page
        {"Origin": "https://app.example.com", "Sec-Fetch-Site": "cross-site"},  # a CORS origin
        {"Origin": "https://pr-7.preview.example.com"},
    ],
)
async def test_own_page_clients_and_allowed_origins_keep_working(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    async with client_for(
        tmp_path, cors_origins="https://app.example.com",
        cors_origin_regex=r"https://pr-\d+\.preview\.example\.com",
    ) as client:
        response = await client.post("/chatkit", json=LIST, headers=headers)

    assert response.status_code == 200, response.text


async def test_cookie_signed_request_without_origin_is_refused(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, jwt_secret=SECRET)
    async with client_for(tmp_path, jwt_secret=SECRET, mcp_service_token="s" * 32) as client:
        client.cookies.set("taskchat_session", mint_jwt("alice", settings))
        bare = await client.post("/chatkit", json=LIST)
        from_page = await client.post("/chatkit", json=LIST, headers={"Origin": "http://127.0.0.1:8000"})
        other_port = await client.post(
            "/chatkit", json=LIST, headers={"Origin": "http://127.0.0.1:8001"}
        )

    assert bare.status_code == 403
    assert bare.json()["message"] == (
        "a request signed in by the session cookie must come from the app's page "
        "(Origin header missing)"
    )
    assert from_page.status_code == 200
    assert other_port.status_code == 403


@pytest.mark.parametrize("ui", ["auto", "builtin", "chatkit"])
async def test_every_ui_mode_forbids_framing_and_sniffing(tmp_path: Path, ui: str) -> None:
    async with client_for(tmp_path) as client:
        response = await client.get(f"/?ui={ui}")

    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    # Scripts come from this server and, unless built-in, from the ChatKit script's origin.
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    expected = "script-src 'self'" + ("" if ui == "builtin" else " https://cdn.platform.openai.com")
    assert script_src == expected


async def test_api_docs_are_off_unless_asked_for(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        off = [(await client.get(path)).status_code for path in ("/docs", "/openapi.json")]
    async with client_for(tmp_path, chat_api_docs=True) as client:
        on = [(await client.get(path)).status_code for path in ("/docs", "/openapi.json")]

    assert off == [404, 404]
    assert on == [200, 200]
