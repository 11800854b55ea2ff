"""Answering a question about one task from the tasks themselves, changing nothing."""

from datetime import datetime

from chat_server.agent.offline import replies
from chat_server.agent.offline.acting import FUZZY_PAGE, matches
from chat_server.agent.offline.intents import AskAbout
from chat_server.agent.offline.turns import Call, Replay, Say, Step


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
    return Say(replies.about(found, intent.aspect, target.words, now))
