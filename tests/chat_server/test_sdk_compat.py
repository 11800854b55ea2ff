"""The SDKs' private parts the chat server uses (chat_server/sdk_compat.py) are still there.

An SDK upgrade that renames or reshapes one fails here, by name, instead of somewhere deep
in a chat turn.
"""

import inspect
import logging

from agents.models import chatcmpl_stream_handler
from chatkit.server import ChatKitServer
from chatkit.types import ErrorEvent
from mcp.client.session import ClientSession

from chat_server import sdk_compat
from chat_server.sdk_compat import MergeNoiseFilter


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_chatkit_still_has_the_request_processors_the_server_calls() -> None:
    assert parameters(ChatKitServer._process_streaming) == ["self", "request", "context"]
    assert parameters(ChatKitServer._process_non_streaming) == ["self", "request", "context"]
    assert inspect.isasyncgenfunction(ChatKitServer._process_streaming)
    assert inspect.iscoroutinefunction(ChatKitServer._process_non_streaming)


def test_chatkit_still_looks_for_pending_client_tool_calls_where_the_server_skips_it() -> None:
    skipped = ChatKitServer._cleanup_pending_client_tool_call
    assert parameters(skipped) == ["self", "thread", "context"]
    assert inspect.iscoroutinefunction(skipped)
    assert "_cleanup_pending_client_tool_call" in inspect.getsource(
        ChatKitServer._process_streaming_impl
    )


def test_an_added_event_is_framed_exactly_as_chatkit_frames_its_own() -> None:
    class Server(ChatKitServer[None]):
        async def respond(self, *_args: object) -> None:  # type: ignore[override]
            raise NotImplementedError

    server = Server.__new__(Server)
    event = ErrorEvent(code="custom", message="The task server is down.", allow_retry=True)

    framed = sdk_compat.sse_event(server, event)

    assert framed == (
        b'data: {"type":"error","code":"custom","message":"The task server is down.",'
        b'"allow_retry":true}\n\n'
    )


def test_mcp_sessions_can_still_absorb_a_shared_tool_listing() -> None:
    absorb = ClientSession._absorb_tool_listing
    assert parameters(absorb) == ["self", "result", "complete"]
    assert inspect.signature(absorb).parameters["complete"].kind is inspect.Parameter.KEYWORD_ONLY


def test_chat_completions_models_still_name_every_message_with_the_fake_id() -> None:
    assert sdk_compat.FAKE_RESPONSES_ID == "__fake_id__"
    assert chatcmpl_stream_handler.FAKE_RESPONSES_ID is sdk_compat.FAKE_RESPONSES_ID


def test_only_chatkits_merge_queue_task_destruction_is_dropped_from_asyncio_logs() -> None:
    # The coroutine the filter names must still be the one chatkit merges its events with.
    from chatkit.agents import _AsyncQueueIterator  # noqa: PLC0415  (only this test needs it)

    assert hasattr(_AsyncQueueIterator, "__anext__")
    quiet = MergeNoiseFilter()

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)

    assert not quiet.filter(
        record(
            "Task was destroyed but it is pending!\ntask: <Task pending name='Task-8003' "
            "coro=<_AsyncQueueIterator.__anext__() running at chatkit/agents.py:288>>"
        )
    )
    assert quiet.filter(
        record("Task was destroyed but it is pending!\ntask: <Task pending coro=<other() running>>")
    )
    assert quiet.filter(record("Unclosed client session"))
