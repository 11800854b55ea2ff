"""One turn of the offline model as data: the conversation it reads, the steps it takes.

Stateless: every model call re-reads the whole input. The latest real user message says
what to do; the tool calls and outputs after it are this turn's progress, replayed
against the plan (Replay) to find the next call or the final reply. Earlier turns supply
the task that "it" means and what "undo" reverts.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chat_server.agent.offline import replies
from chat_server.agent.task_tools import read_run
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
    earlier: list[list[ToolRun]] = field(default_factory=list)
    """The tool runs of every earlier turn, oldest turn first."""


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


@dataclass
class _Items:
    """The input items sorted by kind, each with its place in the input."""

    users: list[tuple[int, str]] = field(default_factory=list)
    calls: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    runs: list[tuple[int, ToolRun]] = field(default_factory=list)
    replies: list[tuple[int, str]] = field(default_factory=list)

    def take(self, index: int, item: Any) -> None:
        kind, role = _get(item, "type"), _get(item, "role")
        if kind == "function_call":
            self.calls[_get(item, "call_id")] = (_get(item, "name"), _args(_get(item, "arguments")))
        elif kind == "function_call_output":
            name, args = self.calls.get(_get(item, "call_id"), ("", {}))
            self.runs.append((index, ToolRun(name, args, _text(_get(item, "output")))))
        elif kind in {None, "message"} and role == "user":
            text = _text(_get(item, "content")).strip()
            if text and not text.startswith(NOT_THE_USER):
                self.users.append((index, text))
        elif kind in {None, "message"} and role == "assistant":
            self.replies.append((index, _text(_get(item, "content"))))


def read_conversation(items: str | Sequence[Any]) -> Conversation:
    """The latest user message, this turn's tool runs, and the turn before it."""
    if isinstance(items, str):
        return Conversation(user_text=items)
    seen = _Items()
    for index, item in enumerate(items):
        seen.take(index, item)
    users, runs = seen.users, seen.runs
    if not users:
        return Conversation()
    latest = users[-1][0]
    previous = users[-2][0] if len(users) > 1 else -1
    starts = [at for at, _ in users]
    earlier: list[list[ToolRun]] = [[] for _ in starts[:-1]]
    for at, run in runs:
        turn = sum(start < at for start in starts) - 1
        if 0 <= turn < len(earlier):
            earlier[turn].append(run)
    return Conversation(
        user_text=users[-1][1],
        this_turn=[run for at, run in runs if at > latest],
        last_turn=[run for at, run in runs if previous < at < latest],
        last_reply=next(
            (text for at, text in reversed(seen.replies) if previous < at < latest), ""
        ),
        last_user_text=users[-2][1] if len(users) > 1 else "",
        earlier=earlier,
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


class Replay:
    """This turn's finished calls, taken in the order the plan makes them."""

    def __init__(self, runs: list[ToolRun]) -> None:
        self._runs = iter(runs)

    def next(self) -> ToolRun | None:
        return next(self._runs, None)


def finish(replay: Replay, name: str, args: dict[str, Any], say: Callable[[Any], str]) -> Step:
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
