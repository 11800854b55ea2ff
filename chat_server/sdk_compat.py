"""Every private part of the SDKs the chat server relies on, in one place.

Each is used for a measured reason, written beside it. An SDK upgrade may rename or change
any of them without notice: tests/chat_server/test_sdk_compat.py checks each one, so such
an upgrade fails loudly there instead of quietly somewhere else, and pyproject.toml pins
the SDKs to the minor versions those tests cover.
"""

import logging
from collections.abc import AsyncIterator
from typing import Any

from agents.models.fake_id import FAKE_RESPONSES_ID
from chatkit.server import ChatKitServer
from chatkit.types import NonStreamingReq, StreamingReq, ThreadStreamEvent
from mcp import Client
from mcp.types import ListToolsResult

__all__ = [
    "FAKE_RESPONSES_ID",
    "MergeNoiseFilter",
    "NoClientToolCalls",
    "absorb_tool_listing",
    "process_non_streaming",
    "process_streaming",
    "quiet_chatkit_merge_noise",
    "sse_event",
]

# FAKE_RESPONSES_ID (openai-agents): the id Chat Completions models give every message;
# chatkit would make it every reply's thread item id, so replies overwrote each other.


def process_streaming(
    server: ChatKitServer[Any], request: StreamingReq, context: Any
) -> AsyncIterator[bytes]:
    """chatkit's stream of server-sent event bytes for an already parsed request.

    The public `process()` builds a pydantic TypeAdapter on every call (milliseconds of
    CPU per request); the app parses once with a cached adapter and comes in here.
    """
    return server._process_streaming(request, context)


async def process_non_streaming(
    server: ChatKitServer[Any], request: NonStreamingReq, context: Any
) -> bytes:
    """chatkit's JSON answer for an already parsed request (see process_streaming)."""
    return await server._process_non_streaming(request, context)


def sse_event(server: ChatKitServer[Any], event: ThreadStreamEvent) -> bytes:
    """One event as chatkit itself frames it, for events the server adds to a stream."""
    return b"data: " + server._serialize(event) + b"\n\n"


class NoClientToolCalls:
    """For a ChatKit server whose agent has no client tools: skips chatkit's search for them.

    Before answering each message chatkit loads and parses the thread's last 20 items to
    delete a client tool call left pending (`_cleanup_pending_client_tool_call`): a widget
    of 50 tasks among them takes milliseconds to validate, on every turn. Our agent makes no
    client tool calls and the HTTP edge refuses client tool output, so there is none to find.
    """

    async def _cleanup_pending_client_tool_call(self, thread: Any, context: Any) -> None:
        return None


def absorb_tool_listing(client: Client, listing: ListToolsResult) -> bool:
    """Hand a session a tool list it would otherwise fetch itself; False if it cannot.

    mcp 2.x lists the tools once per session to validate results; the pool shares its one
    listing, so the task server sees one tools/list for the whole pool.
    """
    absorb = getattr(client.session, "_absorb_tool_listing", None)
    if absorb is None:
        return False
    absorb(listing, complete=True)
    return True


class MergeNoiseFilter(logging.Filter):
    """Drops asyncio's "Task was destroyed but it is pending!" for chatkit's event queue.

    chatkit's `_merge_generators` (agents.py) cancels its pending `queue.get()` task when the
    agent's stream ends, without awaiting it; when the generator is collected before the
    loop runs the cancellation, asyncio logs that task's destruction as an ERROR. The task
    holds nothing and the turn has finished, so it is noise, seen about once in a hundred
    turns; every other destroyed task is still logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for exactly that record."""
        message = record.getMessage()
        return not (
            message.startswith("Task was destroyed but it is pending!")
            and "_AsyncQueueIterator.__anext__" in message
        )


def quiet_chatkit_merge_noise() -> None:
    """Install MergeNoiseFilter on asyncio's logger (once per process)."""
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, MergeNoiseFilter) for f in asyncio_log.filters):
        asyncio_log.addFilter(MergeNoiseFilter())
