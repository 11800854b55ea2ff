"""The offline model's decisions: read the conversation items, choose the next step.

Stateless: every model call re-reads the whole input. The latest real user message says
what to do (chat_server/offline/grammar.py); the tool calls and outputs after it are this turn's
progress, replayed against the plan to find the next call or the final reply. The turn
before it supplies the task that "it" and "that one" mean.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chat_server.offline import replies
from chat_server.offline.grammar import parse
from chat_server.offline.intents import (
    ActOnTask,
    AddTask,
    ById,
    ByPosition,
    ByWords,
    Clarify,
    Help,
    Intent,
    ListTasks,
    Pick,
)
from chat_server.task_tools import read_run
from shared.contract import ToolFailure, read_output

Task = dict[str, Any]

# ChatKit feeds these to the model as user-role messages, but the user never typed them.
NOT_THE_USER = (
    "A message was displayed to the user",
    "Hidden context for the agent",
    "The user is referring to this in particular",
    "# User-provided context for @-mentions",
    "A structured input request was displayed",
    "The following graphical UI widget",
)
_MENTIONED = re.compile(r"\b(?:task|Task)\s+#?(\d+)\b|(?<![\w&])#(\d+)\b")
_LOOKUP_STATUS = {"complete": "pending", "reopen": "completed"}


@dataclass(frozen=True)
class Call:
    """Call tool `name` with `args`."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Say:
    """Reply with `text` and end the turn."""

    text: str


Step = Call | Say


@dataclass(frozen=True)
class ToolRun:
    """One finished tool call: its name, arguments and output text."""

    name: str
    args: dict[str, Any]
    output: str

    @property
    def result(self) -> Any:
        """The typed result, or None when the call failed or answered out of contract."""
        return read_run(self.name, self.output)

    @property
    def failure(self) -> ToolFailure:
        """Why the call did not give a result."""
        try:
            read_output(self.name, self.output)
        except ToolFailure as failure:
            return failure
        raise ValueError(f"{self.name} did not fail")


@dataclass(frozen=True)
class Conversation:
    """What the model needs from its input items."""

    user_text: str = ""
    this_turn: list[ToolRun] = field(default_factory=list)
    last_turn: list[ToolRun] = field(default_factory=list)
    last_reply: str = ""
    last_user_text: str = ""


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def _text(content: Any) -> str:
    """Text of a message's content: a string, or parts carrying "text"."""
    if isinstance(content, str):
        return content
    parts = [_get(part, "text") for part in content or []]
    return "".join(part for part in parts if isinstance(part, str))


def _args(raw: Any) -> dict[str, Any]:
    try:
        args = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return args if isinstance(args, dict) else {}


def read_conversation(items: str | Sequence[Any]) -> Conversation:
    """The latest user message, this turn's tool runs, and the turn before it."""
    if isinstance(items, str):
        return Conversation(user_text=items)
    users: list[tuple[int, str]] = []
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    runs: list[tuple[int, ToolRun]] = []
    replies_at: list[tuple[int, str]] = []
    for index, item in enumerate(items):
        kind, role = _get(item, "type"), _get(item, "role")
        if kind == "function_call":
            calls[_get(item, "call_id")] = (_get(item, "name"), _args(_get(item, "arguments")))
        elif kind == "function_call_output":
            name, args = calls.get(_get(item, "call_id"), ("", {}))
            runs.append((index, ToolRun(name, args, _text(_get(item, "output")))))
        elif role == "user" and kind in {None, "message"}:
            text = _text(_get(item, "content")).strip()
            if text and not text.startswith(NOT_THE_USER):
                users.append((index, text))
        elif role == "assistant" and kind in {None, "message"}:
            replies_at.append((index, _text(_get(item, "content"))))
    if not users:
        return Conversation()
    latest = users[-1][0]
    previous = users[-2][0] if len(users) > 1 else -1
    return Conversation(
        user_text=users[-1][1],
        this_turn=[run for at, run in runs if at > latest],
        last_turn=[run for at, run in runs if previous < at < latest],
        last_reply=next((text for at, text in reversed(replies_at) if previous < at < latest), ""),
        last_user_text=users[-2][1] if len(users) > 1 else "",
    )


def tasks_in_view(conversation: Conversation) -> list[Task] | None:
    """The tasks the last turn ended on (what "it" can mean), or None when unknown."""
    for run in reversed(conversation.last_turn):
        result = run.result
        if not isinstance(result, dict):
            continue
        if run.name == "list_tasks":
            return list(result.get("tasks") or [])
        if run.name == "delete_task":
            return []  # the task it would mean is gone
        if isinstance(result.get("task"), dict):
            return [result["task"]]
        if run.name == "get_task" and "id" in result:
            return [result]
    # No tool results were fed back: fall back to the task numbers the last reply named.
    numbers = {int(a or b) for a, b in _MENTIONED.findall(conversation.last_reply)}
    if len(numbers) == 1:
        return [{"id": numbers.pop()}]
    return None


class _Replay:
    """This turn's finished calls, taken in the order the plan makes them."""

    def __init__(self, runs: list[ToolRun]) -> None:
        self._runs = iter(runs)

    def next(self) -> ToolRun | None:
        return next(self._runs, None)


def _resolve_pick(intent: Intent, conversation: Conversation, now: datetime) -> Intent:
    """A bare "4" answers the last turn's "which one?"; otherwise it means "show task 4"."""
    if not isinstance(intent, Pick):
        return intent
    asked = parse(conversation.last_user_text, now) if conversation.last_user_text else None
    last = conversation.last_turn[-1] if conversation.last_turn else None
    offered = last.result.get("tasks") if last and isinstance(last.result, dict) else None
    # Only a turn that ended without acting asked "which one?": no call, or a lookup of several.
    unresolved = last is None or (last.name == "list_tasks" and len(offered or []) > 1)
    if not (unresolved and isinstance(asked, ActOnTask) and not isinstance(asked.target, ById)):
        return ActOnTask("show", intent.target)
    target = intent.target
    if isinstance(target, ById) and offered and target.task_id not in {t["id"] for t in offered}:
        # "2" after a list of #3 and #4 means the second one, never task 2: that one was
        # not offered, and acting on it could delete the wrong task.
        if not 1 <= target.task_id <= min(len(offered), replies.MAX_SHOWN):
            return Clarify(replies.not_offered(target.task_id, offered, now))
        target = ByPosition(target.task_id - 1)
    return ActOnTask(asked.action, target, asked.args, asked.add_tags, asked.remove_tags)


def _finish(replay: _Replay, name: str, args: dict[str, Any], say: Callable[[Any], str]) -> Step:
    """Call the tool, or, once it ran, say its result (or its error)."""
    run = replay.next()
    if run is None:
        return Call(name, args)
    result = run.result
    if result is None:
        return Say(replies.tool_error(run.failure))
    try:
        return Say(say(result))
    except (KeyError, TypeError, AttributeError):
        return Say(f"I got an answer I didn't expect from the task server: {run.output[:300]}")


def _act(intent: ActOnTask, conversation: Conversation, replay: _Replay, now: datetime) -> Step:
    """Find the one task the intent names (looking it up if need be), then act on it."""
    action, target = intent.action, intent.target
    known: Task | None = None  # the task as a tool just returned it, tags and all
    if isinstance(target, ById):
        task_id = target.task_id
    elif isinstance(target, ByWords):
        status = _LOOKUP_STATUS.get(action)
        lookup = {"search": target.words} | ({"status": status} if status else {})
        run = replay.next()
        if run is None:
            return Call("list_tasks", lookup)
        if not isinstance(run.result, dict):
            return Say(replies.tool_error(run.failure))
        found = list(run.result.get("tasks") or [])
        exact = [t for t in found if t.get("title", "").lower() == target.words.lower()]
        found = exact if len(exact) == 1 else found
        if not found:
            return Say(replies.no_match(target.words, status))
        if len(found) > 1:
            return Say(replies.candidates(found, action, target.words, now))
        known, task_id = found[0], found[0]["id"]
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
        return _finish(replay, "get_task", {"task_id": task_id}, lambda t: replies.shown(t, now))
    if action == "delete":
        return _finish(replay, "delete_task", {"task_id": task_id}, replies.deleted)
    if action in {"complete", "reopen"}:
        args: dict[str, Any] = {"task_id": task_id}
        if action == "reopen":
            args["completed"] = False
        return _finish(replay, "complete_task", args, lambda c: replies.completed(c, now))
    args = {"task_id": task_id, **intent.args}
    if intent.add_tags or intent.remove_tags:
        if known is None:
            # Tags replace the whole list, so read the current ones first.
            run = replay.next()
            if run is None:
                return Call("get_task", {"task_id": task_id})
            if not isinstance(run.result, dict):
                return Say(replies.tool_error(run.failure))
            known = run.result
        current = [t for t in known.get("tags") or [] if t not in intent.remove_tags]
        args["tags"] = current + [t for t in intent.add_tags if t not in current]
    return _finish(replay, "update_task", args, lambda c: replies.updated(c, args, now))


def next_step(conversation: Conversation, now: datetime) -> Step:
    """The next tool call of this turn, or its final reply; `now` is in the user's zone."""
    intent = _resolve_pick(parse(conversation.user_text, now), conversation, now)
    replay = _Replay(conversation.this_turn)
    if isinstance(intent, Help):
        return Say(replies.help_text(intent.kind))
    if isinstance(intent, Clarify):
        return Say(intent.text)
    if isinstance(intent, AddTask):
        return _finish(replay, "add_task", intent.args, lambda c: replies.added(c, now))
    if isinstance(intent, ListTasks):
        args = intent.args
        return _finish(replay, "list_tasks", args, lambda p: replies.task_list(p, args, now))
    assert isinstance(intent, ActOnTask)
    return _act(intent, conversation, replay, now)
