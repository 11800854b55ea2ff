""" "undo": revert the last turn of this chat that changed tasks, through the same tools.

Each change has an inverse: an add (or a restore) is deleted, a delete is restored
(restore_task: the same task under its own id, with its subtasks), a completion is reopened
(and the next occurrence it created removed), and an update puts back the fields it
changed, as the chat last saw them before the change.
"""

from datetime import datetime
from functools import partial
from typing import Any

from chat_server.agent.offline import replies
from chat_server.agent.offline.batches import one_by_one
from chat_server.agent.offline.turns import (
    Call,
    Conversation,
    Replay,
    Say,
    Step,
    Task,
    ToolRun,
    finish,
)
from shared.contract import ADD_TASK, CHANGE_TOOLS, DELETE_TASK, RESTORE_TASK

# An undone delete is a restore, which "undo" again deletes.
_UNDOABLE = CHANGE_TOOLS | {RESTORE_TASK}
NOTHING_TO_UNDO = "There's nothing to undo: I haven't changed any of your tasks in this chat yet."
# What update_task takes to clear a field.
_EMPTY: dict[str, Any] = {"due": "", "description": "", "tags": [], "repeat": "", "reminders": [],
                          "parent_id": 0}  # fmt: skip


def snapshot(task_id: int, runs: list[ToolRun]) -> Task | None:
    """The task as the latest of `runs` showed it, or None when none did."""
    for run in reversed(runs):
        result = run.result
        if not isinstance(result, dict):
            continue
        shown = list(result.get("tasks") or []) + [result.get("task"), result]
        for task in shown:
            if isinstance(task, dict) and task.get("id") == task_id and "title" in task:
                return task
    return None


def _inverse(run: ToolRun, before: list[ToolRun]) -> list[tuple[str, dict[str, Any]]] | None:
    """The calls that revert one change, or None when the state before it is unknown."""
    change = run.result
    assert isinstance(change, dict)
    task_id = change["task_id"]
    if run.name in (ADD_TASK, RESTORE_TASK):
        return [(DELETE_TASK, {"task_id": task_id})]
    if run.name == DELETE_TASK:
        return [(RESTORE_TASK, {"task_id": task_id})]
    if run.name == "complete_task":
        if change["status"] == "reopened":
            return [("complete_task", {"task_id": task_id})]
        calls = [("complete_task", {"task_id": task_id, "completed": False})]
        if change.get("next_task"):
            calls.append(("delete_task", {"task_id": change["next_task"]["id"]}))
        return calls
    old = snapshot(task_id, before)
    if old is None:
        return None
    # Skipping an occurrence moved its due: putting the due back undoes it.
    fields = [{"skip": "due"}.get(name, name) for name in run.args if name != "task_id"]
    args = {name: _EMPTY.get(name) if old.get(name) is None else old.get(name) for name in fields}
    return [("update_task", {"task_id": task_id, **args})]


def _last_changes(conversation: Conversation) -> tuple[list[ToolRun], list[ToolRun]]:
    """The successful changes of the latest turn that made any, and every run before them."""
    for index in range(len(conversation.earlier) - 1, -1, -1):
        turn = [one for run in conversation.earlier[index] for one in one_by_one(run)]
        changes = [r for r in turn if r.name in _UNDOABLE and isinstance(r.result, dict)]
        if changes:
            before = [one for t in conversation.earlier[:index] for r in t for one in one_by_one(r)]
            return changes, before + turn
    return [], []


def undo(conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """The next call that reverts the last change, or the reply saying what was restored."""
    changes, history = _last_changes(conversation)
    if not changes:
        return Say(NOTHING_TO_UNDO)
    plan: list[tuple[str, dict[str, Any]]] = []
    for run in reversed(changes):
        calls = _inverse(run, history[: history.index(run)])
        if calls is None:
            return Say(replies.cannot_undo(run.result["task_id"]))
        plan += calls
    said = []
    for name, args in plan:
        step = finish(replay, name, args, partial(replies.undone, name, now=now))
        if isinstance(step, Call):
            return step
        said.append(step.text)
    return Say("Undone. " + " ".join(said))
