"""`python -m bench.chat_app`: the chat server exactly as `python -m chat_server` runs it,
with its pooled MCP client timing every tool call, readable at GET /bench/tool-time (each
worker process counts its own calls).

The chat-turn benchmark uses it to tell how much of a turn is spent inside MCP tool calls.
The timing is two perf_counter() reads per call.
"""

import time
from typing import Any

from fastapi import FastAPI

import chat_server.app as chat_app
from chat_server.__main__ import main as chat_main
from chat_server.agent.pool import MCPPool

_create_app = chat_app.create_app


class TimedPool(MCPPool):
    """The chat backend's pool, adding up how long its tool calls take."""

    calls = 0
    seconds = 0.0

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> Any:
        """Call through the pool, timing the call."""
        start = time.perf_counter()
        try:
            return await super().call_tool(tool_name, arguments, meta)
        finally:
            TimedPool.calls += 1
            TimedPool.seconds += time.perf_counter() - start


def create_timed_app(*args: Any, **kwargs: Any) -> FastAPI:
    """The real app, plus GET /bench/tool-time: {"calls": n, "seconds": total}."""
    app = _create_app(*args, **kwargs)

    @app.get("/bench/tool-time")
    async def tool_time() -> dict[str, float]:
        return {"calls": TimedPool.calls, "seconds": TimedPool.seconds}

    return app


def timed_app_from_environment() -> FastAPI:
    """chat_server's own app factory with the timing pool in place (run in each worker)."""
    chat_app.MCPPool = TimedPool  # type: ignore[misc]
    chat_app.create_app = create_timed_app
    return chat_app.app_from_environment()


def main() -> None:
    """Run chat_server's own main() on the timed app factory."""
    chat_main("bench.chat_app:timed_app_from_environment")


if __name__ == "__main__":
    main()
