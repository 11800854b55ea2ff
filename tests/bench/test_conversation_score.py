"""The held-out scorer's checks: what a new task may differ in from the spec without blame."""

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bench.conversation_score import spec_problems

TODAY = date(2026, 12, 7)
UTC = ZoneInfo("UTC")


def task(**fields: Any) -> dict[str, Any]:
    return {
        "task_id": 9, "title": "Book the venue", "description": "", "due": None,
        "priority": "medium", "tags": [], "recurrence": "none", "repeat": None,
        "completed": False, "list": "Inbox", "parent_id": None, "reminders": [], **fields,
    }  # fmt: skip


def test_a_new_subtask_may_be_in_its_parents_list_but_a_new_task_must_be_in_the_inbox() -> None:
    parent = task(task_id=1, title="Plan the party", list="Work")
    tasks = {1: parent}
    subtask = task(list="Work", parent_id=1)
    assert spec_problems(subtask, {"title": "venue", "parent": "party"}, TODAY, UTC,
                         created=True, tasks=tasks) == []  # fmt: skip
    loose = task(list="Work")
    assert spec_problems(loose, {"title": "venue"}, TODAY, UTC, created=True, tasks=tasks) == [
        "list 'Work'"
    ]
    # A list the spec names still counts for a subtask.
    assert spec_problems(subtask, {"title": "venue", "parent": "party", "list": "Home"}, TODAY,
                         UTC, created=True, tasks=tasks) == ["list 'Work'"]  # fmt: skip
