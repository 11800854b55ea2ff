"""Every internal part of the mcp SDK the task server relies on, in one place.

The tools subclass the SDK's `Tool` and build its `FuncMetadata` themselves, with input
models based on `ArgModelBase`: the SDK's generic path splits an input model into keyword
arguments (losing which ones the caller set, which update_task needs) and validates and
dumps every result again although the task functions build it in exactly the published
shape (measured: about a third of a list_tasks call). These are internal to the SDK, so
tests/mcp_server/test_sdk_compat.py checks each one, and pyproject.toml pins mcp to the
minor version those tests cover.

The server-side middleware chain (`MCPServer.middleware`, a `(ctx, call_next)` callable)
is the SDK's own extension point, but its docs warn it may change in a 2.x minor
release: tools/list is filtered by the token's scopes there (scopes.py).

`lowlevel` is the SDK's own low-level server inside `MCPServer`, whose
`add_request_handler` takes handlers that see the request (and so the caller): the
completions, the change streams and `server/discover` are registered there.

`answer_by_revision` reaches into the streamable HTTP session manager: one manager answers
both revisions with one `json_response` choice, but the two need different ones. The
2025-11-25 answers stay plain JSON (every client and test reads them so); a 2026-07-28
request may be answered as a stream (progress notifications, `subscriptions/listen`),
which the SDK's modern entry only commits to once the handler emits something.
"""

from typing import Any

from mcp.server._streamable_http_modern import handle_modern_request
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import RequestBodyLimitMiddleware
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = [
    "ArgModelBase",
    "CallNext",
    "FuncMetadata",
    "HandlerResult",
    "ServerRequestContext",
    "Tool",
    "answer_by_revision",
    "handle_modern_request",
    "lowlevel",
]

PROTOCOL_HEADER = b"mcp-protocol-version"


def lowlevel(server: MCPServer[Any]) -> Server[Any]:
    """The low-level server an MCPServer wraps."""
    return server._lowlevel_server  # noqa: SLF001


def answer_by_revision(manager: StreamableHTTPSessionManager) -> None:
    """Serve 2026-07-28 requests with streams allowed, and refuse a GET at the older
    revisions with 405 (a stateless server has no stream to hold open for it).

    Everything else is the manager's own path (stateless, JSON answers)."""
    handle_legacy = manager.asgi_app  # the SDK's body limit around its own dispatch

    async def modern(scope: Scope, receive: Receive, send: Send) -> None:
        await handle_modern_request(
            manager.app, manager.security_settings, False,
            manager._lifespan_state,  # noqa: SLF001 (set by the manager's run())
            scope, receive, send,
        )  # fmt: skip

    handle_modern = RequestBodyLimitMiddleware(modern, manager.max_request_body_size)

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        version = dict(scope["headers"]).get(PROTOCOL_HEADER, b"").decode("latin-1")
        if version and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            await handle_modern(scope, receive, send)
        elif scope["method"] == "GET":
            await Response(status_code=405, headers={"Allow": "POST"})(scope, receive, send)
        else:
            await handle_legacy(scope, receive, send)

    manager.asgi_app = route  # type: ignore[assignment]
