"""The offline model's decisions: read the conversation items, choose the next step.

The latest real user message says what to do (chat_server/agent/offline/grammar.py); this
turn's finished tool calls are replayed against the plan (chat_server/agent/offline/turns.py)
to find the next call or the final reply.
"""

from datetime import datetime

from chat_server.agent.offline import replies
from chat_server.agent.offline.acting import act, matches, move_matching, named_by_what_was_done
from chat_server.agent.offline.grammar import is_yes, parse
from chat_server.agent.offline.intents import (
    ActOnTask,
    AddSeveral,
    AddTask,
    ById,
    ByPosition,
    ByWords,
    Clarify,
    Help,
    Intent,
    ListTasks,
    MoveMatching,
    Pick,
    Undo,
)
from chat_server.agent.offline.turns import (
    NOT_THE_USER,
    Call,
    Conversation,
    Replay,
    Say,
    Step,
    Task,
    ToolRun,
    finish,
    read_conversation,
    tasks_in_view,
)
from chat_server.agent.offline.undo import undo

__all__ = [
    "NOT_THE_USER",
    "Call",
    "Conversation",
    "Say",
    "Step",
    "ToolRun",
    "next_step",
    "read_conversation",
    "tasks_in_view",
]


def _offered(asked: ActOnTask, runs: list[ToolRun]) -> list[Task] | None:
    """The tasks the last turn asked the user to choose from, if it asked."""
    lookups = [run for run in runs if run.name == "list_tasks"]
    if not lookups or lookups[-1] is not runs[-1] or not isinstance(runs[-1].result, dict):
        return None
    if isinstance(asked.target, ByWords):
        return matches(asked.target, lookups)
    return list(runs[-1].result.get("tasks") or [])


def _unsure(asked: Intent | None, offered: list[Task] | None) -> bool:
    """Whether the one task a lookup found was asked about rather than acted on."""
    if not (isinstance(asked, ActOnTask) and isinstance(asked.target, ByWords) and offered):
        return False
    return len(offered) == 1 and not named_by_what_was_done(offered[0], asked.target)


def _resolve_pick(intent: Intent, conversation: Conversation, now: datetime) -> Intent:
    """A bare "4" answers the last turn's "which one?"; otherwise it means "show task 4"."""
    if not isinstance(intent, Pick):
        return intent
    asked = parse(conversation.last_user_text, now) if conversation.last_user_text else None
    offered = None
    if isinstance(asked, ActOnTask) and conversation.last_turn:
        offered = _offered(asked, conversation.last_turn)
    # Only a turn that ended without acting asked "which one?": no call, a lookup of several,
    # or of one it was not sure of ("I sold the car" finding "Car wash").
    unresolved = not conversation.last_turn or len(offered or []) > 1 or _unsure(asked, offered)
    if not (unresolved and isinstance(asked, ActOnTask) and not isinstance(asked.target, ById)):
        return ActOnTask("show", intent.target)
    target = intent.target
    if isinstance(target, ById) and offered and target.task_id not in {t["id"] for t in offered}:
        # "2" after a list of #3 and #4 means the second one, never task 2: that one was
        # not offered, and acting on it could delete the wrong task.
        if not 1 <= target.task_id <= min(len(offered), replies.MAX_SHOWN):
            return Clarify(replies.not_offered(target.task_id, offered, now))
        target = ByPosition(target.task_id - 1)
    if isinstance(target, ByPosition) and offered:
        # Places count in the list offered, which a typo-tolerant lookup narrowed down.
        if not -len(offered) <= target.index < len(offered):
            return Clarify(replies.no_position(target.index, len(offered)))
        target = ById(offered[target.index]["id"])
    return ActOnTask(
        asked.action, target, asked.args, asked.add_tags, asked.remove_tags, asked.shift
    )


def _confirmed_move(conversation: Conversation, now: datetime) -> Step | None:
    """A "yes" to "should I move these tasks?": the move, on the tasks that were listed."""
    if not conversation.last_user_text or not conversation.last_turn:
        return None
    asked = parse(conversation.last_user_text, now)
    listed = conversation.last_turn[-1]
    if not isinstance(asked, MoveMatching) or not isinstance(listed.result, dict):
        return None
    tasks = list(listed.result.get("tasks") or [])
    return move_matching(asked.query, asked.args, tasks, Replay(conversation.this_turn), now)


def _list(intent: ListTasks, replay: Replay, now: datetime) -> Step:
    """List tasks; a bare word ("my work tasks") is a tag when tasks have it, else title words."""
    args, word = intent.args, intent.tag_or_words
    if not word:
        return finish(replay, "list_tasks", args, lambda p: replies.task_list(p, args, now))
    first = replay.next()
    if first is None:
        return Call("list_tasks", args)
    if not isinstance(first.result, dict):
        return Say(replies.tool_error(first.failure))
    if first.result.get("tasks"):
        return Say(replies.tag_or_words(word, first.result, args, now))
    words = {k: v for k, v in args.items() if k != "tag"} | {"search": word}
    return finish(replay, "list_tasks", words, lambda p: replies.tag_or_words(word, p, words, now))


def next_step(conversation: Conversation, now: datetime) -> Step:
    """The next tool call of this turn, or its final reply; `now` is in the user's zone."""
    intent = _resolve_pick(parse(conversation.user_text, now), conversation, now)
    replay = Replay(conversation.this_turn)
    yes = isinstance(intent, Help) and is_yes(conversation.user_text)
    if yes and (step := _confirmed_move(conversation, now)) is not None:
        return step
    if isinstance(intent, Help):
        return Say(replies.help_text(intent.kind))
    if isinstance(intent, Clarify):
        return Say(intent.text)
    if isinstance(intent, Undo):
        return undo(conversation, replay, now)
    if isinstance(intent, AddTask | AddSeveral):
        adds = intent.adds if isinstance(intent, AddSeveral) else (intent,)
        said = []
        for one in adds:
            step = finish(replay, "add_task", one.args, lambda c: replies.added(c, now))
            if isinstance(step, Call):
                return step
            said.append(step.text)
        return Say("\n".join(said))
    if isinstance(intent, ListTasks):
        return _list(intent, replay, now)
    if isinstance(intent, MoveMatching):
        return move_matching(intent.query, intent.args, None, replay, now)
    assert isinstance(intent, ActOnTask)
    return act(intent, conversation, replay, now)
