"""Acting on tasks named in a request: find the one task meant (by number, by words with
typos forgiven, or by the conversation), then show, complete, reopen, delete or change it;
and moving every task a query finds, once the user has said yes."""

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from chat_server.agent.offline import replies
from chat_server.agent.offline.batches import ask_delete, needs_asking, write_all
from chat_server.agent.offline.dates import DateError, When, parse_due, shifted
from chat_server.agent.offline.fuzzy import closest
from chat_server.agent.offline.intents import (
    ActOnTask,
    ById,
    ByIds,
    ByNames,
    ByPosition,
    ByWords,
    TaskRef,
)
from chat_server.agent.offline.phrases import DATE_HINT
from chat_server.agent.offline.turns import (
    Call,
    Conversation,
    Replay,
    Say,
    Step,
    Task,
    finish,
    tasks_in_view,
)
from chat_server.agent.offline.undo import snapshot

_LOOKUP_STATUS = {"complete": "pending", "reopen": "completed"}
FUZZY_PAGE = 200  # the most tasks one list_tasks call returns


def lookup_args(action: str, target: ByWords) -> dict[str, Any]:
    """The list_tasks call that finds a task named by words."""
    status = _LOOKUP_STATUS.get(action)
    return {"search": target.words} | ({"status": status} if status else {})


def _fuzzy_args(action: str) -> dict[str, Any]:
    # Every title, subtasks' too: "tick off pack books" names a step of "Move house".
    status = _LOOKUP_STATUS.get(action)
    return ({"status": status} if status else {}) | {"limit": FUZZY_PAGE, "subtasks": "all"}


def _narrowed(found: list[Task], target: ByWords) -> list[Task]:
    """One exact title, else the tasks whose title starts with the verb said, else all."""
    said = target.words.lower()
    exact = [
        t
        for t in found
        if t.get("title", "").lower() in {said, *(f"{v} {said}" for v in target.verbs)}
    ]
    if len(exact) == 1:
        return exact
    if target.verbs:
        led = [t for t in found if t.get("title", "").lower().startswith(target.verbs)]
        return led or found
    return found


def fuzzy_query(target: ByWords) -> str:
    """The words to compare with titles: "picked up the dry cleaning" -> "pick up ... cleaning"."""
    return f"{target.verbs[0]} {target.words}" if target.verbs else target.words


def matches(target: ByWords, runs: list[Any]) -> list[Task]:
    """The tasks the lookup runs found for `target` (the search, then a typo-tolerant pass)."""
    found: list[Task] = []
    for run in runs:
        if run.name != "list_tasks" or not isinstance(run.result, dict):
            continue
        tasks = list(run.result.get("tasks") or [])
        found = (
            _narrowed(tasks, target)
            if "search" in run.args
            else closest(fuzzy_query(target), tasks)
        )
    return found


def _find_by_words(
    action: str, target: ByWords, replay: Replay, now: datetime
) -> tuple[Task | None, Step | None]:
    """The one task the words name, or the step that looks it up or asks which."""
    lookup = lookup_args(action, target)
    # The words first; when nothing has them, every title, typos forgiven.
    found: list[Task] = []
    for args in (lookup, _fuzzy_args(action)):
        run = replay.next()
        if run is None:
            return None, Call("list_tasks", args)
        if not isinstance(run.result, dict):
            return None, Say(replies.tool_error(run.failure))
        if found := matches(target, [run]):
            break
    if not found:
        return None, Say(replies.no_match(target.words, lookup.get("status")))
    if len(found) > 1 or not named_by_what_was_done(found[0], target):
        return None, Say(replies.candidates(found, action, target.words, now))
    return found[0], None


def named_by_what_was_done(task: Task, target: ByWords) -> bool:
    """Whether one task found for "I <verb>ed the <words>" starts with that verb (or is just
    the words): "I walked the dog" means "Walk the dog", "I sold the car" not "Car wash"."""
    title = task.get("title", "").lower()
    return not target.verbs or title.startswith(target.verbs) or title == target.words.lower()


def act(
    intent: ActOnTask, conversation: Conversation, replay: Replay, now: datetime,
    *, confirmed: bool = False,
) -> Step:  # fmt: skip
    """Find the task (or tasks) the intent names, then act on each; several completed,
    reopened or deleted at once are one batch call (a large delete asked about first)."""
    target = intent.target
    if isinstance(target, ByIds):
        ones: list[TaskRef] = [ById(task_id) for task_id in target.task_ids]
    elif isinstance(target, ByNames):
        ones = list(target.names)
    else:
        return _act_on_one(intent, conversation, replay, now)
    if intent.action in _WRITE:
        return _act_on_all(intent, ones, conversation, replay, now, confirmed=confirmed)
    said: list[str] = []
    for one in ones:
        step = _act_on_one(replace(intent, target=one), conversation, replay, now)
        if isinstance(step, Call):
            return step
        said.append(step.text)
    return Say("\n".join(said))


def _act_on_all(
    intent: ActOnTask, ones: list[TaskRef], conversation: Conversation, replay: Replay,
    now: datetime, *, confirmed: bool,
) -> Step:  # fmt: skip
    """Find every task first (lookups, in order), then write them all in one go."""
    ids: list[int] = []
    unfound: list[str] = []
    for one in ones:
        resolved = _resolve(replace(intent, target=one), conversation, replay, now)
        if isinstance(resolved, Call):
            return resolved
        if isinstance(resolved, Say):
            unfound.append(resolved.text)
        elif resolved[0] not in ids:
            ids.append(resolved[0])
    if intent.action == "delete" and needs_asking(ids) and not confirmed:
        return ask_delete(ids)
    single, extra, say = _WRITE[intent.action]
    writes = [{"task_id": task_id, **extra} for task_id in ids]
    step = write_all(replay, single, writes, lambda c, _: say(c, now), confirm=confirmed)
    if isinstance(step, Call) or not unfound:
        return step
    return Say("\n".join(filter(None, [step.text, *unfound])))


# The write for each action on several tasks: the tool, its fixed arguments, the reply.
_WRITE: dict[str, tuple[str, dict[str, Any], Callable[[Task, datetime], str]]] = {
    "complete": ("complete_task", {}, replies.completed),
    "reopen": ("complete_task", {"completed": False}, replies.completed),
    "delete": ("delete_task", {}, lambda change, now: replies.deleted(change)),
}


def _in_view(target: TaskRef, conversation: Conversation) -> tuple[Task | None, str | None]:
    """The task "it" or "the second one" means, or why none: from the last turn's tasks."""
    seen = tasks_in_view(conversation)
    if isinstance(target, ByPosition):
        count = len(seen or [])
        if not -count <= target.index < count:
            return None, replies.no_position(target.index, count)
        return seen[target.index], None  # type: ignore[index]
    if seen is None or len(seen) != 1:
        return None, ""
    return seen[0], None


def _resolve(
    intent: ActOnTask, conversation: Conversation, replay: Replay, now: datetime
) -> tuple[int, Task | None] | Step:
    """The task id the intent names (and the task, when known), or the step to take first."""
    target = intent.target
    if isinstance(target, ById):
        return target.task_id, None
    if isinstance(target, ByWords):
        known, step = _find_by_words(intent.action, target, replay, now)
        if known is None:
            assert step is not None
            return step
        return known["id"], known
    task, why = _in_view(target, conversation)
    if task is None:
        return Say(why or replies.which_task(intent.action, tasks_in_view(conversation), now))
    return task["id"], (task if "title" in task else None)


def _show(replay: Replay, task_id: int, now: datetime) -> Step:
    return finish(replay, "get_task", {"task_id": task_id}, lambda t: replies.shown(t, now))


def _delete(replay: Replay, task_id: int, now: datetime) -> Step:
    return finish(replay, "delete_task", {"task_id": task_id}, replies.deleted)


def _complete(replay: Replay, task_id: int, now: datetime) -> Step:
    args = {"task_id": task_id}
    return finish(replay, "complete_task", args, lambda c: replies.completed(c, now))


def _reopen(replay: Replay, task_id: int, now: datetime) -> Step:
    args = {"task_id": task_id, "completed": False}
    return finish(replay, "complete_task", args, lambda c: replies.completed(c, now))


_FINISH: dict[str, Callable[[Replay, int, datetime], Step]] = {
    "show": _show,
    "delete": _delete,
    "complete": _complete,
    "reopen": _reopen,
}


def _act_on_one(
    intent: ActOnTask, conversation: Conversation, replay: Replay, now: datetime
) -> Step:
    resolved = _resolve(intent, conversation, replay, now)
    if isinstance(resolved, Call | Say):
        return resolved
    task_id, known = resolved
    if intent.action in _FINISH:
        return _FINISH[intent.action](replay, task_id, now)
    if intent.action == "subtasks" and "child" in intent.args:
        return _move_under(intent.args["child"], task_id, replay, now)
    if intent.action == "subtasks":
        return _add_subtasks(intent.args["adds"], task_id, replay, now)
    return _update(intent, (task_id, known), conversation, replay, now)


def _move_under(child: ByWords, parent_id: int, replay: Replay, now: datetime) -> Step:
    """ "make the plants a subtask of the move": the child is looked up after the parent."""
    found, step = _find_by_words("update", child, replay, now)
    if found is None:
        assert step is not None
        return step
    if found["id"] == parent_id:
        return Say("A task can't be a subtask of itself.")
    args = {"task_id": found["id"], "parent_id": parent_id}
    return finish(replay, "update_task", args, lambda c: replies.updated(c, args, now))


def _add_subtasks(adds: list[Any], parent_id: int, replay: Replay, now: datetime) -> Step:
    writes = [{**one.args, "parent_id": parent_id} for one in adds]
    step = write_all(replay, "add_task", writes, lambda c, _: replies.added(c, now))
    if isinstance(step, Call):
        return step
    return Say(step.text + f"\nThey're subtasks of task {parent_id}.")


def _update(
    intent: ActOnTask, found: tuple[int, Task | None], conversation: Conversation,
    replay: Replay, now: datetime,
) -> Step:  # fmt: skip
    """Change the task found (its id, and the task when a lookup this turn returned it)."""
    task_id, known = found
    args = {"task_id": task_id, **intent.args}
    reads_current = bool(
        intent.add_tags or intent.remove_tags or intent.shift or intent.at or intent.retitle
    )
    if not isinstance(intent.target, ByWords):
        known = None  # only a lookup made this turn is fresh
    if known is None and (reads_current or not _seen(task_id, conversation)):
        # Read first: tags replace the whole list, shifts start from the current due, and
        # "undo" puts back the fields as the chat last saw them.
        run = replay.next()
        if run is None:
            return Call("get_task", {"task_id": task_id})
        if not isinstance(run.result, dict):
            return Say(replies.tool_error(run.failure))
        known = run.result
    known = known or _last_seen(task_id, conversation)
    if known is not None:
        try:
            args = edited(intent, known, args, now)
        except DateError as exc:
            return Say(f"{exc} {DATE_HINT}")
    return finish(replay, "update_task", args, lambda c: replies.updated(c, args, now))


def edited(intent: ActOnTask, known: Task, args: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The update's arguments, worked out from the task as it is now."""
    zone = now.tzinfo or UTC
    current = known.get("due")
    if intent.shift:
        args["due"] = shifted(current, *intent.shift, now)
    if intent.add_tags or intent.remove_tags:
        tags = [t for t in known.get("tags") or [] if t not in intent.remove_tags]
        args["tags"] = tags + [t for t in intent.add_tags if t not in tags]
    if intent.at:
        args["due"] = _at(intent.at, current, now)
    elif len(args.get("due") or "") == DATE_ONLY and current and len(current) > DATE_ONLY:
        # "move the dentist to wednesday": the day changes, the 9:00 stays.
        _, at = parse_due(current, zone)
        args["due"] = When(date.fromisoformat(args["due"]), at).due(zone)
    if intent.retitle:
        args["title"] = retitled(known.get("title", ""), intent.retitle)
    return args


DATE_ONLY = len("2026-12-03")


def _at(hhmm: str, current: str | None, now: datetime) -> str:
    """The current due day at a new local time (the next such moment when there is none)."""
    zone = now.tzinfo or UTC
    at = time.fromisoformat(hhmm)
    if current:
        day, _ = parse_due(current, zone)
    else:
        day = now.date() if at > now.time() else now.date() + timedelta(days=1)
    return When(day, at).due(zone)


def retitled(title: str, words: str) -> str:
    """`title` corrected by `words`: "Buy milk" + "oat milk" -> "Buy oat milk"."""
    old, new = title.split(), words.split()
    lowered = [w.lower() for w in old]
    if not old:
        return words
    if new[0].lower() in lowered:
        at = lowered.index(new[0].lower())
        fixed = old[:at] + new + old[at + len(new) :]
    elif new[-1].lower() in lowered:
        at = lowered.index(new[-1].lower())
        fixed = old[:at] + new + old[at + 1 :]
    elif len(new) == 1:
        fixed = old[:-1] + new  # "I meant bread": the last word was wrong
    else:
        fixed = new
    text = " ".join(fixed)
    return text[0].upper() + text[1:]


def _last_seen(task_id: int, conversation: Conversation) -> Task | None:
    """The task as this chat last saw it (the last turn's, else an earlier one's)."""
    for task in tasks_in_view(conversation) or []:
        if task.get("id") == task_id and "title" in task:
            return task
    return snapshot(task_id, [run for turn in conversation.earlier for run in turn])


def _seen(task_id: int, conversation: Conversation) -> bool:
    """Whether an earlier turn of this chat showed the task (so "undo" knows its fields)."""
    return snapshot(task_id, [run for turn in conversation.earlier for run in turn]) is not None


def move_matching(
    query: dict[str, Any], args: dict[str, Any], confirmed: list[Task] | None,
    replay: Replay, now: datetime,
) -> Step:  # fmt: skip
    """Set `args` on every task the query lists; with more than one, only once confirmed."""
    if confirmed is None:
        run = replay.next()
        if run is None:
            return Call("list_tasks", query)
        if not isinstance(run.result, dict):
            return Say(replies.tool_error(run.failure))
        found = list(run.result.get("tasks") or [])
        if not found:
            return Say("No tasks match that, so I moved nothing.")
        if len(found) > 1:
            return Say(replies.confirm_move(found, args, now))
        confirmed = found
    writes = [{"task_id": task["id"], **args} for task in confirmed]
    return write_all(replay, "update_task", writes, partial(replies.updated, now=now))
