"""Issue 19: "add X to <a task>" puts X under that task only when the words name the task by
the start of its title; anything looser stays one new task, as it read before."""

from typing import Any

from tests.chat_server.phrasings import Chat, TaskList

SEED: list[tuple[str, dict[str, Any], bool]] = [
    ("Meeting with the boss", {}, False),
    ("Freezer meal prep", {}, False),
    ("Plan the garden party", {}, False),
]


def _writes(said: str) -> list[tuple[str, dict[str, object]]]:
    calls, _ = Chat(task_list=TaskList(SEED)).turn(said)
    return [(c.name, c.args) for c in calls if c.name not in {"list_tasks", "list_lists"}]


def test_a_thing_added_to_a_task_named_by_its_start_is_a_subtask() -> None:
    assert _writes("add beef stew to the freezer meals") == [
        ("add_task", {"title": "Beef stew", "parent_id": 2})
    ]


def test_words_that_only_end_a_title_never_put_a_to_do_under_it() -> None:
    assert _writes("add talk to the boss") == [("add_task", {"title": "Talk to the boss"})]
    assert _writes("add chairs to the party") == [("add_task", {"title": "Chairs to the party"})]
