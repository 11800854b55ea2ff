"""OAuth scopes at the HTTP edge, as the MCP authorization spec (2025-11-25) asks.

- A `tools/call` whose tool needs a scope the token lacks is answered HTTP 403 with
  `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."` before the SDK runs
  it, so a client can ask its user for more (spec: "Scope challenge handling").
- Every 401 challenge of /mcp names the scopes this server knows, so a client asks for
  them on its first authorization.
- `tools/list` offers only the tools the token may call.

Which scope each tool needs is one table, oauth.TOOL_SCOPES. The tool bodies check the
scope again (mcp_server/auth.py), for calls that do not come through HTTP.
"""

import json
from collections.abc import Iterator
from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_server.auth import TaskchatTokenVerifier
from mcp_server.edge import BearerChallenge
from mcp_server.oauth import SCOPES, TOOL_SCOPES, missing_scope, scope_problem, tool_scope
from mcp_server.sdk_compat import CallNext, HandlerResult, ServerRequestContext

# A tool call is a few kilobytes; a larger body is passed on unread, and the tool's own
# scope check answers it.
PEEK_LIMIT = 1 << 20


def needed_scopes(body: bytes) -> Iterator[str]:
    """The scope each `tools/call` in a JSON-RPC body needs (nothing for other methods,
    unknown tools or a body that is not JSON)."""
    try:
        message = json.loads(body)
    except ValueError:
        return
    for request in message if isinstance(message, list) else [message]:
        if not isinstance(request, dict) or request.get("method") != "tools/call":
            continue
        params = request.get("params")
        name = params.get("name") if isinstance(params, dict) else None
        if isinstance(name, str) and name in TOOL_SCOPES:
            yield TOOL_SCOPES[name]


def insufficient_scope(
    needed: str, granted: list[str], metadata_url: str | None
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The headers and body of the 403 for a token without `needed`."""
    description = scope_problem(needed, granted)
    params = ['error="insufficient_scope"', f'scope="{needed}"']
    if metadata_url:
        params.append(f'resource_metadata="{metadata_url}"')
    params.append(f'error_description="{description}"')
    body = json.dumps({"error": "insufficient_scope", "error_description": description}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
        (b"www-authenticate", ("Bearer " + ", ".join(params)).encode()),
    ]
    return headers, body


class ScopeChallenge:
    """Answers a tools/call beyond the token's scopes with 403, and names the scopes in
    every 401 of `path`."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: TaskchatTokenVerifier,
        path: str,
        metadata_url: str | None,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.path = path
        self.metadata_url = metadata_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        send = self._naming_scopes(send)
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        read, body = await _peek(receive, PEEK_LIMIT)
        if body is not None and (refusal := await self._refusal(scope, body)) is not None:
            headers, content = refusal
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": content})
            return
        await self.app(scope, _replay(read, receive), send)

    async def _refusal(
        self, scope: Scope, body: bytes
    ) -> tuple[list[tuple[bytes, bytes]], bytes] | None:
        needed = list(needed_scopes(body))
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        if not needed or scheme.lower() != "bearer" or not token.strip():
            return None
        access = await self.verifier.verify_token(token.strip())
        if access is None:
            return None  # the SDK answers 401, saying why
        for scope_needed in needed:
            if (missing := missing_scope(access.scopes, scope_needed)) is not None:
                return insufficient_scope(missing, access.scopes, self.metadata_url)
        return None

    def _naming_scopes(self, send: Send) -> Send:
        challenge_scopes = f'scope="{" ".join(SCOPES)}"'.encode()

        async def naming_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                message = {
                    **message,
                    "headers": [
                        (name, _with_scope(value, challenge_scopes)
                         if name.lower() == b"www-authenticate" else value)
                        for name, value in message["headers"]
                    ],
                }  # fmt: skip
            await send(message)

        return naming_send


def _with_scope(challenge: bytes, scope_param: bytes) -> bytes:
    if not challenge.lower().startswith(b"bearer") or b'scope="' in challenge:
        return challenge
    rest = challenge[len(b"bearer"):].strip()
    return b"Bearer " + (rest + b", " + scope_param if rest else scope_param)


async def _peek(receive: Receive, limit: int) -> tuple[list[Message], bytes | None]:
    """The messages read, and the whole body (None when it is over `limit` or the client
    left before it ended)."""
    read: list[Message] = []
    body = bytearray()
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            return read, None
        body += message.get("body", b"")
        if len(body) > limit:
            return read, None
        if not message.get("more_body", False):
            return read, bytes(body)


def _replay(read: list[Message], receive: Receive) -> Receive:
    pending = list(read)

    async def replaying_receive() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replaying_receive


def guard_scopes(
    app: Starlette, verifier: TaskchatTokenVerifier, path: str, metadata_url: str | None
) -> None:
    """Put ScopeChallenge around `app`, just outside the layer that explains 401s (so it
    can add the scopes to them) and inside CORS (so a page can read its 403)."""
    layer = Middleware(ScopeChallenge, verifier=verifier, path=path, metadata_url=metadata_url)
    # user_middleware is listed outermost first.
    at = next(
        (i for i, middleware in enumerate(app.user_middleware)
         if middleware.cls is BearerChallenge),
        0,
    )  # fmt: skip
    app.user_middleware.insert(at, layer)


async def scoped_tool_list(
    ctx: ServerRequestContext[Any, Any], call_next: CallNext
) -> HandlerResult:
    """SDK middleware: `tools/list` leaves out the tools the caller's token may not call."""
    result = await call_next(ctx)
    token = get_access_token()
    if ctx.method != "tools/list" or token is None or not isinstance(result, dict):
        return result
    return {
        **result,
        "tools": [
            tool
            for tool in result.get("tools", [])
            if missing_scope(token.scopes, tool_scope(str(tool.get("name")))) is None
        ],
    }
