"""The SDKs' private parts the chat server uses (chat_server/sdk_compat.py) are still there.

An SDK upgrade that renames or reshapes one fails here, by name, instead of somewhere deep
in a chat turn.
"""

import inspect

from agents.models import chatcmpl_stream_handler
from chatkit.server import ChatKitServer
from chatkit.types import ErrorEvent
from mcp.client.session import ClientSession

from chat_server import sdk_compat


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def test_chatkit_still_has_the_request_processors_the_server_calls() -> None:
    assert parameters(ChatKitServer._process_streaming) == ["self", "request", "context"]
    assert parameters(ChatKitServer._process_non_streaming) == ["self", "request", "context"]
    assert inspect.isasyncgenfunction(ChatKitServer._process_streaming)
    assert inspect.iscoroutinefunction(ChatKitServer._process_non_streaming)


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
