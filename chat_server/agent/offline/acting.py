"""Acting on tasks named in a request: find the one task meant (by number, by words with
typos forgiven, or by the conversation), then show, complete, reopen, delete or change it;
and moving every task a query finds, once the user has said yes."""

from datetime import datetime
from functools import partial
from typing import Any

from chat_server.agent.offline import replies
from chat_server.agent.offline.dates import shifted
from chat_server.agent.offline.fuzzy import closest
from chat_server.agent.offline.intents import ActOnTask, ById, ByIds, ByPosition, ByWords
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
    status = _LOOKUP_STATUS.get(action)
    return ({"status": status} if status else {}) | {"limit": FUZZY_PAGE}


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
    run = replay.next()
    if run is None:
        return None, Call("list_tasks", lookup)
    if not isinstance(run.result, dict):
        return None, Say(replies.tool_error(run.failure))
    found = matches(target, [run])
    if not found:
        # Nothing has those exact words: compare every title, typos forgiven.
        run2 = replay.next()
        if run2 is None:
            return None, Call("list_tasks", _fuzzy_args(action))
        if not isinstance(run2.result, dict):
            return None, Say(replies.tool_error(run2.failure))
        found = matches(target, [run2])
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


def act(intent: ActOnTask, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """Find the task (or tasks) the intent names, then act on each."""
    target = intent.target
    if isinstance(target, ByIds):
        said: list[str] = []
        for task_id in target.task_ids:
            one = ActOnTask(intent.action, ById(task_id), intent.args, intent.add_tags,
                            intent.remove_tags, intent.shift)  # fmt: skip
            step = _act_on_one(one, conversation, replay, now)
            if isinstance(step, Call):
                return step
            said.append(step.text)
        return Say("\n".join(said))
    return _act_on_one(intent, conversation, replay, now)


def _act_on_one(
    intent: ActOnTask, conversation: Conversation, replay: Replay, now: datetime
) -> Step:
    action, target = intent.action, intent.target
    known: Task | None = None  # the task as a tool just returned it, tags and all
    if isinstance(target, ById):
        task_id = target.task_id
    elif isinstance(target, ByWords):
        known, step = _find_by_words(action, target, replay, now)
        if known is None:
            assert step is not None
            return step
        task_id = known["id"]
    else:
        seen = tasks_in_view(conversation)
        if isinstance(target, ByPosition):
            count = len(seen or [])
            if not -count <= target.index < count:
                return Say(replies.no_position(target.index, count))
            task_id = seen[target.index]["id"]  # type: ignore[index]
        elif seen is None or len(seen) != 1:
            return Say(replies.which_task(action, seen, now))
        else:
            task_id = seen[0]["id"]
    if action == "show":
        return finish(replay, "get_task", {"task_id": task_id}, lambda t: replies.shown(t, now))
    if action == "delete":
        return finish(replay, "delete_task", {"task_id": task_id}, replies.deleted)
    if action in {"complete", "reopen"}:
        args: dict[str, Any] = {"task_id": task_id}
        if action == "reopen":
            args["completed"] = False
        return finish(replay, "complete_task", args, lambda c: replies.completed(c, now))
    args = {"task_id": task_id, **intent.args}
    edits_in_place = intent.add_tags or intent.remove_tags or intent.shift
    if known is None and (edits_in_place or not _seen(task_id, conversation)):
        # Read first: tags replace the whole list, shifts start from the current due, and
        # "undo" puts back the fields as the chat last saw them.
        run = replay.next()
        if run is None:
            return Call("get_task", {"task_id": task_id})
        if not isinstance(run.result, dict):
            return Say(replies.tool_error(run.failure))
        known = run.result
    if known is not None:
        if intent.shift:
            args["due"] = shifted(known.get("due"), *intent.shift, now)
        if intent.add_tags or intent.remove_tags:
            current = [t for t in known.get("tags") or [] if t not in intent.remove_tags]
            args["tags"] = current + [t for t in intent.add_tags if t not in current]
    return finish(replay, "update_task", args, lambda c: replies.updated(c, args, now))


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
    said = []
    for task in confirmed:
        one = {"task_id": task["id"], **args}
        step = finish(replay, "update_task", one, partial(replies.updated, args=one, now=now))
        if isinstance(step, Call):
            return step
        said.append(step.text)
    return Say("\n".join(said))
