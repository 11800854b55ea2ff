"""Widget actions: the right MCP call for the authenticated user, widgets redrawn in place,
refusals in plain words, and nothing changed on a task that is not the caller's."""

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from agents.testing import ScriptedModel, assistant_message, function_call
from chatkit.actions import Action
from chatkit.server import StreamingResult
from chatkit.types import (
    AssistantMessageItem,
    HiddenContextItem,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    WidgetItem,
)
from sqlalchemy import Engine

from chat_server.agent.agent import build_agent, user_meta
from chat_server.agent.task_tools import TOOL_RECORD
from chat_server.conversation import widgets
from chat_server.conversation.actions import handle_action
from chat_server.conversation.server import TaskChatServer
from chat_server.conversation.store import SQLStore
from shared.auth import Principal
from shared.contract import TaskDict
from shared.db import make_engine
from shared.migrate import upgrade_all
from tests.chat_server.fakes import TaskMCP, make_task

ALICE, BOB = Principal("alice"), Principal("bob")
THREAD = ThreadMetadata(id="thr_1", created_at=datetime(2025, 6, 1, 9, 0))


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    upgrade_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> SQLStore:
    return SQLStore(engine)


@pytest.fixture
def mcp() -> TaskMCP:
    return TaskMCP()


def list_item(*tasks: TaskDict) -> WidgetItem:
    return WidgetItem(id="msg_widget", thread_id=THREAD.id, created_at=datetime(2025, 6, 1),
                      widget=widgets.task_list(list(tasks)))


async def run(mcp: TaskMCP, store: SQLStore, kind: str, payload: Any, sender: WidgetItem | None,
              *, user: Principal = ALICE) -> list[Any]:
    action: Action[str, Any] = Action(type=kind, payload=payload)
    events = handle_action(mcp, store, THREAD, action, sender=sender, context=user)
    return [event async for event in events]


def dump(widget: Any) -> Any:
    return widget.model_dump(mode="json", exclude_none=True)


def dump_widget(item: Any) -> Any:
    assert isinstance(item, WidgetItem)
    return dump(item.widget)


def messages(events: list[Any]) -> list[str]:
    return [part.text for e in events if isinstance(e, ThreadItemDoneEvent)
            and isinstance(e.item, AssistantMessageItem) for part in e.item.content]


async def test_complete_calls_complete_task_for_the_authenticated_user_and_redraws_the_row(
    mcp: TaskMCP, store: SQLStore
) -> None:
    milk = mcp.own(ALICE, make_task(1, "buy milk"))
    walk = mcp.own(ALICE, make_task(2, "walk"))
    sender = list_item(milk, walk)

    events = await run(mcp, store, "task.complete", {"task_id": 1}, sender)

    assert mcp.calls == [("complete_task", {"task_id": 1, "completed": True},
                          {"taskchat/user_id": "alice"})]
    replaced = [e for e in events if isinstance(e, ThreadItemReplacedEvent)]
    assert len(replaced) == 1
    assert replaced[0].item.id == "msg_widget"
    assert dump_widget(replaced[0].item)["children"] == [
        widgets.task_row(make_task(1, "buy milk", completed=True)),
        widgets.task_row(make_task(2, "walk")),
    ]
    assert messages(events) == []


async def test_reopen_calls_complete_task_with_completed_false(
    mcp: TaskMCP, store: SQLStore
) -> None:
    done = mcp.own(ALICE, make_task(1, "buy milk", completed=True))
    sender = WidgetItem(id="msg_card", thread_id=THREAD.id, created_at=datetime(2025, 6, 1),
                        widget=widgets.task_card(done, status="Task completed"))

    events = await run(mcp, store, "task.reopen", {"task_id": 1}, sender)

    assert mcp.calls == [("complete_task", {"task_id": 1, "completed": False},
                          {"taskchat/user_id": "alice"})]
    (replaced,) = [e for e in events if isinstance(e, ThreadItemReplacedEvent)]
    assert dump_widget(replaced.item) == dump(
        widgets.task_card(make_task(1, "buy milk"), status="Task reopened"))


async def test_delete_calls_delete_task_and_marks_the_row_deleted(
    mcp: TaskMCP, store: SQLStore
) -> None:
    milk = mcp.own(ALICE, make_task(1, "buy milk"))

    events = await run(mcp, store, "task.delete", {"task_id": 1}, list_item(milk))

    assert mcp.calls == [("delete_task", {"task_id": 1}, {"taskchat/user_id": "alice"})]
    assert mcp.tasks == {}
    (replaced,) = [e for e in events if isinstance(e, ThreadItemReplacedEvent)]
    assert dump_widget(replaced.item)["children"] == [widgets.task_row(milk, deleted=True)]


async def test_undo_on_a_deleted_card_restores_the_same_task_and_says_so(
    mcp: TaskMCP, store: SQLStore
) -> None:
    milk = mcp.own(ALICE, make_task(1, "buy milk"))
    sender = WidgetItem(id="msg_card", thread_id=THREAD.id, created_at=datetime(2025, 6, 1),
                        widget=widgets.task_card(milk, status="Task added"))
    (deleted,) = [e.item for e in await run(mcp, store, "task.delete", {"task_id": 1}, sender)
                  if isinstance(e, ThreadItemReplacedEvent)]
    assert isinstance(deleted, WidgetItem)

    # Bob cannot undo Alice's delete; Alice can, once.
    refused = await run(mcp, store, "task.restore", {"task_id": 1}, deleted, user=BOB)
    events = await run(mcp, store, "task.restore", {"task_id": 1}, deleted)
    again = await run(mcp, store, "task.restore", {"task_id": 1}, deleted)

    assert messages(refused) == [
        "I couldn't restore task 1: Task 1 not found. Nothing was changed."]
    assert mcp.calls[-2][:2] == ("restore_task", {"task_id": 1})
    assert mcp.tasks == {1: milk}
    (replaced,) = [e for e in events if isinstance(e, ThreadItemReplacedEvent)]
    assert dump_widget(replaced.item) == dump(widgets.task_card(milk, status="Task restored"))
    assert messages(again) == ["I couldn't restore task 1: Task 1 not found. Nothing was changed."]


async def test_action_is_recorded_for_the_next_turns_model(mcp: TaskMCP, store: SQLStore) -> None:
    milk = mcp.own(ALICE, make_task(1, "buy milk"))

    events = await run(mcp, store, "task.complete", {"task_id": 1}, list_item(milk))

    (hidden,) = [e.item for e in events if isinstance(e, ThreadItemDoneEvent)
                 and isinstance(e.item, HiddenContextItem)]
    record = hidden.content[TOOL_RECORD]
    assert record["name"] == "complete_task"
    assert json.loads(record["arguments"]) == {"task_id": 1, "completed": True}
    assert json.loads(record["output"])["status"] == "completed"


async def test_action_on_another_users_task_is_refused_and_changes_nothing(
    mcp: TaskMCP, store: SQLStore
) -> None:
    bobs = mcp.own(BOB, make_task(1, "bob's secret"))

    events = await run(mcp, store, "task.delete", {"task_id": 1}, list_item(bobs), user=ALICE)

    # The user sent to the MCP server is the authenticated one, whatever the widget showed.
    assert mcp.calls == [("delete_task", {"task_id": 1}, {"taskchat/user_id": "alice"})]
    assert messages(events) == ["I couldn't delete task 1: Task 1 not found. Nothing was changed."]
    assert not [e for e in events if isinstance(e, ThreadItemReplacedEvent)]
    assert mcp.tasks == {1: make_task(1, "bob's secret")}


async def test_action_on_a_missing_task_is_refused_in_plain_words(
    mcp: TaskMCP, store: SQLStore
) -> None:
    events = await run(mcp, store, "task.complete", {"task_id": 999}, None)

    assert messages(events) == [
        "I couldn't complete task 999: Task 999 not found. Nothing was changed."
    ]


@pytest.mark.parametrize("payload", [None, {}, {"task_id": "1"}, {"task_id": True},
                                     {"task_id": 0}, [1]])
async def test_action_without_a_valid_task_id_makes_no_call(
    mcp: TaskMCP, store: SQLStore, payload: Any
) -> None:
    events = await run(mcp, store, "task.complete", payload, None)

    assert mcp.calls == []
    assert messages(events) == [
        "That button did not say which task it is for, so nothing was changed."
    ]


async def test_unknown_action_makes_no_call(mcp: TaskMCP, store: SQLStore) -> None:
    events = await run(mcp, store, "task.explode", {"task_id": 1}, None)

    assert mcp.calls == []
    assert messages(events) == ["I don't know the action 'task.explode', so nothing was changed."]


async def test_action_while_the_task_server_is_down_says_so(mcp: TaskMCP, store: SQLStore) -> None:
    mcp.own(ALICE, make_task(1, "buy milk"))
    mcp.down = ConnectionError("refused")

    events = await run(mcp, store, "task.complete", {"task_id": 1}, None)

    assert messages(events) == [
        "Something went wrong while answering (ConnectionError). Please retry."
    ]
    assert not [e for e in events if isinstance(e, ThreadItemReplacedEvent)]


async def test_custom_action_request_updates_the_stored_widget_in_place(
    mcp: TaskMCP, store: SQLStore
) -> None:
    server = TaskChatServer(store, build_agent(ScriptedModel([]), mcp), mcp)
    await store.save_thread(THREAD, context=ALICE)
    milk = mcp.own(ALICE, make_task(1, "buy milk"))
    await store.add_thread_item(THREAD.id, list_item(milk), context=ALICE)
    request = {"type": "threads.custom_action", "params": {
        "thread_id": THREAD.id, "item_id": "msg_widget",
        "action": {"type": "task.complete", "payload": {"task_id": 1}},
    }}

    result = await server.process(json.dumps(request), ALICE)
    assert isinstance(result, StreamingResult)
    events = [json.loads(chunk[6:]) async for chunk in result if chunk.startswith(b"data: ")]

    assert [e["type"] for e in events] == ["stream_options", "thread.item.replaced"]
    stored = await store.load_item(THREAD.id, "msg_widget", context=ALICE)
    assert dump_widget(stored)["children"] == [
        widgets.task_row(make_task(1, "buy milk", completed=True))
    ]


async def test_a_turn_that_adds_a_task_ends_with_its_card(mcp: TaskMCP, store: SQLStore) -> None:
    model = ScriptedModel([
        [function_call("add_task", {"title": "buy milk"}, call_id="call_1")],
        [assistant_message("Added task 1.", item_id="msg_turn_1")],
    ])
    mcp.tool_meta_resolver = user_meta
    server = TaskChatServer(store, build_agent(model, mcp), mcp)
    request = {"type": "threads.create", "params": {"input": {
        "content": [{"type": "input_text", "text": "add buy milk"}], "attachments": [],
        "inference_options": {}}}}

    result = await server.process(json.dumps(request), ALICE)
    assert isinstance(result, StreamingResult)
    events = [json.loads(chunk[6:]) async for chunk in result if chunk.startswith(b"data: ")]

    assert mcp.calls == [("add_task", {"title": "buy milk"}, {"taskchat/user_id": "alice"})]
    done = [e["item"] for e in events if e["type"] == "thread.item.done"]
    assert [item["type"] for item in done] == [
        "user_message", "workflow", "assistant_message", "widget"]
    assert done[-1]["widget"] == dump(
        widgets.task_card(make_task(1, "buy milk"), status="Task added"))


async def test_an_action_without_a_card_repeats_a_link_title_as_text_not_a_link(
    mcp: TaskMCP, store: SQLStore
) -> None:
    mcp.own(ALICE, make_task(1, "[Session expired](https://evil.example/login)"))

    events = await run(mcp, store, "task.complete", {"task_id": 1}, None)

    assert messages(events) == [
        r"Task 1 completed: \[Session expired\](https\://evil.example/login)"
    ]
