"""One pydantic input model per tool: the tool's JSON schema and the descriptions a model reads.

Types, choices and the most of each argument any caller may send are checked here (those
bounds, from shared/contract.py, refuse a flood before any work); every other rule (exact
lengths after trimming, tag alphabet, date formats) is checked once, in
mcp_server/task_rules.py, so the MCP tools and any other caller agree.
"""

from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from mcp_server.models import LIST_NAME_MAX_CHARS, REPEAT_MAX_CHARS
from mcp_server.sdk_compat import ArgModelBase
from mcp_server.task_rules import MAX_CURSOR_CHARS
from shared.contract import (
    DESCRIPTION_INPUT_MAX_CHARS,
    DUE_INPUT_MAX_CHARS,
    MAX_BATCH_ITEMS,
    MAX_PAGE_SIZE,
    SEARCH_MAX_CHARS,
    TAG_INPUT_MAX_CHARS,
    TAGS_INPUT_MAX_ITEMS,
    TITLE_INPUT_MAX_CHARS,
    Order,
    Priority,
    Recurrence,
    RepeatFrom,
    Sort,
    Status,
    SubtaskFilter,
)
from shared.limits import ECHO_MAX_CHARS, clipped
from shared.zones import MAX_ZONE_CHARS

TASK_ID = "The task's id, as returned by add_task or list_tasks."
TITLE = "What to do: 1-200 characters (surrounding spaces are trimmed)."
DESCRIPTION = "Longer notes, up to 2000 characters."
DUE = (
    "When it is due: an ISO 8601 date like 2025-03-10, or a date-time with a time zone "
    "like 2025-03-10T17:00:00Z or 2025-03-10T17:00:00+02:00; from 1900-01-01 to 9999-12-30 "
    "(UTC)."
)
PRIORITY = "low, medium or high."
TAGS = (
    "Short labels like 'home' or 'work': letters a-z, digits, '_' or '-', up to 32 characters "
    "each, at most 20. Normalised to lowercase; a leading '#' is dropped; duplicates are merged."
)
RECURRENCE = (
    "Old form of repeat: daily, weekly, monthly or yearly (FREQ=DAILY etc.; monthly from the "
    "31st falls back to the month's last day)."
)
LIST = (
    "The list: your own list's name (any case; made on first use), or a list's list_id (a "
    "list shared with you is named by its list_id). Default: Inbox."
)
ASSIGNEE = (
    'Assigns it to this user id (the list\'s owner or a member); "" unassigns; null leaves it.'
)
USER_ID_CHARS = 200
PARENT_ID = (
    "Makes it a subtask of this top-level task (one level deep); it joins the parent's list."
)
REPEAT = (
    'An RFC 5545 RRULE without "RRULE:", e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH, '
    "FREQ=MONTHLY;BYDAY=-1FR, FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24. Parts: FREQ (DAILY, WEEKLY, "
    "MONTHLY, YEARLY), INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST, COUNT "
    "(occurrences left, this one included), UNTIL. Completing it creates the next occurrence."
)
REPEAT_FROM = (
    "due: the next occurrence follows the current due on the rule; completion: it follows "
    "the completion day (FREQ=DAILY;INTERVAL=3 = 3 days after it was done)."
)
TIMEZONE = (
    "IANA zone a timed task repeats in, e.g. Europe/Berlin: 9:00 stays 9:00 across DST. "
    "Default UTC."
)


REMINDERS = (
    'When to be reminded: a list of {"before": "<ISO 8601 duration>"} before the due (PT30M, '
    'PT2H, P1D, P1W; needs a due date) or {"at": "<date-time with offset>"}, at most 5. Sent '
    "to the user's channels (webhook, email). A repeating task's next occurrence keeps them."
)
Tag = Annotated[str, Field(max_length=TAG_INPUT_MAX_CHARS)]
Tags = Annotated[list[Tag], Field(max_length=TAGS_INPUT_MAX_ITEMS)]
Due = Annotated[str, Field(max_length=DUE_INPUT_MAX_CHARS)]
# A list's name or its list_id (an integer; mcp_server/lists.py `find`).
ListName = Annotated[str, Field(max_length=LIST_NAME_MAX_CHARS * 2)] | int
UserId = Annotated[str, Field(max_length=USER_ID_CHARS)]
Rule = Annotated[str, Field(max_length=REPEAT_MAX_CHARS)]
Zone = Annotated[str, Field(max_length=MAX_ZONE_CHARS)]


class Quoted:
    """What an error message shows of a bad argument: its start, and how long it was."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _quotable(value: object) -> object:
    if isinstance(value, str) and len(value) > ECHO_MAX_CHARS:
        return Quoted(f"{value[:ECHO_MAX_CHARS]!r}… ({len(value):,} characters)")
    if isinstance(value, list | dict) and len(value) > 10:
        return Quoted(f"a {type(value).__name__} of {len(value):,} items")
    text = repr(value)
    return value if len(text) <= ECHO_MAX_CHARS else Quoted(clipped(text))


class ToolInput(ArgModelBase):
    """Base of every tool input: unknown arguments are refused, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _errors_quote_little(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # Tool errors quote each bad argument (tools.describe); a 1 MB tag must not come back
        # whole, neither as the value nor as the name of an unknown argument.
        try:
            return handler(data)
        except ValidationError as exc:
            details = [
                InitErrorDetails(
                    # The message as pydantic worded it, taken literally.
                    type=PydanticCustomError(error["type"], error["msg"]),
                    loc=tuple(clipped(p) if isinstance(p, str) else p for p in error["loc"]),
                    input=_quotable(error["input"]),
                )
                for error in exc.errors()
            ]
            raise ValidationError.from_exception_data(exc.title, details) from None


class ReminderInput(ToolInput):
    """One reminder: exactly one of before and at."""

    before: str | None = Field(
        None, max_length=DUE_INPUT_MAX_CHARS, description="An ISO 8601 duration before the due."
    )
    at: Due | None = Field(None, description="An ISO 8601 date-time with its offset.")


Reminders = Annotated[list[ReminderInput], Field(max_length=10)]


class AddTaskInput(ToolInput):
    title: str = Field(max_length=TITLE_INPUT_MAX_CHARS, description=TITLE)
    description: str | None = Field(
        None, max_length=DESCRIPTION_INPUT_MAX_CHARS, description=DESCRIPTION
    )
    due: Due | None = Field(None, description=DUE)
    priority: Priority = Field("medium", description=PRIORITY)
    tags: Tags | None = Field(None, description=TAGS)
    recurrence: Recurrence = Field("none", description=RECURRENCE)
    list: ListName | None = Field(None, description=LIST)
    parent_id: int | None = Field(None, description=PARENT_ID)
    repeat: Rule | None = Field(None, description=REPEAT)
    repeat_from: RepeatFrom = Field("due", description=REPEAT_FROM)
    timezone: Zone | None = Field(None, description=TIMEZONE)
    reminders: Reminders | None = Field(None, description=REMINDERS)


class ListTasksInput(ToolInput):
    status: Status = Field(
        "all", description="Which tasks: all, pending (not completed) or completed."
    )
    search: str | None = Field(
        None,
        max_length=SEARCH_MAX_CHARS,
        description=f"Case-insensitive text to find in the title or description, up to "
        f"{SEARCH_MAX_CHARS} characters.",
    )
    tag: Tag | None = Field(None, description="Only tasks with this tag.")
    priority: Priority | None = Field(None, description="Only tasks with this priority.")
    due_before: Due | None = Field(
        None,
        description="Only tasks due on or before this date or date-time (a date includes "
        "its whole day). Tasks without a due date are left out.",
    )
    due_after: Due | None = Field(
        None,
        description="Only tasks due on or after this date or date-time. Tasks without a "
        "due date are left out.",
    )
    overdue: bool | None = Field(
        None,
        description="true: only open tasks past their due (a date-only task is overdue from "
        "the day after its date); false: only tasks that are not overdue.",
    )
    timezone: str | None = Field(
        None,
        max_length=MAX_ZONE_CHARS,
        description="The user's IANA time zone (e.g. Asia/Tokyo): the days of due_before, "
        "due_after and overdue are that zone's days. Default UTC.",
    )
    list: ListName | None = Field(
        None, description="Only tasks in this list (its name, or its list_id)."
    )
    assignee: UserId | None = Field(
        None, description='Only tasks assigned to this user: "me" or a user id.'
    )
    subtasks: SubtaskFilter = Field(
        "top_level",
        description="top_level: top-level tasks only, each with open_subtasks; all: subtasks "
        "too (with parent_id).",
    )
    sort: Sort = Field(
        "created",
        description="Sort key: created (creation time), due (tasks without a due date come "
        "last in both orders), priority (asc: low first, desc: high first), title "
        "(case-insensitive). Ties are broken by id in the same order.",
    )
    order: Order = Field("asc", description="asc or desc.")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1-{MAX_PAGE_SIZE}.")
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_CHARS,
        description="next_cursor from the previous page, with the same sort and order; "
        "omit it for the first page.",
    )


class GetTaskInput(ToolInput):
    task_id: int = Field(description=TASK_ID)


class UpdateTaskInput(ToolInput):
    """Omitted or null fields stay as they are; clearing uses the empty value."""

    task_id: int = Field(description=TASK_ID)
    title: str | None = Field(
        None, max_length=TITLE_INPUT_MAX_CHARS, description=f"{TITLE} null leaves it unchanged."
    )
    description: str | None = Field(
        None,
        max_length=DESCRIPTION_INPUT_MAX_CHARS,
        description=f'{DESCRIPTION} "" removes it; null leaves it unchanged.',
    )
    due: Due | None = Field(
        None, description=f'{DUE} "" removes the due date; null leaves it unchanged.'
    )
    priority: Priority | None = Field(None, description=f"{PRIORITY} null leaves it unchanged.")
    tags: Tags | None = Field(
        None, description=f"Replaces all tags. {TAGS} [] removes every tag; null leaves them."
    )
    recurrence: Recurrence | None = Field(
        None, description=f'{RECURRENCE} "none" stops it repeating; null leaves it unchanged.'
    )
    list: ListName | None = Field(None, description=f"Moves it (and its subtasks). {LIST}")
    parent_id: int | None = Field(None, description=f"{PARENT_ID} 0 makes it top-level.")
    repeat: Rule | None = Field(
        None, description=f'{REPEAT} "" stops it repeating; null leaves it unchanged.'
    )
    repeat_from: RepeatFrom | None = Field(None, description=REPEAT_FROM)
    timezone: Zone | None = Field(None, description=f'{TIMEZONE} "" resets it to UTC.')
    skip: bool | None = Field(
        None,
        description="true moves a repeating task to its next occurrence without completing it "
        "(its subtasks reopen).",
    )
    reminders: Reminders | None = Field(
        None, description=f"Replaces all reminders. {REMINDERS} [] removes them; null leaves them."
    )
    assignee: UserId | None = Field(None, description=ASSIGNEE)


class CompleteTaskInput(ToolInput):
    task_id: int = Field(description=TASK_ID)
    completed: bool = Field(True, description="true marks the task done; false reopens it.")
    subtasks: Literal["complete"] | None = Field(
        None,
        description='A task with open subtasks is refused unless this is "complete", which '
        "completes them too.",
    )


class DeleteTaskInput(ToolInput):
    task_id: int = Field(description=TASK_ID)
    subtasks: Literal["delete", "keep"] | None = Field(
        None,
        description="A task with subtasks is refused unless this is delete (delete them too) "
        "or keep (they become top-level tasks).",
    )


class RestoreTaskInput(ToolInput):
    task_id: int = Field(description="The id of a task you deleted in the last 10 minutes.")


class ListDeletedTasksInput(ToolInput):
    pass


LIST_NAME = "A list: your own list's name (any case), or its list_id."


class ListListsInput(ToolInput):
    pass


class RenameListInput(ToolInput):
    list: ListName = Field(description=LIST_NAME)
    new_name: ListName | None = Field(None, description="Its new name, 1-100 characters.")
    color: str | None = Field(
        None, max_length=20, description='A colour like #1e90ff; "" removes it.'
    )
    position: int | None = Field(
        None, ge=0, le=10_000, description="Its place among the lists, lowest first."
    )


class DeleteListInput(ToolInput):
    list: ListName = Field(description=LIST_NAME)
    move_tasks_to: ListName | None = Field(
        None, description="Moves its tasks to this list (made if new) first."
    )
    delete_tasks: bool = Field(False, description="true deletes its tasks with it.")


class ShareListInput(ToolInput):
    list: ListName = Field(description=LIST_NAME)
    user_id: UserId = Field(description="The user id to share it with (not your own).")
    role: Literal["editor", "viewer"] = Field(
        description="editor: may add, change, complete and delete its tasks; viewer: may read "
        "them. Sharing again with someone changes their role."
    )


class UnshareListInput(ToolInput):
    list: ListName = Field(description=LIST_NAME)
    user_id: UserId = Field(
        description="The member to remove (owner only); your own id leaves a list shared "
        "with you."
    )


class ListMembersInput(ToolInput):
    list: ListName = Field(description=LIST_NAME)


BATCH = (
    f"At most {MAX_BATCH_ITEMS} per call; each is applied or refused on its own, and the "
    "result has one entry per item, in this order."
)


def _at_most_a_batch(value: Any) -> Any:
    # Checked before any item is validated, so a flood costs nothing; the schema's maxItems
    # tells clients the same.
    if isinstance(value, list) and len(value) > MAX_BATCH_ITEMS:
        raise ValueError(
            f"at most {MAX_BATCH_ITEMS} items per call (got {len(value):,}); send the rest in "
            "further calls"
        )
    return value


class AddTasksInput(ToolInput):
    items: list[AddTaskInput] = Field(
        min_length=1, max_length=MAX_BATCH_ITEMS,
        description=f"The tasks to add, each with add_task's arguments. {BATCH}",
    )  # fmt: skip

    _limit = field_validator("items", mode="before")(_at_most_a_batch)


class UpdateTasksInput(ToolInput):
    items: list[UpdateTaskInput] = Field(
        min_length=1, max_length=MAX_BATCH_ITEMS,
        description=f"The changes, each with update_task's arguments. {BATCH}",
    )  # fmt: skip

    _limit = field_validator("items", mode="before")(_at_most_a_batch)


TASK_IDS = f"The tasks' ids. {BATCH}"


class CompleteTasksInput(ToolInput):
    task_ids: list[int] = Field(min_length=1, max_length=MAX_BATCH_ITEMS, description=TASK_IDS)
    completed: bool = Field(True, description="true marks them done; false reopens them.")
    subtasks: Literal["complete"] | None = CompleteTaskInput.model_fields["subtasks"]

    _limit = field_validator("task_ids", mode="before")(_at_most_a_batch)


class DeleteTasksInput(ToolInput):
    task_ids: list[int] = Field(min_length=1, max_length=MAX_BATCH_ITEMS, description=TASK_IDS)
    subtasks: Literal["delete", "keep"] | None = DeleteTaskInput.model_fields["subtasks"]
    confirm: bool = Field(
        False,
        description="Deleting 5 or more tasks asks the user first (when the client can ask), "
        "else is refused: send confirm: true once the user has agreed.",
    )

    _limit = field_validator("task_ids", mode="before")(_at_most_a_batch)


BATCH_INPUTS = (AddTasksInput, UpdateTasksInput)


def tool_schema(model: type[ToolInput]) -> dict[str, Any]:
    """The model's JSON schema as tools/list shows it.

    A batch's items keep every type and choice (strict-schema clients build their own
    schema from them) but not the descriptions and titles their single tool's schema gives
    already: they cost every client's tools/list about 1,000 tokens a batch tool.
    """
    schema = model.model_json_schema()
    if model in BATCH_INPUTS:
        for definition in schema.get("$defs", {}).values():
            definition.pop("title", None)
            for prop in definition.get("properties", {}).values():
                prop.pop("description", None)
                prop.pop("title", None)
    return schema
