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
"""

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata

__all__ = [
    "ArgModelBase",
    "CallNext",
    "FuncMetadata",
    "HandlerResult",
    "ServerRequestContext",
    "Tool",
]
