"""Requests the ChatKit protocol allows but this server cannot carry out: a 4xx, never a 500.

In-process (ASGI client, real SQLite store, scripted model). Each refusal leaves the thread as
it was, and the thread's next turn still works.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from agents.testing import ScriptedModel, assistant_message
from chatkit.types import ClientToolCallItem, StructuredInputFreeform, StructuredInputItem

from chat_server.app import create_app
from chat_server.conversation.store import SQLStore
from shared.auth import Principal
from shared.db import make_engine
from shared.settings import Settings
from tests.chat_server.app_client import (
    assistant_texts,
    create_thread,
    harness,
    items_of,
    post,
    sse_events,
    user_input,
)
from tests.chat_server.fakes import FakeTaskServer

LOCAL = Principal("local")
Ids = dict[str, str]
ACTION = {"type": "task.complete", "payload": {"task_id": 1}}


def replies(count: int) -> list[Any]:
    return [[assistant_message(f"Reply {n}.", item_id=f"msg_r{n}")] for n in range(count)]


def say(thread: str, message: dict[str, Any]) -> dict[str, Any]:
    return {"type": "threads.add_user_message", "params": {"thread_id": thread, "input": message}}


def tagged(text: str) -> dict[str, Any]:
    tag = {"type": "input_tag", "id": "tag_1", "text": "milk", "data": {"task_id": 1}}
    return {**user_input(text), "content": [{"type": "input_text", "text": text}, tag]}


# (request from the thread's ids, status, JSON body from the same ids)
ODD_REQUESTS: dict[str, tuple[Callable[[Ids], dict], int, Callable[[Ids], dict]]] = {
    "client tool output with none pending": (
        lambda ids: {
            "type": "threads.add_client_tool_output",
            "params": {"thread_id": ids["thread"], "result": {"ok": True}},
        },
        400,
        lambda ids: {
            "error": "bad_request",
            "message": f"no client tool call is pending in thread {ids['thread']}",
        },
    ),
    "sync custom action without an item": (
        lambda ids: {
            "type": "threads.sync_custom_action",
            "params": {"thread_id": ids["thread"], "action": ACTION},
        },
        400,
        lambda ids: {
            "error": "unsupported",
            "message": "threads.sync_custom_action is not supported here",
        },
    ),
    "sync custom action on a user message": (
        lambda ids: {
            "type": "threads.sync_custom_action",
            "params": {"thread_id": ids["thread"], "item_id": ids["user"], "action": ACTION},
        },
        400,
        lambda ids: {
            "error": "unsupported",
            "message": "threads.sync_custom_action is not supported here",
        },
    ),
    "custom action on a user message": (
        lambda ids: {
            "type": "threads.custom_action",
            "params": {"thread_id": ids["thread"], "item_id": ids["user"], "action": ACTION},
        },
        400,
        lambda ids: {
            "error": "wrong_item",
            "message": f"threads.custom_action needs a widget; item {ids['user']} is of type "
            "user_message",
        },
    ),
    "structured input on a user message": (
        lambda ids: {
            "type": "threads.add_structured_input",
            "params": {"thread_id": ids["thread"], "item_id": ids["user"], "input": {}},
        },
        400,
        lambda ids: {
            "error": "wrong_item",
            "message": "threads.add_structured_input needs a pending structured input; "
            f"item {ids['user']} is of type user_message",
        },
    ),
    "retry after an assistant message": (
        lambda ids: {
            "type": "threads.retry_after_item",
            "params": {"thread_id": ids["thread"], "item_id": ids["assistant"]},
        },
        400,
        lambda ids: {
            "error": "wrong_item",
            "message": "threads.retry_after_item needs a user message; "
            f"item {ids['assistant']} is of type assistant_message",
        },
    ),
    "a message with an input_tag": (
        lambda ids: say(ids["thread"], tagged("what about ")),
        400,
        lambda ids: {
            "error": "unsupported",
            "message": "input_tag content (@-mentions) is not supported",
        },
    ),
    "a short message quoting 60,000 characters": (
        lambda ids: say(ids["thread"], {**user_input("this"), "quoted_text": "q" * 60_000}),
        413,
        lambda ids: {
            "error": "message_too_long",
            "message": "message with its quoted text is 60004 characters; the limit is 4000",
        },
    ),
}


@pytest.mark.parametrize("case", ODD_REQUESTS, ids=str)
async def test_odd_requests_are_refused_and_the_thread_still_works(tmp_path: Path, case) -> None:
    request, status, body = ODD_REQUESTS[case]
    async with harness(tmp_path, replies(2)) as h:
        events = await create_thread(h.client, "hello")
        thread = events[0]["thread"]["id"]
        before = await items_of(h.client, thread)
        ids = {"thread": thread, "user": before[0]["id"], "assistant": before[1]["id"]}
        response = await post(h.client, request(ids))
        assert (response.status_code, response.json()) == (status, body(ids))
        assert await items_of(h.client, thread) == before
        next_turn = await post(h.client, say(thread, user_input("and now?")))
        assert assistant_texts(sse_events(next_turn)) == ["Reply 1."]


async def test_a_pending_client_tool_call_takes_its_output(tmp_path: Path) -> None:
    async with harness(tmp_path, replies(2)) as h:
        thread = (await create_thread(h.client, "hello"))[0]["thread"]["id"]
        call = ClientToolCallItem(
            id="ctc_1",
            thread_id=thread,
            created_at=datetime.now(),
            call_id="call_1",
            name="pick_color",
            arguments={},
        )
        await SQLStore(make_engine(h.settings.database_url)).add_thread_item(thread, call, LOCAL)
        output = {"type": "threads.add_client_tool_output", "params": {"thread_id": thread}}
        response = await post(h.client, {**output, "params": {**output["params"], "result": 1}})
        assert assistant_texts(sse_events(response)) == ["Reply 1."]
        saved = [i for i in await items_of(h.client, thread) if i["id"] == "ctc_1"]
        assert (saved[0]["status"], saved[0]["output"]) == ("completed", 1)
        again = await post(h.client, {**output, "params": {**output["params"], "result": 2}})
        assert (again.status_code, again.json()["message"]) == (
            400,
            f"no client tool call is pending in thread {thread}",
        )


async def test_a_structured_input_is_answered_once(tmp_path: Path) -> None:
    async with harness(tmp_path, replies(2)) as h:
        thread = (await create_thread(h.client, "hello"))[0]["thread"]["id"]
        question = StructuredInputItem(
            id="si_1",
            thread_id=thread,
            created_at=datetime.now(),
            inputs=[StructuredInputFreeform(id="q1", question="Which list?")],
        )
        store = SQLStore(make_engine(h.settings.database_url))
        await store.add_thread_item(thread, question, LOCAL)
        answer = {
            "type": "threads.add_structured_input",
            "params": {
                "thread_id": thread,
                "item_id": "si_1",
                "input": {"answers": {"q1": {"values": ["home"]}}},
            },
        }
        response = await post(h.client, answer)
        assert assistant_texts(sse_events(response)) == ["Reply 1."]
        assert (await store.load_item(thread, "si_1", LOCAL)).status == "answered"
        again = await post(h.client, answer)
        assert (again.status_code, again.json()) == (
            400,
            {"error": "wrong_item", "message": "item si_1 was already answered"},
        )


async def test_a_client_that_hangs_up_mid_body_leaves_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'chat.db'}")
    app = create_app(settings, model=ScriptedModel([]), mcp_server=FakeTaskServer())
    sent: list[dict[str, Any]] = []
    chunks = [
        {"type": "http.request", "body": b'{"type": "threads.li', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/chatkit",
        "raw_path": b"/chatkit",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", b"1000"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    async with app.router.lifespan_context(app):
        with caplog.at_level(logging.DEBUG):
            await app(scope, receive, send)
    assert sent == []  # nobody is left to read an answer
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "client hung up after 20 bytes of its request body" in caplog.text
