"""Browsers calling /mcp directly: CORS for MCP_CORS_ORIGINS, over real HTTP to a real process."""

from collections.abc import Iterator

import httpx
import pytest

from testbed.servers import Server, free_port, running

pytestmark = pytest.mark.e2e

APP = "https://app.example.com"  # not loopback: only MCP_CORS_ORIGINS lets it through
EVIL = "https://evil.example.com"
INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
               "clientInfo": {"name": "browser", "version": "1"}},
}  # fmt: skip
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, "
    "last-event-id",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('cors') / 'tasks.db'}",
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "JWT_SECRET": "",
        "MCP_CORS_ORIGINS": f"{APP},http://localhost:5173",
    }
    with running("mcp_server", env, port) as server:
        yield server


def test_a_listed_origin_gets_its_preflight_answered(server: Server):
    response = httpx.options(f"{server.base_url}/mcp", headers={"Origin": APP, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type", "mcp-protocol-version", "last-event-id"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]


def test_a_listed_origin_passes_the_origin_check_and_reads_the_exposed_headers(server: Server):
    headers = {"Origin": APP, "Accept": "application/json, text/event-stream"}
    response = httpx.post(f"{server.base_url}/mcp", json=INITIALIZE, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert exposed == {"mcp-session-id", "mcp-protocol-version", "www-authenticate"}


def test_other_origins_are_still_refused(server: Server):
    preflight = httpx.options(f"{server.base_url}/mcp", headers={"Origin": EVIL, **PREFLIGHT})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    headers = {"Origin": EVIL, "Accept": "application/json, text/event-stream"}
    post = httpx.post(f"{server.base_url}/mcp", json=INITIALIZE, headers=headers)
    # DNS-rebinding protection: the transport refuses an origin it does not know.
    assert post.status_code == 403
    assert "access-control-allow-origin" not in post.headers
