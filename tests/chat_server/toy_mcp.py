"""A tiny MCP server for the pool tests: echo, sleep, fail, and show the `_meta` and headers.

Run as `python -m tests.chat_server.toy_mcp` with TOY_MCP_PORT set; GET /healthz answers
once it listens and GET /stats reports how many tools/list requests it served and how
many sleep calls are running right now.
"""

import asyncio
import json
import os

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import Tool
from starlette.requests import Request
from starlette.responses import JSONResponse

# Keys the SDK adds to every request's _meta; tests only care about what the caller sent.
RESERVED_META_PREFIX = "io.modelcontextprotocol/"


class CountingServer(MCPServer):
    """An MCPServer that counts the tools/list requests it answers."""

    list_tools_requests = 0
    sleeping = 0

    async def list_tools(self) -> list[Tool]:
        """Count the request, then list as usual."""
        CountingServer.list_tools_requests += 1
        return await super().list_tools()


def build_server() -> CountingServer:
    """The toy server with its five tools and two plain HTTP routes."""
    server = CountingServer("toy")

    @server.tool()
    async def echo(text: str) -> str:
        """Return `text` unchanged."""
        return text

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Wait `seconds`, then say so."""
        CountingServer.sleeping += 1
        try:
            await asyncio.sleep(seconds)
        finally:
            CountingServer.sleeping -= 1
        return f"slept {seconds}"

    @server.tool()
    async def fail(message: str) -> str:
        """Fail the way an expected tool failure does."""
        raise ToolError(message)

    @server.tool()
    async def whoami(ctx: Context) -> str:
        """Return the caller's `_meta` as JSON, without the SDK's reserved keys."""
        meta = ctx.request_context.meta or {}
        sent = {k: v for k, v in meta.items() if not k.startswith(RESERVED_META_PREFIX)}
        return json.dumps(sent, sort_keys=True)

    @server.tool()
    async def header(name: str, ctx: Context) -> str:
        """Return the value of the HTTP request header `name` ("" when absent)."""
        return (ctx.headers or {}).get(name, "")

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @server.custom_route("/stats", methods=["GET"])
    async def stats(request: Request) -> JSONResponse:
        return JSONResponse(
            {"list_tools": CountingServer.list_tools_requests, "sleeping": CountingServer.sleeping}
        )

    return server


def main() -> None:
    """Serve the toy server on 127.0.0.1:$TOY_MCP_PORT."""
    app = build_server().streamable_http_app(stateless_http=True, json_response=True)
    port = int(os.environ["TOY_MCP_PORT"])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
