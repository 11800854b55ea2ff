"""Several writes of one message as one batch call (add_tasks, update_tasks, complete_tasks,
delete_tasks) when the task server offers it, else one call per task as before.

A batch answers each item on its own, in input order; the reply says each one's result,
a refused item in its own words, so one failure never hides the others. Deleting
CONFIRM_DELETE_FROM tasks or more is asked about first, and sent with confirm: true only
after the user said yes.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from chat_server.agent.markdown import plain
from chat_server.agent.offline.turns import Call, Replay, Say, Step, Task, ToolRun, finish
from shared.contract import (
    ADD_TASKS,
    COMPLETE_TASKS,
    CONFIRM_DELETE_FROM,
    DELETE_TASKS,
    MAX_BATCH_ITEMS,
    UPDATE_TASKS,
)

# The batch tools this model call may use: the ones the caller offered it.
_OFFERED: ContextVar[frozenset[str]] = ContextVar("offline_batches", default=frozenset())
# The batch tool for each single write.
BATCH_FOR = {
    "add_task": ADD_TASKS,
    "update_task": UPDATE_TASKS,
    "complete_task": COMPLETE_TASKS,
    "delete_task": DELETE_TASKS,
}
ASK_DELETE = "Delete these {count} tasks for good?"


@contextmanager
def offering(names: set[str]) -> Iterator[None]:
    """Within it, writes use the batch tools among `names`."""
    token = _OFFERED.set(frozenset(names) & set(BATCH_FOR.values()))
    try:
        yield
    finally:
        _OFFERED.reset(token)


def _batch_args(single: str, writes: list[dict[str, Any]], confirm: bool) -> dict[str, Any]:
    if single in {"add_task", "update_task"}:
        return {"items": writes}
    args: dict[str, Any] = {"task_ids": [one["task_id"] for one in writes]}
    if single == "complete_task" and writes[0].get("completed") is False:
        args["completed"] = False
    if single == "delete_task" and confirm:
        args["confirm"] = True
    return args


def as_change(item: Task) -> Task:
    """A batch item that was applied, in the shape one write answers (a TaskChange)."""
    task = item["task"]
    return {"task_id": task["id"], "title": task["title"], "status": item.get("status"),
            "task": task, "next_task": item.get("next_task")}  # fmt: skip


_VERB = {"add_task": "add", "update_task": "change", "complete_task": "complete",
         "delete_task": "delete"}  # fmt: skip


def _refused(single: str, write: dict[str, Any], item: Task) -> str:
    named = f"task {write['task_id']}" if "task_id" in write else f"“{plain(write['title'])}”"
    why = str(item.get("error") or "refused").strip().rstrip(".")
    return f"I couldn't {_VERB[single]} {named}: {plain(why[:200])}."


def _said(
    single: str, writes: list[dict[str, Any]], say: Callable[[Task, dict[str, Any]], str]
) -> Callable[[Any], str]:
    def each(result: Any) -> str:
        lines = [
            say(as_change(item), write) if item.get("ok") else _refused(single, write, item)
            for write, item in zip(writes, result["results"], strict=True)
        ]
        return "\n".join(lines)

    return each


def write_all(
    replay: Replay,
    single: str,
    writes: list[dict[str, Any]],
    say: Callable[[Task, dict[str, Any]], str],
    *,
    confirm: bool = False,
) -> Step:
    """Each write, as one batch call when there are several and the batch is offered (in
    chunks of MAX_BATCH_ITEMS), else one call each; then the reply for all of them."""
    batch = BATCH_FOR[single]
    said: list[str] = []
    if len(writes) > 1 and batch in _OFFERED.get():
        for start in range(0, len(writes), MAX_BATCH_ITEMS):
            chunk = writes[start : start + MAX_BATCH_ITEMS]
            args = _batch_args(single, chunk, confirm)
            step = finish(replay, batch, args, _said(single, chunk, say))
            if isinstance(step, Call):
                return step
            said.append(step.text)
        return Say("\n".join(said))
    for write in writes:
        step = finish(replay, single, write, partial(_say_one, say, write))
        if isinstance(step, Call):
            return step
        said.append(step.text)
    return Say("\n".join(said))


def _say_one(
    say: Callable[[Task, dict[str, Any]], str], write: dict[str, Any], change: Task
) -> str:
    return say(change, write)


def needs_asking(task_ids: list[int]) -> bool:
    """Whether deleting these tasks is asked about first."""
    return len(set(task_ids)) >= CONFIRM_DELETE_FROM


def ask_delete(task_ids: list[int]) -> Say:
    """The question before a large delete; a "yes" to it deletes them (steps.py)."""
    numbers = ", ".join(f"#{n}" for n in dict.fromkeys(task_ids))
    ask = ASK_DELETE.format(count=len(set(task_ids)))
    return Say(f"{ask} ({numbers}) Say “yes” to delete them, or tell me which to keep.")


_SINGLE_FOR = {batch: single for single, batch in BATCH_FOR.items()}


def one_by_one(run: ToolRun) -> list[ToolRun]:
    """A batch run as the one-task runs of the items it applied (what "undo" reverts); any
    other run as it is."""
    single = _SINGLE_FOR.get(run.name)
    result = run.result if single else None
    if single is None or not isinstance(result, dict):
        return [run]
    runs = []
    for item in result["results"]:
        if item.get("ok") and "task" in item:
            args = {"task_id": item["task"]["id"]} | (
                {"completed": False} if item.get("status") == "reopened" else {}
            )
            runs.append(ToolRun(single, args, json.dumps(as_change(item))))
    return runs
