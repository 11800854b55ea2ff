"""The HTTP app in-process: /healthz, Host checks, and resolving the acting user."""

import logging
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from sqlalchemy.engine import Engine

from mcp_server.auth import CallerIdentity, TaskchatTokenVerifier
from mcp_server.server import build_app, build_server, transport_security
from shared.auth import mint_jwt
from shared.db import make_engine
from shared.settings import Settings
from tests.mcp_server.conftest import in_own_task

SECRET = "s" * 32
SERVICE_TOKEN = "service-token-of-32-characters-123"
JWT = Settings(_env_file=None, jwt_secret=SECRET, mcp_service_token=SERVICE_TOKEN)
LOCAL = Settings(_env_file=None, jwt_secret=None)


def asgi_client(app: Any, host: str = "127.0.0.1:8001") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}")


async def test_healthz_is_ok_when_the_database_answers(engine: Engine):
    async with asgi_client(build_app(LOCAL, engine)) as client:
        response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_healthz_is_503_when_the_database_is_unreachable():
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    async with asgi_client(build_app(LOCAL, engine)) as client:
        response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "database": "unreachable"},
    )


def test_allowed_hosts_are_loopback_mcp_host_and_the_configured_ones():
    settings = Settings(
        _env_file=None, mcp_host="10.1.2.3", mcp_allowed_hosts="tasks.example.com,proxy:8443"
    )
    security = transport_security(settings)
    assert security.enable_dns_rebinding_protection is True
    assert security.allowed_hosts == [
        "127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*",
        "tasks.example.com", "tasks.example.com:*", "proxy:8443", "10.1.2.3", "10.1.2.3:*",
    ]  # fmt: skip
    assert "https://tasks.example.com" in security.allowed_origins
    assert "http://proxy:8443" in security.allowed_origins


def test_wildcard_bind_address_is_not_an_allowed_host():
    security = transport_security(Settings(_env_file=None, mcp_host="0.0.0.0"))
    assert not any(host.startswith("0.0.0.0") for host in security.allowed_hosts)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.mark.parametrize(
    ("host", "status"),
    [("127.0.0.1:8001", 200), ("localhost:8001", 200), ("tasks.example.com", 200),
     ("evil.example:8001", 421)],
)  # fmt: skip
async def test_mcp_endpoint_checks_the_host_header(engine: Engine, host: str, status: int):
    app = build_app(Settings(_env_file=None, mcp_allowed_hosts="tasks.example.com"), engine)
    async with app.router.lifespan_context(app), asgi_client(app, host) as client:
        response = await client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert response.status_code == status


async def test_jwt_mode_refuses_a_request_without_a_token(engine: Engine):
    app = build_app(JWT, engine)
    async with app.router.lifespan_context(app), asgi_client(app) as client:
        response = await client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert response.status_code == 401
    # RFC 6750 section 3.1: no error code for a request that carried no token.
    assert response.headers["www-authenticate"] == "Bearer"


async def test_verifier_accepts_user_jwts_and_the_service_token_only():
    verifier = TaskchatTokenVerifier(JWT)
    user = await verifier.verify_token(mint_jwt("ann", JWT))
    service = await verifier.verify_token(SERVICE_TOKEN)
    assert (user.client_id, user.subject) == ("taskchat-user", "ann")  # type: ignore[union-attr]
    assert (service.client_id, service.subject) == ("taskchat-service", None)  # type: ignore[union-attr]
    assert await verifier.verify_token(SERVICE_TOKEN[:-1]) is None
    assert await verifier.verify_token(mint_jwt("ann", JWT, ttl_seconds=-5)) is None
    other = Settings(_env_file=None, jwt_secret="o" * 32)
    assert await verifier.verify_token(mint_jwt("ann", other)) is None


async def acting_user(settings: Settings, token: str | None, meta: dict[str, Any] | None) -> str:
    """CallerIdentity.user_id for a call made with `token` and `_meta`."""
    ctx = SimpleNamespace(request_context=SimpleNamespace(meta=meta))
    access = None if token is None else await TaskchatTokenVerifier(settings).verify_token(token)
    reset = auth_context_var.set(None if access is None else AuthenticatedUser(access))
    try:
        return CallerIdentity(settings).user_id(ctx, "tasks:write")  # type: ignore[arg-type]
    finally:
        auth_context_var.reset(reset)


async def test_local_mode_acts_for_the_local_user_whatever_the_meta():
    assert await acting_user(LOCAL, None, {"taskchat/user_id": "bob"}) == "local"


async def test_user_jwt_acts_for_its_subject_and_ignores_meta():
    token = mint_jwt("ann", JWT)
    assert await acting_user(JWT, token, None) == "ann"
    assert await acting_user(JWT, token, {"taskchat/user_id": "bob"}) == "ann"


async def test_service_token_acts_for_the_user_in_meta():
    assert await acting_user(JWT, SERVICE_TOKEN, {"taskchat/user_id": "bob"}) == "bob"


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        (None, "the service token acts for a user: name them in _meta['taskchat/user_id']"),
        ({"other": 1}, "the service token acts for a user: name them in _meta['taskchat/user_id']"),
        ({"taskchat/user_id": ""}, "_meta['taskchat/user_id']: user id must be a non-empty "
         "string of at most 200 characters"),
        ({"taskchat/user_id": 7}, "_meta['taskchat/user_id']: user id must be a non-empty "
         "string of at most 200 characters"),
    ],
)  # fmt: skip
async def test_service_token_without_a_valid_meta_user_is_refused(meta, message):
    with pytest.raises(ToolError) as caught:
        await acting_user(JWT, SERVICE_TOKEN, meta)
    assert str(caught.value) == message


async def test_jwt_mode_without_a_token_is_refused_in_process():
    with pytest.raises(ToolError, match="^not authenticated: send a bearer token$"):
        await acting_user(JWT, None, {"taskchat/user_id": "bob"})


async def test_an_unknown_prompt_is_the_callers_mistake_not_a_server_error(
    engine: Engine, caplog: pytest.LogCaptureFixture
):
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    async with in_own_task(Client(server)) as client:
        with pytest.raises(MCPError) as refused:
            await client.get_prompt("x" * 1000)

    assert refused.value.error.code == INVALID_PARAMS
    assert refused.value.error.message == f"Unknown prompt: {'x' * 100}… (1,000 characters)"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
