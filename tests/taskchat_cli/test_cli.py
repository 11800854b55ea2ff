"""The terminal client against an in-process fake ChatKit endpoint serving real chatkit models."""

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import jwt
import pytest
from chatkit.errors import ErrorCode
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    CustomTask,
    ErrorEvent,
    InferenceOptions,
    Page,
    StreamOptions,
    StreamOptionsEvent,
    Thread,
    ThreadCreatedEvent,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadStreamEvent,
    ThreadUpdatedEvent,
    UserMessageItem,
    UserMessageTextContent,
    Workflow,
    WorkflowItem,
    WorkflowTaskAdded,
    WorkflowTaskUpdated,
)
from pydantic import BaseModel

from chat_server.web.protocol import check_input, parse_request
from shared.auth import verify_jwt
from shared.settings import Settings, get_common_settings
from taskchat_cli.cli import Terminal, format_when, main, thread_lines
from taskchat_cli.client import (
    ChatClient,
    ChatError,
    Output,
    TurnView,
    http_error_message,
    message_request,
    parse_event,
    request_body,
)
from testbed.servers import ROOT, free_port

T0 = datetime(2026, 5, 1, 9, 30)


# --- Canned ChatKit traffic, built from chatkit's own models ------------------------------


def sse(event: BaseModel) -> bytes:
    """One event framed the way chatkit's server frames it."""
    return b"data: " + event.model_dump_json(by_alias=True, exclude_none=True).encode() + b"\n\n"


def thread(thread_id: str, title: str | None = None, created_at: datetime = T0) -> Thread:
    return Thread(id=thread_id, title=title, created_at=created_at, items=Page())


def user_item(text: str, thread_id: str = "thr_1", item_id: str = "msg_u1") -> UserMessageItem:
    return UserMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=T0,
        content=[UserMessageTextContent(text=text)],
        inference_options=InferenceOptions(),
    )


def assistant_item(
    text: str, thread_id: str = "thr_1", item_id: str = "msg_a1"
) -> AssistantMessageItem:
    content = [AssistantMessageContent(text=text)] if text else []
    return AssistantMessageItem(id=item_id, thread_id=thread_id, created_at=T0, content=content)


def workflow_item(*tasks: CustomTask, thread_id: str = "thr_1") -> WorkflowItem:
    return WorkflowItem(
        id="wf_1",
        thread_id=thread_id,
        created_at=T0,
        workflow=Workflow(type="custom", tasks=list(tasks)),
    )


RUNNING = CustomTask(title="Running add_task", status_indicator="loading")
ADDED = CustomTask(
    title="add_task", content="Task 7 created: Buy milk", status_indicator="complete"
)
DELTAS = ["Added ", "Buy milk", " (task 7)."]


def reply_events(
    thread_id: str = "thr_1", *, new_thread: bool = True, deltas: list[str] = DELTAS
) -> list[ThreadStreamEvent]:
    """What chatkit streams for a turn with one tool call, in the server's order."""
    events: list[ThreadStreamEvent] = []
    if new_thread:
        events.append(ThreadCreatedEvent(thread=thread(thread_id)))
    text = "".join(deltas)
    events += [
        ThreadItemDoneEvent(item=user_item("add buy milk", thread_id)),
        StreamOptionsEvent(stream_options=StreamOptions(allow_cancel=True)),
        ThreadItemAddedEvent(item=workflow_item(RUNNING, thread_id=thread_id)),
        ThreadItemUpdatedEvent(
            item_id="wf_1", update=WorkflowTaskUpdated(task_index=0, task=ADDED)
        ),
        ThreadItemDoneEvent(item=workflow_item(ADDED, thread_id=thread_id)),
        ThreadItemAddedEvent(item=assistant_item("", thread_id)),
        ThreadItemUpdatedEvent(
            item_id="msg_a1",
            update=AssistantMessageContentPartAdded(
                content_index=0, content=AssistantMessageContent(text="")
            ),
        ),
        *(
            ThreadItemUpdatedEvent(
                item_id="msg_a1",
                update=AssistantMessageContentPartTextDelta(content_index=0, delta=delta),
            )
            for delta in deltas
        ),
        ThreadItemUpdatedEvent(
            item_id="msg_a1",
            update=AssistantMessageContentPartDone(
                content_index=0, content=AssistantMessageContent(text=text)
            ),
        ),
        ThreadItemDoneEvent(item=assistant_item(text, thread_id)),
    ]
    if new_thread:
        events.append(ThreadUpdatedEvent(thread=thread(thread_id, "add buy milk")))
    return events


Handler = Callable[[dict[str, Any]], httpx.Response]


class FakeChatKit:
    """A /chatkit endpoint for httpx.MockTransport: records requests, answers canned traffic."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[httpx.Headers] = []
        self.threads: list[Thread] = [
            thread("thr_2", "what's due this week", T0 + timedelta(days=1)),
            thread("thr_1", "add buy milk", T0),
        ]
        self.items: dict[str, list[BaseModel]] = {
            "thr_2": [
                user_item("what's due?", "thr_2", "msg_u2"),
                workflow_item(
                    CustomTask(
                        title="list_tasks", content="1 task(s)", status_indicator="complete"
                    ),
                    thread_id="thr_2",
                ),
                assistant_item("Buy milk is due tomorrow.", "thr_2", "msg_a2"),
            ]
        }
        self.turns: list[list[ThreadStreamEvent]] = []  # one canned reply per message, in order
        self.override: Handler | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path.endswith("/chatkit")
        body = json.loads(request.read())
        self.requests.append(body)
        self.headers.append(request.headers)
        if self.override is not None:
            return self.override(body)
        match body["type"]:
            case "threads.create" | "threads.add_user_message":
                events = self.turns.pop(0) if self.turns else reply_events()
                return stream_response(sse(event) for event in events)
            case "threads.list":
                return json_response(Page(data=self.threads))
            case "items.list":
                thread_id = body["params"]["thread_id"]
                if thread_id not in self.items:
                    return httpx.Response(
                        404, json={"error": "not_found", "message": f"thread {thread_id} not found"}
                    )
                # The server pages newest first, as the client asks.
                return json_response(Page(data=self.items[thread_id][::-1]))
        raise AssertionError(f"unexpected request {body['type']}")


def stream_response(chunks: Iterator[bytes]) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=chunks)


def json_response(model: BaseModel) -> httpx.Response:
    body = model.model_dump_json(by_alias=True, exclude_none=True)
    return httpx.Response(200, headers={"content-type": "application/json"}, content=body)


@pytest.fixture
def fake() -> FakeChatKit:
    return FakeChatKit()


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC, so dates print the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def run(fake: FakeChatKit, *argv: str) -> int:
    return main(list(argv), transport=fake.transport())


# --- Protocol functions --------------------------------------------------------------------


def test_a_reply_stream_skips_comments_and_an_unfinished_last_event() -> None:
    delta = ThreadItemUpdatedEvent(
        item_id="msg_a1", update=AssistantMessageContentPartTextDelta(content_index=0, delta="Hi")
    )
    framed = sse(delta)
    # CRLF line ends, split across chunks mid-line, a keep-alive comment, and an event the
    # stream cut off before its blank line.
    chunks = [b": keep-alive\r\n\r\n", framed[:20], framed[20:].replace(b"\n", b"\r\n"),
              b"data: {\"cut"]
    transport = httpx.MockTransport(lambda _r: stream_response(iter(chunks)))

    with ChatClient("http://127.0.0.1:8000", transport=transport) as client:
        events = list(client.send("hi", None))

    assert events == [delta]


def test_parse_event_reads_chatkit_serialized_events() -> None:
    event = ThreadItemUpdatedEvent(
        item_id="msg_a1", update=AssistantMessageContentPartTextDelta(content_index=0, delta="Hi")
    )
    data = event.model_dump_json(by_alias=True, exclude_none=True)
    assert parse_event(data) == event


def test_parse_event_skips_event_and_item_types_from_a_newer_server() -> None:
    assert parse_event('{"type": "thread.teleported"}') is None
    new_item = {
        "type": "hologram",
        "id": "x",
        "thread_id": "thr_1",
        "created_at": "2026-05-01T09:30:00",
    }
    assert parse_event(json.dumps({"type": "thread.item.added", "item": new_item})) is None


def test_parse_event_refuses_a_malformed_known_event_in_one_line() -> None:
    with pytest.raises(ChatError) as caught:
        parse_event('{"type": "thread.item.updated", "item_id": "m"}')
    assert (
        str(caught.value)
        == "unreadable event from the chat server: thread.item.updated.update: Field required"
    )


def test_requests_are_ones_the_chat_server_accepts() -> None:
    create = parse_request(request_body(message_request("add milk", None)))
    assert isinstance(create, ThreadsCreateReq)
    assert create.params.input.content == [UserMessageTextContent(text="add milk")]
    check_input(create, max_message_chars=4000)
    add = parse_request(request_body(message_request("and eggs", "thr_1")))
    assert isinstance(add, ThreadsAddUserMessageReq)
    assert add.params.thread_id == "thr_1"


def test_http_error_message_uses_the_server_error_shape_or_says_what_answered() -> None:
    body = b'{"error": "not_found", "message": "thread thr_9 not found"}'
    assert (
        http_error_message(404, body, "http://h/chatkit") == "404 not found: thread thr_9 not found"
    )
    assert (
        http_error_message(404, b"<html>nope</html>", "http://h/chatkit")
        == "404 not found from http://h/chatkit (is that a taskchat chat server?)"
    )


def test_turn_view_shows_tool_activity_once_and_reply_text_in_order() -> None:
    view = TurnView()
    outputs = [output for event in reply_events() for output in view.feed(event)]
    assert outputs == [
        Output("tool", "add_task: Task 7 created: Buy milk"),
        Output("text", "Added "),
        Output("text", "Buy milk"),
        Output("text", " (task 7)."),
    ]
    assert (view.thread_id, view.title, view.answered, view.error) == (
        "thr_1",
        "add buy milk",
        True,
        None,
    )


def test_turn_view_shows_a_reply_that_arrives_whole_and_a_closed_failed_tool() -> None:
    # The server's failure path: the open workflow entry is closed in a done event, and the
    # apology arrives as one finished item with no deltas.
    failed = CustomTask(
        title="add_task", content="I couldn't reach the task server.", status_indicator="complete"
    )
    view = TurnView(thread_id="thr_1")
    events: list[ThreadStreamEvent] = [
        ThreadItemAddedEvent(item=workflow_item(RUNNING)),
        ThreadItemDoneEvent(item=workflow_item(failed)),
        ThreadItemDoneEvent(item=assistant_item("Please try again.")),
    ]
    assert [output for event in events for output in view.feed(event)] == [
        Output("tool", "add_task: I couldn't reach the task server."),
        Output("text", "Please try again."),
    ]


def test_turn_view_numbers_each_tool_of_a_workflow_separately() -> None:
    listed = CustomTask(title="list_tasks", content="2 task(s)", status_indicator="complete")
    view = TurnView()
    events: list[ThreadStreamEvent] = [
        ThreadItemAddedEvent(item=workflow_item(RUNNING)),
        ThreadItemUpdatedEvent(
            item_id="wf_1", update=WorkflowTaskUpdated(task_index=0, task=ADDED)
        ),
        ThreadItemUpdatedEvent(item_id="wf_1", update=WorkflowTaskAdded(task_index=1, task=listed)),
        ThreadItemDoneEvent(item=workflow_item(ADDED, listed)),
    ]
    assert [output for event in events for output in view.feed(event)] == [
        Output("tool", "add_task: Task 7 created: Buy milk"),
        Output("tool", "list_tasks: 2 task(s)"),
    ]


def test_terminal_puts_a_tool_line_after_unfinished_reply_text_on_its_own_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    term = Terminal(out, err)
    for output in [
        Output("text", "Let me check"),
        Output("tool", "list_tasks: 0 task(s)"),
        Output("text", "None."),
    ]:
        term.show(output)
    term.end_line()
    assert out.getvalue() == "Let me check\n  · list_tasks: 0 task(s)\nNone.\n"


def test_terminal_dims_tool_lines_only_with_colour() -> None:
    out = io.StringIO()
    Terminal(out, io.StringIO(), color=True).show(Output("tool", "add_task: done"))
    assert out.getvalue() == "\033[2m  · add_task: done\033[0m\n"


def test_thread_lines_align_ids_and_mark_the_current_thread(utc: None) -> None:
    threads = [thread("thr_10", "Groceries", T0), thread("thr_9", None, T0)]
    assert thread_lines(threads, current="thr_9") == [
        "  thr_10  2026-05-01 09:30  Groceries",
        "* thr_9   2026-05-01 09:30  (untitled)",
    ]


def test_format_when_shows_aware_times_in_local_time(utc: None) -> None:
    assert (
        format_when(datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
        == "2026-05-01 10:00"
    )


# --- --message -----------------------------------------------------------------------------


def test_message_prints_tool_activity_and_reply_and_exits_0(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "--message", "add buy milk") == 0
    out, err = capsys.readouterr()
    assert out == "  · add_task: Task 7 created: Buy milk\nAdded Buy milk (task 7).\n"
    assert err == "taskchat: new thread thr_1 (continue it with --thread thr_1)\n"
    assert fake.requests[0]["type"] == "threads.create"
    assert fake.requests[0]["params"]["input"]["content"] == [
        {"type": "input_text", "text": "add buy milk"}
    ]


def test_message_with_thread_continues_it(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.turns = [reply_events("thr_2", new_thread=False)]
    assert run(fake, "--thread", "thr_2", "--message", "add buy milk") == 0
    assert capsys.readouterr().err == ""
    assert fake.requests[0]["type"] == "threads.add_user_message"
    assert fake.requests[0]["params"]["thread_id"] == "thr_2"


def test_reply_text_is_printed_and_flushed_as_each_delta_arrives(
    fake: FakeChatKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FlushRecorder(io.StringIO):
        flushed = ""

        def flush(self) -> None:
            self.flushed = self.getvalue()

    out = FlushRecorder()
    monkeypatch.setattr(sys, "stdout", out)
    seen_before_next_chunk: list[str] = []

    def chunks() -> Iterator[bytes]:
        for event in reply_events():
            seen_before_next_chunk.append(out.flushed)
            yield sse(event)

    fake.override = lambda _body: stream_response(chunks())
    assert run(fake, "--message", "add buy milk") == 0
    # Each delta is on screen (flushed) before the server sends the next event.
    events = reply_events()
    delta_at = [
        i
        for i, e in enumerate(events)
        if isinstance(getattr(e, "update", None), AssistantMessageContentPartTextDelta)
    ]
    assert [seen_before_next_chunk[i + 1] for i in delta_at] == [
        "  · add_task: Task 7 created: Buy milk\nAdded ",
        "  · add_task: Task 7 created: Buy milk\nAdded Buy milk",
        "  · add_task: Task 7 created: Buy milk\nAdded Buy milk (task 7).",
    ]


def test_message_sends_the_bearer_token(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "--token", "abc.def.ghi", "--message", "hi") == 0
    assert fake.headers[0]["authorization"] == "Bearer abc.def.ghi"


def test_every_request_names_the_machines_time_zone(
    fake: FakeChatKit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("tzlocal.get_localzone_name", lambda: "Asia/Tokyo")
    assert run(fake, "--message", "add buy milk tomorrow") == 0
    assert fake.headers[0]["x-timezone"] == "Asia/Tokyo"


def test_token_comes_from_the_environment(
    fake: FakeChatKit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TASKCHAT_TOKEN", "env.token.value\n")
    assert run(fake, "--message", "hi") == 0
    assert fake.headers[0]["authorization"] == "Bearer env.token.value"


def test_message_exits_1_with_one_line_on_401(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.override = lambda _b: httpx.Response(
        401, json={"error": "unauthorized", "message": "token expired"}
    )
    assert run(fake, "--token", "old", "--message", "hi") == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "taskchat: 401 unauthorized: token expired\n")


def test_401_without_a_token_says_how_to_get_one(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.override = lambda _b: httpx.Response(
        401,
        json={
            "error": "unauthorized",
            "message": "authentication required: send a bearer token or session cookie",
        },
    )
    assert run(fake, "--message", "hi") == 1
    assert capsys.readouterr().err == (
        "taskchat: 401 unauthorized: authentication required: send a bearer token or session cookie"
        " (pass --token or set TASKCHAT_TOKEN; `taskchat token USER` mints one)\n"
    )


def test_message_exits_1_when_the_server_port_is_closed(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["--url", url, "--message", "hi"]) == 1
    assert capsys.readouterr().err == (
        f"taskchat: cannot reach the chat server at {url} (connection refused). "
        "Is it running? Start it with ./scripts/start\n"
    )


def test_message_exits_1_on_a_stream_error_event(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.turns = [
        [
            ThreadCreatedEvent(thread=thread("thr_1")),
            ThreadItemAddedEvent(item=assistant_item("")),
            ThreadItemUpdatedEvent(
                item_id="msg_a1",
                update=AssistantMessageContentPartTextDelta(content_index=0, delta="Work"),
            ),
            ErrorEvent(code=ErrorCode.STREAM_ERROR, allow_retry=True),
        ]
    ]
    assert run(fake, "--message", "hi") == 1
    out, err = capsys.readouterr()
    assert out == "Work\n"
    assert err == "taskchat: reply failed: the server failed while answering; try again\n"


def test_a_custom_error_event_shows_its_message(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.turns = [[ErrorEvent(code="custom", message="Thread is locked")]]
    assert run(fake, "--thread", "thr_1", "--message", "hi") == 1
    assert capsys.readouterr().err == "taskchat: reply failed: Thread is locked\n"


def test_message_exits_1_when_the_stream_ends_without_a_reply(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.turns = [[ThreadCreatedEvent(thread=thread("thr_1"))]]
    assert run(fake, "--message", "hi") == 1
    assert (
        capsys.readouterr().err == "taskchat: the chat server ended the reply without an answer\n"
    )


def test_message_exits_1_when_the_connection_drops_mid_reply(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    def chunks() -> Iterator[bytes]:
        yield sse(ThreadCreatedEvent(thread=thread("thr_1")))
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body"
        )

    fake.override = lambda _b: stream_response(chunks())
    assert run(fake, "--message", "hi") == 1
    assert capsys.readouterr().err == (
        "taskchat: the chat server at http://127.0.0.1:8000 closed the connection before it "
        "finished answering\n"
    )


def test_message_to_something_that_is_not_a_chat_server_exits_1(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.override = lambda _b: httpx.Response(
        200, headers={"content-type": "text/html"}, text="<html>"
    )
    assert run(fake, "--url", "http://127.0.0.1:9/app", "--message", "hi") == 1
    assert capsys.readouterr().err == (
        "taskchat: http://127.0.0.1:9/app/chatkit answered text/html, not an event stream "
        "(is that a taskchat chat server?)\n"
    )


def test_message_to_an_unknown_thread_reports_404(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.override = lambda _b: httpx.Response(
        404, json={"error": "not_found", "message": "thread thr_9 not found"}
    )
    assert run(fake, "--thread", "thr_9", "--message", "hi") == 1
    assert capsys.readouterr().err == "taskchat: 404 not found: thread thr_9 not found\n"


# --- --list --------------------------------------------------------------------------------


def test_list_prints_threads_newest_first(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str], utc: None
) -> None:
    assert run(fake, "--list") == 0
    assert capsys.readouterr().out == (
        "  thr_2  2026-05-02 09:30  what's due this week\n  thr_1  2026-05-01 09:30  add buy milk\n"
    )
    assert fake.requests == [
        {"type": "threads.list", "params": {"limit": 50, "order": "desc"}, "metadata": {}}
    ]


def test_list_with_no_threads_says_so(
    fake: FakeChatKit, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.threads = []
    assert run(fake, "--list") == 0
    assert capsys.readouterr().out == "No threads yet.\n"


def test_list_reports_an_unreachable_server_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(["--url", f"http://localhost:{port}/", "--list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"taskchat: cannot reach the chat server at http://localhost:{port} (")
    assert err.count("\n") == 1 and "Traceback" not in err


# --- Interactive mode ----------------------------------------------------------------------


def test_interactive_session_chats_switches_threads_and_quits(
    fake: FakeChatKit,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    utc: None,
) -> None:
    fake.turns = [
        reply_events("thr_1"),
        reply_events("thr_1", new_thread=False, deltas=["Second."]),
        reply_events("thr_2", new_thread=False, deltas=["On thr_2."]),
        reply_events("thr_3", deltas=["Fresh."]),
    ]
    script = (
        "add buy milk\nand again\n/threads\n/open thr_2\nmore\n/new\nhello\n/quit\nnever sent\n"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert run(fake) == 0
    out, err = capsys.readouterr()
    assert out == (
        "taskchat at http://127.0.0.1:8000. Type /help for commands.\n"
        "  · add_task: Task 7 created: Buy milk\n"
        "Added Buy milk (task 7).\n"
        "  · add_task: Task 7 created: Buy milk\n"
        "Second.\n"
        "  thr_2  2026-05-02 09:30  what's due this week\n"
        "* thr_1  2026-05-01 09:30  add buy milk\n"
        "you> what's due?\n"
        "  · list_tasks: 1 task(s)\n"
        "Buy milk is due tomorrow.\n"
        "  · add_task: Task 7 created: Buy milk\n"
        "On thr_2.\n"
        "New thread: your next message starts it.\n"
        "  · add_task: Task 7 created: Buy milk\n"
        "Fresh.\n"
    )
    assert err == ""
    sent = [(r["type"], r["params"].get("thread_id")) for r in fake.requests]
    assert sent == [
        ("threads.create", None),
        ("threads.add_user_message", "thr_1"),
        ("threads.list", None),
        ("items.list", "thr_2"),
        ("threads.add_user_message", "thr_2"),
        ("threads.create", None),
    ]


def test_interactive_reports_errors_and_keeps_going_until_end_of_input(
    fake: FakeChatKit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/open thr_9\n/open\n/frobnicate\n/help\n"))
    assert run(fake) == 0
    out, err = capsys.readouterr()
    assert "/open ID    switch to thread ID and show its history" in out
    assert err == (
        "taskchat: 404 not found: thread thr_9 not found\n"
        "taskchat: usage: /open THREAD_ID (see /threads)\n"
        "taskchat: unknown command /frobnicate; type /help\n"
    )


def test_interactive_with_thread_shows_its_history_first(
    fake: FakeChatKit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert run(fake, "--thread", "thr_2") == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "you> what's due?",
        "  · list_tasks: 1 task(s)",
        "Buy milk is due tomorrow.",
    ]
    assert fake.requests[0]["params"] == {"thread_id": "thr_2", "limit": 50, "order": "desc"}


def test_interactive_with_an_unknown_thread_exits_1(
    fake: FakeChatKit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello\n"))
    assert run(fake, "--thread", "thr_9") == 1
    assert capsys.readouterr().err == "taskchat: 404 not found: thread thr_9 not found\n"
    assert len(fake.requests) == 1


def test_interactive_ctrl_c_at_the_prompt_exits_0(
    fake: FakeChatKit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupt(_prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupt)
    assert run(fake) == 0
    assert fake.requests == []


def test_interactive_keeps_a_thread_created_before_the_reply_failed(
    fake: FakeChatKit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.turns = [
        [
            ThreadCreatedEvent(thread=thread("thr_5")),
            ErrorEvent(code="custom", message="model down"),
        ]
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("first\nsecond\n"))
    assert run(fake) == 0
    assert capsys.readouterr().err == "taskchat: reply failed: model down\n"
    assert fake.requests[1]["params"]["thread_id"] == "thr_5"


# --- Usage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--message", "  "], "--message is empty"),
        (["--list", "--message", "hi"], "not allowed with argument"),
        (["--list", "--thread", "thr_1"], "--list cannot be combined with --thread"),
        (["--url", "127.0.0.1:8000", "--list"], "is not an http(s) URL"),
        (["token", "alice", "--ttl", "0"], "is not a positive whole number"),
        (["token", "alice", "--expires", "30"], "'30' is not a duration: a whole number and a"),
        (["token", "alice", "--expires", "0d"], "'0d' is not a duration"),
        (["token", "alice", "--expires", "1d", "--ttl", "5"], "not allowed with argument"),
        (["hello"], "invalid choice: 'hello'"),
    ],
)
def test_bad_usage_exits_2_with_a_clear_message(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert complaint in err and "Traceback" not in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "--message TEXT" in capsys.readouterr().out


def test_module_run_reports_a_closed_port_in_one_line_without_traceback() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "taskchat_cli.cli", "--url", url, "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"taskchat: cannot reach the chat server at {url} (connection refused). "
        "Is it running? Start it with ./scripts/start\n"
    )


# --- token helper --------------------------------------------------------------------------


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    """Settings read from this test's environment only (no .env), and forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    for name in ("JWT_SECRET", "JWT_AUDIENCE", "JWT_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    get_common_settings.cache_clear()
    yield
    get_common_settings.cache_clear()


def test_token_prints_a_jwt_the_server_accepts(
    fresh_settings: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JWT_SECRET", "s3cret-for-tests-only-32-bytes!!")
    assert main(["token", "alice", "--ttl", "120"]) == 0
    token = capsys.readouterr().out.strip()
    settings = Settings(jwt_secret="s3cret-for-tests-only-32-bytes!!")
    assert verify_jwt(token, settings).user_id == "alice"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize(
    ("expires", "seconds"), [("45s", 45), ("15m", 900), ("12h", 43200), ("30d", 2592000)]
)
def test_token_expires_takes_a_duration_and_says_when_it_ends(
    fresh_settings: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    expires: str,
    seconds: int,
) -> None:
    monkeypatch.setenv("JWT_SECRET", "s3cret-for-tests-only-32-bytes!!")
    assert main(["token", "alice", "--expires", expires]) == 0
    out, err = capsys.readouterr()
    claims = jwt.decode(out.strip(), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == seconds
    ends = datetime.fromtimestamp(claims["exp"], UTC).isoformat().replace("+00:00", "Z")
    assert err == (
        f"taskchat: token for alice expires {ends}; its id is {claims['jti']} "
        "(list it in JWT_REVOKED_IDS to revoke it)\n"
    )


def test_token_lives_one_hour_by_default(
    fresh_settings: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JWT_SECRET", "s3cret-for-tests-only-32-bytes!!")
    assert main(["token", "alice"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600


def test_token_without_jwt_secret_exits_1_saying_why(
    fresh_settings: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "alice"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "taskchat: JWT_SECRET is not set (environment or .env): without it the server runs in "
        "local mode and needs no token\n"
    )
