"""The offline model writes several tasks of one message as one batch call (issue 24), says
each item's result, and asks before deleting five or more.

Each turn runs against the real task functions (tests/chat_server/phrasings.py), whose batch
tools apply every item on its own as the task server does.
"""

import json
from typing import Any

from chat_server.agent.task_tools import describe, outcome_of
from chat_server.conversation import widgets
from tests.chat_server.phrasings import _TOOLS, Chat, as_singles


def _made(calls: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(c.name, c.args) for c in calls]


def test_mark_three_tasks_done_is_one_complete_tasks_call_and_each_is_said() -> None:
    calls, reply = Chat().turn("mark task 3, 5 and 7 done")
    assert _made(calls) == [("complete_tasks", {"task_ids": [3, 5, 7]})]
    assert reply.splitlines() == [
        "Marked task 3 as done: Walk the dog.",
        "Marked task 5 as done: Email Sarah.",
        "Marked task 7 as done: Dentist appointment.",
    ]


def test_tasks_named_by_words_are_looked_up_first_then_completed_in_one_call() -> None:
    calls, reply = Chat().turn("I called the plumber and paid the rent")
    assert [c.name for c in calls if c.name != "list_tasks"] == ["complete_tasks"]
    assert calls[-1].args == {"task_ids": [2, 4]}
    assert "Marked task 2 as done: Call the plumber." in reply
    assert "Marked task 4 as done: Pay the rent." in reply


def test_several_new_tasks_are_one_add_tasks_call() -> None:
    calls, reply = Chat().turn("add milk, eggs and bread tomorrow")
    items = [{"title": t, "due": "2026-11-27"} for t in ("Milk", "Eggs", "Bread")]
    assert _made(calls) == [("add_tasks", {"items": items})]
    assert [line.split(":")[0] for line in reply.splitlines()] == [
        "Added task 21", "Added task 22", "Added task 23",
    ]  # fmt: skip


def test_a_refused_item_is_said_and_the_others_still_happen() -> None:
    chat = Chat()
    calls, reply = chat.turn("mark 3 and 99 done")
    assert _made(calls) == [("complete_tasks", {"task_ids": [3, 99]})]
    assert reply.splitlines() == [
        "Marked task 3 as done: Walk the dog.",
        "I couldn't complete task 99: Task 99 not found.",
    ]
    assert chat.task_list.all_tasks()[3]["completed"] is True


def test_deleting_five_tasks_asks_first_and_deletes_them_in_one_call_only_after_yes() -> None:
    chat = Chat()
    calls, asked = chat.turn("delete tasks 1, 2, 3, 4 and 5")
    assert calls == []
    assert asked.startswith("Delete these 5 tasks for good? (#1, #2, #3, #4, #5)")
    calls, reply = chat.turn("yes")
    assert _made(calls) == [("delete_tasks", {"task_ids": [1, 2, 3, 4, 5], "confirm": True})]
    assert len(reply.splitlines()) == 5 and reply.startswith("Deleted task 1: Buy milk.")
    assert not {1, 2, 3, 4, 5} & set(chat.task_list.all_tasks())


def test_deleting_five_tasks_and_then_saying_no_deletes_nothing() -> None:
    chat = Chat()
    chat.turn("delete tasks 1, 2, 3, 4 and 5")
    calls, _ = chat.turn("no")
    assert calls == []
    assert {1, 2, 3, 4, 5} <= set(chat.task_list.all_tasks())


def test_deleting_four_tasks_needs_no_question() -> None:
    calls, _ = Chat().turn("delete tasks 1, 2, 3 and 4")
    assert _made(calls) == [("delete_tasks", {"task_ids": [1, 2, 3, 4]})]


def test_reopening_several_is_one_complete_tasks_call_with_completed_false() -> None:
    chat = Chat()
    chat.turn("mark 1 and 2 done")
    calls, _ = chat.turn("reopen 1 and 2")
    assert _made(calls) == [("complete_tasks", {"task_ids": [1, 2], "completed": False})]


def test_without_the_batch_tools_each_task_is_its_own_call() -> None:
    singles = [tool for tool in _TOOLS if not tool.name.endswith("_tasks")]
    calls, reply = Chat(tools=singles).turn("mark task 3, 5 and 7 done")
    assert _made(calls) == [("complete_task", {"task_id": n}) for n in (3, 5, 7)]
    assert len(reply.splitlines()) == 3


def test_a_batch_reads_as_the_writes_it_stands_for() -> None:
    calls, _ = Chat().turn("mark task 3 and 5 done")
    assert _made(as_singles(calls)) == [("complete_task", {"task_id": n}) for n in (3, 5)]


def _batch_output(chat: Chat, text: str) -> tuple[str, str]:
    """The last call of the turn and the task list's answer to it, as the model saw it."""
    calls, _ = chat.turn(text)
    return calls[-1].name, chat.items[-2]["output"]


def test_the_chat_servers_summary_and_card_show_each_item_of_a_batch() -> None:
    name, output = _batch_output(Chat(), "mark 3, 5 and 99 done")
    assert name == "complete_tasks" and json.loads(output)["failed"] == 1
    summary = describe(name, outcome_of(name, output))
    assert summary.splitlines() == [
        "Completed “Walk the dog”",
        "Completed “Email Sarah”",
        "Refused: Task 99 not found",
    ]
    widget = widgets.widget_for_turn([(name, output)])
    assert widget is not None
    tree = widget.model_dump(mode="json", exclude_none=True)
    assert tree["status"]["text"] == "Changed tasks: 2"
    assert [row["key"] for row in tree["children"]] == ["task-3", "task-5"]
