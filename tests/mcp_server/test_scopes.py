"""OAuth scopes at the HTTP edge (mcp_server/scopes.py): which scope a request needs, the
403 before the SDK runs a call, the scopes named in 401s, and the one scope table.

The same behaviour against a real issuer and server process is in test_oauth.py.
"""

import json
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.server.auth.provider import AccessToken
from starlette.types import Receive, Scope, Send

from mcp_server.oauth import READ_SCOPE, TOOL_SCOPES, WRITE_SCOPE
from mcp_server.scopes import PEEK_LIMIT, ScopeChallenge, _with_scope, needed_scopes
from mcp_server.server import build_server
from shared.settings import Settings


def call_body(tool: str, **arguments: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": tool, "arguments": arguments}}).encode()  # fmt: skip


@pytest.mark.parametrize(
    ("body", "needed"),
    [
        (call_body("add_task", title="x"), [WRITE_SCOPE]),
        (call_body("delete_task", task_id=1), [WRITE_SCOPE]),
        (call_body("list_tasks"), [READ_SCOPE]),
        (call_body("no_such_tool"), []),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}', []),
        (b"not json", []),
        (b'{"method": "tools/call", "params": "odd"}', []),
        (b"[" + call_body("get_task", task_id=1) + b"," + call_body("add_task") + b"]",
         [READ_SCOPE, WRITE_SCOPE]),
    ],
    ids=["write", "delete", "read", "unknown-tool", "other-method", "not-json", "odd-params",
         "batch"],
)  # fmt: skip
def test_a_request_needs_the_scope_of_each_tool_it_calls(body: bytes, needed: list[str]):
    assert list(needed_scopes(body)) == needed


@pytest.mark.parametrize(
    ("challenge", "named"),
    [
        (b"Bearer", b'Bearer scope="a b"'),
        (b'Bearer error="invalid_token"', b'Bearer error="invalid_token", scope="a b"'),
        (b'Bearer scope="x"', b'Bearer scope="x"'),
        (b"Basic realm=x", b"Basic realm=x"),
    ],
)
def test_a_401_challenge_gets_the_scopes_once(challenge: bytes, named: bytes):
    assert _with_scope(challenge, b'scope="a b"') == named


async def test_every_tool_has_the_scope_its_annotations_promise(engine):
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} == set(TOOL_SCOPES)
    for tool in tools:
        assert tool.annotations is not None
        expected = READ_SCOPE if tool.annotations.read_only_hint else WRITE_SCOPE
        assert TOOL_SCOPES[tool.name] == expected, tool.name


class StubVerifier:
    """Every token is valid with the scopes it names ("read-only" or anything else)."""

    async def verify_token(self, token: str) -> AccessToken | None:
        if token == "bad":
            return None
        scopes = [READ_SCOPE] if token == "read-only" else [READ_SCOPE, WRITE_SCOPE]
        return AccessToken(token=token, client_id="c", scopes=scopes)


def guarded() -> tuple[ScopeChallenge, list[bytes]]:
    """ScopeChallenge around an app that records each body it got and answers 200, or 401
    to the token "bad"."""
    bodies: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        bodies.append(body)
        status = 401 if dict(scope["headers"]).get(b"authorization") == b"Bearer bad" else 200
        headers = [(b"www-authenticate", b"Bearer")] if status == 401 else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    layer = ScopeChallenge(app, StubVerifier(), "/mcp", "https://x/.well-known/r")  # type: ignore[arg-type]
    return layer, bodies


async def post(
    layer: ScopeChallenge, token: str, body: bytes, path: str = "/mcp"
) -> httpx.Response:
    transport = httpx.ASGITransport(app=layer)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        return await http.post(path, content=body, headers={"Authorization": f"Bearer {token}"})


async def test_a_write_with_a_read_only_token_never_reaches_the_app():
    layer, bodies = guarded()
    response = await post(layer, "read-only", call_body("add_task", title="x"))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="tasks:write", '
        'resource_metadata="https://x/.well-known/r", '
        'error_description="this call needs the tasks:write scope (the token has: tasks:read)"'
    )
    assert bodies == []


async def test_calls_within_the_scope_reach_the_app_with_their_body_unchanged():
    layer, bodies = guarded()
    read, write = call_body("list_tasks"), call_body("add_task", title="x")
    assert (await post(layer, "read-only", read)).status_code == 200
    assert (await post(layer, "read-write", write)).status_code == 200
    # A body too large to peek at passes on whole; the tool's own check answers it.
    large = call_body("add_task", title="x" * PEEK_LIMIT)
    assert (await post(layer, "read-only", large)).status_code == 200
    assert bodies == [read, write, large]


async def test_a_bad_token_is_left_to_the_401_which_names_the_scopes():
    layer, bodies = guarded()
    response = await post(layer, "bad", call_body("add_task", title="x"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer scope="tasks:read tasks:write"'
    assert len(bodies) == 1
    # Other paths are not this layer's business.
    other = await post(layer, "bad", b"", path="/metrics")
    assert other.headers["www-authenticate"] == "Bearer"
