"""One pydantic input model per tool: the tool's JSON schema and the descriptions a model reads.

Types and choices are checked here; every other rule (lengths, tag alphabet, date formats)
is checked once, in shared/task_rules.py, so the MCP tools and any other caller agree.
"""

from pydantic import ConfigDict, Field

from mcp_server.sdk_compat import ArgModelBase
from shared.contract import MAX_PAGE_SIZE, Order, Priority, Recurrence, Sort, Status

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
    "Repeat interval. Completing a recurring task creates its next occurrence, due one "
    "interval later (monthly on the 31st falls back to the month's last day)."
)


class ToolInput(ArgModelBase):
    """Base of every tool input: unknown arguments are refused, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class AddTaskInput(ToolInput):
    title: str = Field(description=TITLE)
    description: str | None = Field(None, description=DESCRIPTION)
    due: str | None = Field(None, description=DUE)
    priority: Priority = Field("medium", description=PRIORITY)
    tags: list[str] | None = Field(None, description=TAGS)
    recurrence: Recurrence = Field("none", description=RECURRENCE)


class ListTasksInput(ToolInput):
    status: Status = Field(
        "all", description="Which tasks: all, pending (not completed) or completed."
    )
    search: str | None = Field(
        None, description="Case-insensitive text to find in the title or description."
    )
    tag: str | None = Field(None, description="Only tasks with this tag.")
    priority: Priority | None = Field(None, description="Only tasks with this priority.")
    due_before: str | None = Field(
        None,
        description="Only tasks due on or before this date or date-time (a date includes "
        "its whole day). Tasks without a due date are left out.",
    )
    due_after: str | None = Field(
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
        max_length=64,
        description="The user's IANA time zone (e.g. Asia/Tokyo): the days of due_before, "
        "due_after and overdue are that zone's days. Default UTC.",
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
        description="next_cursor from the previous page, with the same sort and order; "
        "omit it for the first page.",
    )


class GetTaskInput(ToolInput):
    task_id: int = Field(description=TASK_ID)


class UpdateTaskInput(ToolInput):
    """Omitted or null fields stay as they are; clearing uses the empty value."""

    task_id: int = Field(description=TASK_ID)
    title: str | None = Field(None, description=f"{TITLE} null leaves it unchanged.")
    description: str | None = Field(
        None, description=f'{DESCRIPTION} "" removes it; null leaves it unchanged.'
    )
    due: str | None = Field(
        None, description=f'{DUE} "" removes the due date; null leaves it unchanged.'
    )
    priority: Priority | None = Field(None, description=f"{PRIORITY} null leaves it unchanged.")
    tags: list[str] | None = Field(
        None, description=f"Replaces all tags. {TAGS} [] removes every tag; null leaves them."
    )
    recurrence: Recurrence | None = Field(
        None, description=f'{RECURRENCE} "none" stops it repeating; null leaves it unchanged.'
    )


class CompleteTaskInput(ToolInput):
    task_id: int = Field(description=TASK_ID)
    completed: bool = Field(True, description="true marks the task done; false reopens it.")


class DeleteTaskInput(ToolInput):
    task_id: int = Field(description=TASK_ID)
