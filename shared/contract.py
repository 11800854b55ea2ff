"""The task tools' contract: the one thing the MCP server and the chat server agree on.

The MCP server promises these tool names, argument values and result shapes; every client
(the chat server's agent, its widgets and buttons, the offline model, the tasks panel)
reads results through `read_result` or `read_output` here, so none of them parses tool
texts or error strings of its own.
"""

import json
import re
from typing import Any, Literal, get_args

from mcp.types import CallToolResult, TextContent
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

# Who a service-token call acts for: the chat server names the signed-in user here.
USER_META_KEY = "taskchat/user_id"
# The chat request a call is made for, so both processes log one id for it. (The W3C trace
# context travels in `_meta` too, as `traceparent`: the mcp SDK puts it there.)
REQUEST_ID_META_KEY = "taskchat/request_id"
# A client's own id for one call. A write sent again under the same id (after a broken
# connection left its fate unknown) is applied once: the repeat gets the first result.
CALL_ID_META_KEY = "taskchat/call_id"

ADD_TASK = "add_task"
LIST_TASKS = "list_tasks"
GET_TASK = "get_task"
UPDATE_TASK = "update_task"
COMPLETE_TASK = "complete_task"
DELETE_TASK = "delete_task"
TOOL_NAMES = (ADD_TASK, LIST_TASKS, GET_TASK, UPDATE_TASK, COMPLETE_TASK, DELETE_TASK)
CHANGE_TOOLS = frozenset({ADD_TASK, UPDATE_TASK, COMPLETE_TASK, DELETE_TASK})

Priority = Literal["low", "medium", "high"]
Recurrence = Literal["none", "daily", "weekly", "monthly", "yearly"]
Status = Literal["all", "pending", "completed"]
Sort = Literal["created", "due", "priority", "title"]
Order = Literal["asc", "desc"]
ChangeStatus = Literal["created", "updated", "completed", "reopened", "deleted"]

PRIORITIES: tuple[Priority, ...] = get_args(Priority)
"""By rank, lowest first."""
RECURRENCES: tuple[Recurrence, ...] = get_args(Recurrence)
STATUSES: tuple[Status, ...] = get_args(Status)
SORTS: tuple[Sort, ...] = get_args(Sort)
ORDERS: tuple[Order, ...] = get_args(Order)
MAX_PAGE_SIZE = 200

# The most of each task argument any endpoint reads (the MCP tools' schemas, the chat
# server's JSON API); more is refused at once, naming the field without quoting it. The task
# rules proper (titles of 200 characters, descriptions of 2000, 20 tags of 32: checked in
# mcp_server/task_rules.py) apply after spaces are trimmed, a tag's '#' dropped and duplicate
# tags merged, so these bounds are looser and refuse nothing those rules accept.
TITLE_INPUT_MAX_CHARS = 1000
DESCRIPTION_INPUT_MAX_CHARS = 10_000
TAG_INPUT_MAX_CHARS = 100
TAGS_INPUT_MAX_ITEMS = 100
DUE_INPUT_MAX_CHARS = 64
SEARCH_MAX_CHARS = 200


class TaskDict(TypedDict):
    """A task as tools return it."""

    id: int
    title: str
    description: str | None
    completed: bool
    completed_at: str | None
    priority: Priority
    tags: list[str]
    due: str | None
    recurrence: Recurrence
    created_at: str
    updated_at: str


class TaskChange(TypedDict):
    """What a write did: the task after it and, for a completed recurring task, the next one."""

    task_id: int
    status: ChangeStatus
    title: str
    task: TaskDict
    next_task: TaskDict | None


class TaskPage(TypedDict):
    """One page of tasks and the cursor for the next page (null on the last page)."""

    tasks: list[TaskDict]
    next_cursor: str | None


ToolResult = TaskDict | TaskChange | TaskPage

# How the MCP SDK words a tool error; the server raises its messages in this form.
TOOL_ERROR_PREFIX = "Error executing tool "
# What the Agents SDK hands the model when a call could not be made at all.
_AGENTS_RUN_ERROR = "An error occurred while running the tool"
_NOT_FOUND = re.compile(r"^Task (\d+) not found$")

_READERS: dict[str, TypeAdapter[Any]] = {
    LIST_TASKS: TypeAdapter(TaskPage),
    GET_TASK: TypeAdapter(TaskDict),
    **{name: TypeAdapter(TaskChange) for name in CHANGE_TOOLS},
}


class ToolFailure(Exception):
    """A task tool call failed; `reason` says why in the server's words ('Task 9 not found')."""

    def __init__(self, tool: str, reason: str, *, reached: bool = True) -> None:
        super().__init__(reason)
        self.tool = tool
        self.reason = reason
        self.reached = reached
        """False when the call never got an answer from the task server."""

    @property
    def missing_task(self) -> int | None:
        """The task id when the failure is that the task does not exist (for this user)."""
        match = _NOT_FOUND.match(self.reason)
        return int(match[1]) if match else None


def not_found_text(task_id: int) -> str:
    """How the server says a task does not exist, or is someone else's."""
    return f"Task {task_id} not found"


def tool_error_text(tool: str, reason: str) -> str:
    """A tool error as the server words it: the SDK's prefix, the tool, and the reason."""
    return f"{TOOL_ERROR_PREFIX}{tool}: {reason}"


def failure_of(tool: str, output: str) -> ToolFailure | None:
    """The failure an output text reports, or None when it is not an error text."""
    if output.startswith(_AGENTS_RUN_ERROR):
        return ToolFailure(tool, output, reached=False)
    if not output.startswith(TOOL_ERROR_PREFIX):
        return None
    _, _, reason = output.partition(": ")
    return ToolFailure(tool, reason.strip())


def read_output(tool: str, output: str) -> ToolResult:
    """A task tool's output text (what a model is shown) as its typed result.

    Raises ToolFailure for an error text, or for output that is not the contract's shape.
    """
    if (failure := failure_of(tool, output)) is not None:
        raise failure
    try:
        data = json.loads(output)
    except ValueError:
        raise ToolFailure(tool, f"{tool} returned something that is not JSON") from None
    return _validated(tool, data)


def read_result(tool: str, result: CallToolResult) -> ToolResult:
    """A task tool's CallToolResult as its typed result (structured content first)."""
    text = "\n".join(part.text for part in result.content if isinstance(part, TextContent))
    if result.is_error:
        failure = failure_of(tool, text)
        raise failure or ToolFailure(tool, text or "the task server refused the request")
    if isinstance(result.structured_content, dict):
        return _validated(tool, result.structured_content)
    return read_output(tool, text)


def _validated(tool: str, data: object) -> ToolResult:
    reader = _READERS.get(tool)
    if reader is None:
        raise ToolFailure(tool, f"{tool} is not a task tool")
    try:
        return reader.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        where = ".".join(map(str, exc.errors()[0]["loc"])) or "result"
        raise ToolFailure(tool, f"{tool} returned an unexpected result ({where})") from None
