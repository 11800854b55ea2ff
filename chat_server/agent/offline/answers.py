"""Answering a question about one task from the tasks themselves, changing nothing."""

from datetime import datetime

from chat_server.agent.offline import replies
from chat_server.agent.offline.acting import FUZZY_PAGE, matches
from chat_server.agent.offline.intents import AskAbout
from chat_server.agent.offline.turns import Call, Replay, Say, Step, Task


def answer(intent: AskAbout, replay: Replay, now: datetime) -> Step:
    """Look the task up (its words, then every title with typos forgiven), then answer."""
    target = intent.target
    run = replay.next()
    if run is None:
        return Call("list_tasks", {"search": target.words})
    if not isinstance(run.result, dict):
        return Say(replies.tool_error(run.failure))
    found = matches(target, [run])
    if not found:
        run = replay.next()
        if run is None:
            return Call("list_tasks", {"limit": FUZZY_PAGE})
        if not isinstance(run.result, dict):
            return Say(replies.tool_error(run.failure))
        found = matches(target, [run])
    if intent.aspect == "subtasks" and len(found) == 1:
        return _steps_of(found[0], replay, now)
    return Say(replies.about(found, intent.aspect, target.words, now, intent.day))


def _steps_of(parent: Task, replay: Replay, now: datetime) -> Step:
    """ "what are the subtasks of move house?": the open steps under the task found."""
    run = replay.next()
    if run is None:
        return Call("list_tasks", {"status": "pending", "subtasks": "all", "limit": FUZZY_PAGE})
    if not isinstance(run.result, dict):
        return Say(replies.tool_error(run.failure))
    steps = [t for t in run.result.get("tasks") or [] if t.get("parent_id") == parent["id"]]
    return Say(replies.steps(parent, steps, now))
