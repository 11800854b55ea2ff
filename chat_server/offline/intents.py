"""What the offline model's grammar makes of a request: an intent, and the task it names."""

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ById:
    """A task named by its number: "task 3", "#3"."""

    task_id: int


@dataclass(frozen=True)
class ByWords:
    """A task named by words from its title: "the groceries one"."""

    words: str


@dataclass(frozen=True)
class ByContext:
    """A task named by the conversation: "it", "that one"."""


@dataclass(frozen=True)
class ByPosition:
    """A task named by its place in the last list shown: "the second one" (0-based, -1 last)."""

    index: int


TaskRef = ById | ByWords | ByContext | ByPosition
Action = Literal["show", "complete", "reopen", "delete", "update"]


@dataclass(frozen=True)
class Help:
    """No task request: greet, thank or explain what the model understands."""

    kind: Literal["help", "greeting", "thanks", "ack", "bye", "unknown"] = "help"


@dataclass(frozen=True)
class Clarify:
    """A task request that cannot be carried out as said; `text` says why."""

    text: str


@dataclass(frozen=True)
class AddTask:
    """Call add_task with `args`."""

    args: dict[str, Any]


@dataclass(frozen=True)
class ListTasks:
    """Call list_tasks with `args`."""

    args: dict[str, Any]


@dataclass(frozen=True)
class ActOnTask:
    """Do `action` to one task; `args` are update fields, tags are added/removed to current."""

    action: Action
    target: TaskRef
    args: dict[str, Any] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pick:
    """A bare answer ("4", "the second one") to a "which task?" question."""

    target: TaskRef


Intent = Help | Clarify | AddTask | ListTasks | ActOnTask | Pick
