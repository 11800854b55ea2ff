"""What the offline model's grammar makes of a request: an intent, and the task it names."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal


@dataclass(frozen=True)
class ById:
    """A task named by its number: "task 3", "#3"."""

    task_id: int


@dataclass(frozen=True)
class ByWords:
    """A task named by words from its title: "the groceries one".

    `verbs` are the title's likely first words when the task was named by what was done
    ("I bought the milk": words "milk", verbs ("buy",)); matches that start so come first.
    """

    words: str
    verbs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ByIds:
    """Several tasks named by number: "2 and 5", "tasks 3, 4 and 7"."""

    task_ids: tuple[int, ...]


@dataclass(frozen=True)
class ByContext:
    """A task named by the conversation: "it", "that one"."""


@dataclass(frozen=True)
class ByPosition:
    """A task named by its place in the last list shown: "the second one" (0-based, -1 last)."""

    index: int


@dataclass(frozen=True)
class ByNames:
    """Several tasks named by words: "the laundry and the milk", "milk, gym"."""

    names: tuple[ByWords, ...]


TaskRef = ById | ByIds | ByWords | ByContext | ByPosition | ByNames
Action = Literal["show", "complete", "reopen", "delete", "update", "subtasks"]
"""What to do to the task found; "subtasks" adds `args["adds"]` (AddTask intents) under it."""


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


Answer = Literal["list", "count", "next"]


@dataclass(frozen=True)
class ListTasks:
    """Call list_tasks with `args`; with `tag_or_words`, that tag, else those words in titles.

    `answer` says how to reply: the list, how many there are, or the next one due.
    """

    args: dict[str, Any]
    tag_or_words: str = ""
    answer: Answer = "list"


Aspect = Literal[
    "due", "priority", "done", "exists", "details", "tags", "reminders", "subtasks", "list"
]


@dataclass(frozen=True)
class AskAbout:
    """A question about the task the words name ("when is the dentist?"): changes nothing."""

    target: ByWords
    aspect: Aspect
    day: date | None = None  # "is the rent due friday?": the day asked about, for a yes or no


@dataclass(frozen=True)
class Unclear:
    """A sentence read as no command. The model looks for a task its `words` name (then
    `fields` change that task); else adds `title` when it reads as a to-do (`todo`) and says
    a field or "please" (`marked`); else asks.
    """

    words: str
    fields: dict[str, Any]
    title: str
    todo: bool
    marked: bool


@dataclass(frozen=True)
class Also:
    """ "and the plumber too": the last request again, for the task these words name."""

    words: str


@dataclass(frozen=True)
class Instead:
    """ "no wait, the electricity bill, not the dentist": the last request was meant for the
    task these words name (undo it, do it to that one); after an add, the title was meant."""

    words: str


@dataclass(frozen=True)
class ActOnTask:
    """Do `action` to one task; `args` are update fields, tags are added/removed to current."""

    action: Action
    target: TaskRef
    args: dict[str, Any] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    shift: tuple[int, str] | None = None
    """Move the due date by (count, "day" | "week" | "month") from where it is now."""
    at: str = ""
    """A local "HH:MM" for the task's current due day ("wait no, 7am"): the day is kept."""
    retitle: str = ""
    """Words that correct part of the title ("I meant oat milk": Buy milk -> Buy oat milk)."""


@dataclass(frozen=True)
class Pick:
    """A bare answer ("4", "the second one") to a "which task?" question."""

    target: TaskRef


@dataclass(frozen=True)
class AddSeveral:
    """Several add_task calls, one per item of a list ("add milk, eggs and bread")."""

    adds: tuple[AddTask, ...]


@dataclass(frozen=True)
class MoveMatching:
    """Set `args` on every task `query` lists; asks first when that is more than one task."""

    query: dict[str, Any]
    args: dict[str, Any]


@dataclass(frozen=True)
class Undo:
    """Revert the last change this chat made."""


@dataclass(frozen=True)
class FieldsAlone:
    """ "high priority" alone: a change to the task just added or changed, if there is one
    (`change`), else the list query it also reads as (`listing`)."""

    change: ActOnTask
    listing: ListTasks


@dataclass(frozen=True)
class Named:
    """ "the haircut isn't done, mark it incomplete": `change` (aimed at "it") for the one task
    whose title the `words` name, found among the user's titles as unclear sentences are."""

    change: ActOnTask
    words: str


@dataclass(frozen=True)
class Both:
    """Two requests in one message ("add milk and mark task 3 done"), carried out in order."""

    first: "Intent"
    second: "Intent"


@dataclass(frozen=True)
class ListCall:
    """One call of a list tool ("what lists do I have?", "who can see groceries?",
    "share groceries with sam", "rename the groceries list to shopping")."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IfList:
    """ "add milk to groceries": `then` when the user has a list called `name` (looked up
    with list_lists first), else `otherwise` (the words read without a list)."""

    name: str
    then: "Intent"
    otherwise: "Intent"


@dataclass(frozen=True)
class IfNamed:
    """ "set a reminder for the visa documents tomorrow", "add beef stew to the freezer
    meals": `change` (aimed at "it") on the one task whose title the `words` name (looked up
    with list_tasks first); several named are asked about; none, `otherwise`. With
    `leading`, only a title that starts with the words' first word counts ("the freezer
    meals" is "Freezer meal prep", but "the boss" is not "Meeting with the boss")."""

    words: str
    change: "ActOnTask"
    otherwise: "Intent"
    leading: bool = False


@dataclass(frozen=True)
class StopSharing:
    """ "stop sharing groceries": every member of the list removed, the owner staying."""

    name: str


Intent = (
    Instead
    | Help
    | Clarify
    | AddTask
    | AddSeveral
    | ListTasks
    | ActOnTask
    | MoveMatching
    | Pick
    | Undo
    | AskAbout
    | Unclear
    | Also
    | FieldsAlone
    | Named
    | Both
    | ListCall
    | IfList
    | IfNamed
    | StopSharing
)
