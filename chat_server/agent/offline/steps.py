"""The offline model's decisions: read the conversation items, choose the next step.

The latest real user message says what to do (chat_server/agent/offline/grammar.py); this
turn's finished tool calls are replayed against the plan (chat_server/agent/offline/turns.py)
to find the next call or the final reply.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chat_server.agent.offline import list_replies, replies, unclear
from chat_server.agent.offline.acting import (
    act,
    matches,
    move_matching,
    named_by_what_was_done,
)
from chat_server.agent.offline.answers import answer
from chat_server.agent.offline.batches import ASK_DELETE, write_all
from chat_server.agent.offline.followups import hour_corrected
from chat_server.agent.offline.grammar import is_yes, parse
from chat_server.agent.offline.intents import (
    ActOnTask,
    AddSeveral,
    AddTask,
    Also,
    AskAbout,
    Both,
    ByContext,
    ById,
    ByPosition,
    ByWords,
    Clarify,
    FieldsAlone,
    Help,
    IfList,
    IfNamed,
    Instead,
    Intent,
    ListCall,
    ListTasks,
    MoveMatching,
    Named,
    Pick,
    StopSharing,
    Unclear,
    Undo,
)
from chat_server.agent.offline.last_change import last_change_intent, them_as_it
from chat_server.agent.offline.phrases import add_intent
from chat_server.agent.offline.several import TODO_VERBS
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
from chat_server.agent.offline.unclear import ASK_ADD
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
    """A bare "4" answers the last turn's "which one?"; "actually 4" right after a change
    sets its time; otherwise it means "show task 4"."""
    if not isinstance(intent, Pick):
        return intent
    changed = {run.name for run in conversation.last_turn} & _RENAMED_AFTER
    if changed and (at := hour_corrected(conversation.user_text)):
        return ActOnTask("update", ByContext(), at=at)
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
    if intent.answer != "list":
        say = replies.ANSWERS[intent.answer]
        return finish(replay, "list_tasks", args, lambda p: say(p, args, now))
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


def _add(intent: AddTask | AddSeveral, replay: Replay, now: datetime) -> Step:
    adds = intent.adds if isinstance(intent, AddSeveral) else (intent,)
    writes = [dict(one.args) for one in adds]
    return write_all(replay, "add_task", writes, lambda change, _: replies.added(change, now))


def _also(intent: Also, conversation: Conversation, now: datetime) -> Intent:
    """ "and the plumber too": the last request again, for the task these words name."""
    last = parse(conversation.last_user_text, now) if conversation.last_user_text else None
    if isinstance(last, ActOnTask):
        if (them := them_as_it(intent.words, conversation, parse, now)) is not None:
            return them
        own = parse(intent.words, now)  # "oh and the vet is done too": says its own change
        if isinstance(own, ActOnTask) and own.action == last.action:
            return own
        return ActOnTask(last.action, ByWords(intent.words), last.args, last.add_tags,
                         last.remove_tags, last.shift)  # fmt: skip
    if isinstance(last, AddTask | AddSeveral):
        first = last.adds[-1] if isinstance(last, AddSeveral) else last
        verb = first.args["title"].split()[0]
        words = intent.words
        if words.split()[0].lower() not in TODO_VERBS:
            words = f"{verb} {words}"
        return add_intent(words, now)
    return Clarify(f"What should I do with “{intent.words}”?")


def _confirmed_delete(conversation: Conversation, now: datetime) -> Step | None:
    """A "yes" to "Delete these 6 tasks for good?": the delete, confirmed."""
    if not conversation.last_user_text or not conversation.last_reply.startswith(
        ASK_DELETE.split("{", 1)[0]
    ):
        return None
    asked = parse(conversation.last_user_text, now)
    if not isinstance(asked, ActOnTask) or asked.action != "delete":
        return None
    return act(asked, conversation, Replay(conversation.this_turn), now, confirmed=True)


def _confirmed_add(conversation: Conversation, now: datetime) -> Step | None:
    """A "yes" to "Add “X” as a task?": the add the last turn offered."""
    if not conversation.last_user_text or not conversation.last_reply.startswith(ASK_ADD):
        return None
    asked = parse(conversation.last_user_text, now)
    if not isinstance(asked, Unclear) or not asked.title:
        return None
    return _add(AddTask(unclear.add_args(asked, now)), Replay(conversation.this_turn), now)


def _help(intent: Help, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    return Say(replies.help_text(intent.kind))


def _clarify(intent: Clarify, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    return Say(intent.text)


def _undo(intent: Undo, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    return undo(conversation, replay, now)


def _adding(intent: AddTask, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    return _add(intent, replay, now)


def _listing(intent: ListTasks, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    return _list(intent, replay, now)


def _moving(
    intent: MoveMatching, conversation: Conversation, replay: Replay, now: datetime
) -> Step:
    return move_matching(intent.query, intent.args, None, replay, now)


def _asking(intent: AskAbout, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    return answer(intent, replay, now)


def _again(intent: Also, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    return _step_for(_also(intent, conversation, now), conversation, replay, now)


_RENAMED_AFTER = {"add_task", "update_task"}


def _acting(intent: ActOnTask, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """Act on the task; "I meant oat milk" corrects only a title just added or changed, and
    after a completion or a delete it names the task that was meant."""
    if intent.retitle and not {run.name for run in conversation.last_turn} & _RENAMED_AFTER:
        if {run.name for run in conversation.last_turn} & _SWITCHED_AFTER:
            return _instead(Instead(intent.retitle), conversation, replay, now)
        return Say(replies.which_task("update", None, now))
    return act(intent, conversation, replay, now)


_SWITCHED_AFTER = {"complete_task", "delete_task"}
_REDONE = {"complete", "reopen", "delete", "update"}


def _instead(intent: Instead, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """The last request was meant for another task: undo it and do it to that one; after an
    add, the words are the title meant."""
    last = parse(conversation.last_user_text, now) if conversation.last_user_text else None
    changed = {run.name for run in conversation.last_turn} & (_RENAMED_AFTER | _SWITCHED_AFTER)
    if isinstance(last, AddTask | AddSeveral) and "add_task" in changed:
        fix = ActOnTask("update", ByContext(), retitle=intent.words)
        return act(fix, conversation, replay, now)
    if changed and isinstance(last, ActOnTask) and last.action in _REDONE:
        again = ActOnTask(last.action, ByWords(intent.words), last.args, last.add_tags,
                          last.remove_tags, last.shift, last.at)  # fmt: skip
        return _both(Both(Undo(), again), conversation, replay, now)
    return Say(f"Which task should I change instead? I read “{intent.words}”, but nothing "
               "to redo it on.")  # fmt: skip


def _fields_alone(
    intent: FieldsAlone, conversation: Conversation, replay: Replay, now: datetime
) -> Step:
    """ "high priority" right after a change sets it on that task; otherwise it lists."""
    changed = {run.name for run in conversation.last_turn} & _RENAMED_AFTER
    seen = tasks_in_view(conversation)
    if changed and seen is not None and len(seen) == 1:
        return act(intent.change, conversation, replay, now)
    return _list(intent.listing, replay, now)


def _both(intent: Both, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """The first request, then the second, on the runs this turn made so far."""
    said = []
    for one in (intent.first, intent.second):
        step = _step_for(one, conversation, replay, now)
        if isinstance(step, Call):
            return step
        said.append(step.text)
    return Say("\n".join(said))


def _list_call(intent: ListCall, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    say = list_replies.SAY[intent.name]
    return finish(replay, intent.name, intent.args, lambda result: say(result, intent.args))


def _if_list(intent: IfList, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """Look the list up first; then `then` if the user has it, else `otherwise`."""
    run = replay.next()
    if run is None:
        return Call("list_lists", {})
    found = run.result if isinstance(run.result, dict) else {}
    names = {str(one.get("name", "")).casefold() for one in found.get("lists") or []}
    chosen = intent.then if intent.name.casefold() in names else intent.otherwise
    return _step_for(chosen, conversation, replay, now)


def _led_by(title: str, words: str) -> bool:
    """Whether `title` starts with the first word of `words` past "the"/"my"."""
    said = [w for w in words.lower().split() if w not in {"the", "my"}]
    return bool(said) and title.lower().startswith(said[0])


def _if_named(intent: IfNamed, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """The change on the one task the words name; several, ask which; none, `otherwise`."""
    return unclear.act_on_named(
        intent.words, intent.change, conversation, replay, now,
        otherwise=lambda: _step_for(intent.otherwise, conversation, replay, now),
        keep=lambda task: not intent.leading or _led_by(str(task.get("title", "")), intent.words),
    )  # fmt: skip


def _stop_sharing(
    intent: StopSharing, conversation: Conversation, replay: Replay, now: datetime
) -> Step:
    """Every member taken off the list, one unshare_list each, after list_members."""
    run = replay.next()
    if run is None:
        return Call("list_members", {"list": intent.name})
    if not isinstance(run.result, dict):
        return Say(replies.tool_error(run.failure))
    others = [m["user_id"] for m in run.result.get("members") or [] if m["role"] != "owner"]
    if not others:
        return Say(f"{run.result['list']['name']} isn't shared with anyone.")
    for user_id in others:
        step = finish(replay, "unshare_list", {"list": intent.name, "user_id": user_id},
                      lambda result: "")  # fmt: skip
        if isinstance(step, Call) or step.text:
            return step
    return Say(f"Stopped sharing {run.result['list']['name']} with {', '.join(others)}.")


# The step each kind of intent takes (the intent, the conversation, this turn's runs, now).
_STEPS: dict[type, Callable[[Any, Conversation, Replay, datetime], Step]] = {
    Help: _help,
    Clarify: _clarify,
    Undo: _undo,
    AddTask: _adding,
    AddSeveral: _adding,
    ListTasks: _listing,
    MoveMatching: _moving,
    AskAbout: _asking,
    Unclear: unclear.settle,
    Also: _again,
    ActOnTask: _acting,
    FieldsAlone: _fields_alone,
    Named: unclear.settle_named,
    Both: _both,
    ListCall: _list_call,
    IfList: _if_list,
    IfNamed: _if_named,
    StopSharing: _stop_sharing,
    Instead: _instead,
}


def _step_for(intent: Intent, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    return _STEPS[type(intent)](intent, conversation, replay, now)


def next_step(conversation: Conversation, now: datetime) -> Step:
    """The next tool call of this turn, or its final reply; `now` is in the user's zone."""
    intent = last_change_intent(conversation) or _resolve_pick(
        parse(conversation.user_text, now), conversation, now
    )
    if isinstance(intent, Help) and is_yes(conversation.user_text):
        for confirmed in (_confirmed_move, _confirmed_delete, _confirmed_add):
            if (step := confirmed(conversation, now)) is not None:
                return step
    return _step_for(intent, conversation, Replay(conversation.this_turn), now)
