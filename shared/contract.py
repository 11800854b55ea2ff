"""The task tools' contract: the one thing the MCP server and the chat server agree on.

The MCP server promises these tool names, argument values and result shapes; every client
(the chat server's agent, its widgets and buttons, the offline model, the tasks panel)
reads results through `read_result` or `read_output` here, so none of them parses tool
texts or error strings of its own.
"""

import json
from enum import StrEnum
from typing import Any, Literal, NotRequired, get_args

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
LIST_LISTS = "list_lists"
RENAME_LIST = "rename_list"
DELETE_LIST = "delete_list"
SHARE_LIST = "share_list"
UNSHARE_LIST = "unshare_list"
LIST_MEMBERS = "list_members"
TOOL_NAMES = (
    ADD_TASK, LIST_TASKS, GET_TASK, UPDATE_TASK, COMPLETE_TASK, DELETE_TASK, LIST_LISTS,
    RENAME_LIST, DELETE_LIST, SHARE_LIST, UNSHARE_LIST, LIST_MEMBERS,
)  # fmt: skip
MEMBER_TOOLS = frozenset({SHARE_LIST, UNSHARE_LIST, LIST_MEMBERS})
# Brings back a task deleted a moment ago under its own id (a TaskChange, status created).
RESTORE_TASK = "restore_task"
# The tasks the caller deleted that restore_task can still bring back (a DeletedPage).
LIST_DELETED_TASKS = "list_deleted_tasks"
CHANGE_TOOLS = frozenset({ADD_TASK, UPDATE_TASK, COMPLETE_TASK, DELETE_TASK})
LIST_CHANGE_TOOLS = frozenset({RENAME_LIST, DELETE_LIST})
# Several writes in one call, each item applied (or refused) on its own: a BatchResult.
ADD_TASKS = "add_tasks"
UPDATE_TASKS = "update_tasks"
COMPLETE_TASKS = "complete_tasks"
DELETE_TASKS = "delete_tasks"
BATCH_TOOLS = (ADD_TASKS, UPDATE_TASKS, COMPLETE_TASKS, DELETE_TASKS)
# The most items (tasks or task ids) one batch call may carry; more is refused whole.
MAX_BATCH_ITEMS = 25
# delete_tasks of this many tasks or more asks first, unless the call says confirm: true.
CONFIRM_DELETE_FROM = 5

Priority = Literal["low", "medium", "high"]
Recurrence = Literal["none", "daily", "weekly", "monthly", "yearly"]
# What a result's `recurrence` says: the old name of its `repeat` rule when it is a plain one
# (FREQ=WEEKLY is "weekly"), "custom" for every other rule.
RecurrenceShown = Literal["none", "daily", "weekly", "monthly", "yearly", "custom"]
RepeatFrom = Literal["due", "completion"]
SubtaskFilter = Literal["top_level", "all"]
Status = Literal["all", "pending", "completed"]
Sort = Literal["created", "due", "priority", "title"]
Order = Literal["asc", "desc"]
ChangeStatus = Literal["created", "updated", "completed", "reopened", "deleted"]
# What one may do in a list: its owner everything, an editor change its tasks, a viewer read.
Role = Literal["owner", "editor", "viewer"]
MemberRole = Literal["editor", "viewer"]

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


class ReminderSpec(TypedDict, total=False):
    """One reminder of a task: `before` its due (an ISO 8601 duration such as PT30M or P1D),
    or `at` a moment (an ISO 8601 date-time with its offset). Exactly one of the two."""

    before: str
    at: str


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
    recurrence: RecurrenceShown
    created_at: str
    updated_at: str
    # Since lists, subtasks and repeat rules (tasks_0007). NotRequired so a reader newer
    # than the task server it talks to (a rolling upgrade) still reads its results.
    list: NotRequired[str]
    list_id: NotRequired[int]
    parent_id: NotRequired[int | None]
    open_subtasks: NotRequired[int]
    repeat: NotRequired[str | None]
    repeat_from: NotRequired[RepeatFrom]
    repeat_text: NotRequired[str | None]
    timezone: NotRequired[str | None]
    # Since reminders (tasks_0008).
    reminders: NotRequired[list[ReminderSpec]]
    # Since shared lists (tasks_0012): the user id of the list's owner, the member the task
    # is assigned to (or null), and who made its last change (null when not known).
    owner: NotRequired[str]
    assignee: NotRequired[str | None]
    changed_by: NotRequired[str | None]


class TaskDetail(TaskDict):
    """A task as get_task returns it: with its subtasks (NotRequired, as TaskDict's new
    fields are)."""

    subtasks: NotRequired[list[TaskDict]]


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


class ListDict(TypedDict):
    """A task list and how many of its tasks are open and done."""

    name: str
    list_id: int
    color: str | None
    position: int
    inbox: bool
    open: int
    done: int
    # Since shared lists: the owner's user id, the caller's role in it ("owner", "editor" or
    # "viewer"), and whether it is shared with anyone.
    owner: NotRequired[str]
    role: NotRequired[Role]
    shared: NotRequired[bool]


class Member(TypedDict):
    """Someone who can see a list: its owner, or a member with their role."""

    user_id: str
    role: Role


class ListMembers(TypedDict):
    """Who can see a list (owner first), after share_list, unshare_list or list_members."""

    status: Literal["shared", "unshared", "left", "members"]
    list: ListDict
    members: list[Member]


class ListPage(TypedDict):
    """Every list of the caller."""

    lists: list[ListDict]


class ListChange(TypedDict):
    """What a list write did, to the list as it is now (as it was, when deleted)."""

    status: Literal["updated", "deleted"]
    list: ListDict
    moved_to: str | None


class BatchItem(TypedDict):
    """One item of a batch: ok with the task after its write (as it was, when deleted), or
    the refusal of that item alone (`error`, `code`, and `task_id` when one is named)."""

    ok: bool
    status: NotRequired[ChangeStatus]
    task: NotRequired[TaskDict]
    next_task: NotRequired[TaskDict | None]
    error: NotRequired[str]
    code: NotRequired[str]
    task_id: NotRequired[int]


class BatchResult(TypedDict):
    """What a batch tool did: one item per input, in input order, and the counts."""

    results: list[BatchItem]
    succeeded: int
    failed: int


class DeletedSubtask(TypedDict):
    """A subtask deleted with its parent (it comes back with it)."""

    id: int
    title: str


class DeletedTask(TypedDict):
    """A task the caller deleted, kept until `restorable_until` (UTC date-times)."""

    id: int
    title: str
    list: str | None
    deleted_at: str
    restorable_until: str
    subtasks: list[DeletedSubtask]


class DeletedPage(TypedDict):
    """What restore_task can still bring back, most recently deleted first."""

    deleted: list[DeletedTask]


ToolResult = (
    TaskDict
    | TaskChange
    | TaskPage
    | ListPage
    | ListChange
    | ListMembers
    | BatchResult
    | DeletedPage
)

# How the MCP SDK words a tool error; the server words its refusals the same way.
TOOL_ERROR_PREFIX = "Error executing tool "
# What the Agents SDK hands the model when a call could not be made at all.
_AGENTS_RUN_ERROR = "An error occurred while running the tool"
# Where a refusal's code travels: the result's `_meta`, which no client validates against
# the tool's outputSchema (structuredContent would be, by some clients, even on errors).
ERROR_META_KEY = "taskchat/error"

_READERS: dict[str, TypeAdapter[Any]] = {
    LIST_TASKS: TypeAdapter(TaskPage),
    GET_TASK: TypeAdapter(TaskDetail),
    **{name: TypeAdapter(TaskChange) for name in CHANGE_TOOLS},
    RESTORE_TASK: TypeAdapter(TaskChange),
    LIST_DELETED_TASKS: TypeAdapter(DeletedPage),
    LIST_LISTS: TypeAdapter(ListPage),
    **{name: TypeAdapter(ListChange) for name in LIST_CHANGE_TOOLS},
    **{name: TypeAdapter(ListMembers) for name in MEMBER_TOOLS},
    **{name: TypeAdapter(BatchResult) for name in BATCH_TOOLS},
}


class ErrorCode(StrEnum):
    """Why a task tool call failed, for programs; the message beside it is for people."""

    NOT_FOUND = "not_found"
    """No task with this id (`task_id` says which), or no list of that name, belongs to the
    caller."""
    CONFLICT = "conflict"
    """The call would drop or orphan tasks (a parent's subtasks, a list's tasks) without
    being told what to do with them; the message names the argument that says it."""
    INVALID_INPUT = "invalid_input"
    """An argument broke a rule; the message names it."""
    FORBIDDEN = "forbidden"
    """The caller sees this list or task but may not do this to it (a viewer's write; only
    the owner shares, renames or deletes a list; sharing in local mode); nothing changed."""
    CALL_ID_REUSED = "call_id_reused"
    """The call id was already used for another tool or other arguments."""
    CONFIRMATION_REQUIRED = "confirmation_required"
    """A destructive batch (delete_tasks of CONFIRM_DELETE_FROM tasks or more) was neither
    confirmed by the user when asked nor sent with confirm: true."""
    RATE_LIMITED = "rate_limited"
    UNAUTHORIZED = "unauthorized"
    """No acting user: no token, a scope the token lacks, or no user named for a service."""
    UNAVAILABLE = "unavailable"
    """The task database or the rate-limit storage is down; try again."""
    INTERNAL = "internal"
    """The server failed; the cause is only in its log."""
    UNREACHABLE = "unreachable"
    """(Client side) the call got no answer from the task server."""
    REFUSED = "refused"
    """(Client side) an error result that carries no code, e.g. an unknown tool."""


class ErrorBody(TypedDict):
    """A refusal in a result's `_meta[ERROR_META_KEY]`, and in the text our agents read."""

    code: str
    message: str
    task_id: NotRequired[int]


class ToolFailure(Exception):
    """A task tool call failed: `code` says why for programs, `reason` for people."""

    def __init__(
        self, tool: str, reason: str, code: ErrorCode = ErrorCode.REFUSED, *,
        task_id: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.tool = tool
        self.reason = reason
        self.code = code
        self.task_id = task_id

    @property
    def reached(self) -> bool:
        """False when the call never got an answer from the task server."""
        return self.code is not ErrorCode.UNREACHABLE

    @property
    def missing_task(self) -> int | None:
        """The task id when the failure is that the task does not exist (for this user)."""
        return self.task_id if self.code is ErrorCode.NOT_FOUND else None

    def body(self) -> ErrorBody:
        """The failure as the contract's error body."""
        body = ErrorBody(code=self.code.value, message=self.reason)
        if self.task_id is not None:
            body["task_id"] = self.task_id
        return body


def not_found_text(task_id: int) -> str:
    """How the server says a task does not exist, or is someone else's."""
    return f"Task {task_id} not found"


def tool_error_text(tool: str, reason: str) -> str:
    """A tool error as the server words it: the SDK's prefix, the tool, and the reason."""
    return f"{TOOL_ERROR_PREFIX}{tool}: {reason}"


def error_result(failure: ToolFailure) -> CallToolResult:
    """The result a server sends for a refused call: the SDK's text, the code in `_meta`."""
    text = TextContent(type="text", text=tool_error_text(failure.tool, failure.reason))
    return CallToolResult(content=[text], is_error=True, _meta={ERROR_META_KEY: failure.body()})


def failure_from(tool: str, body: object) -> ToolFailure | None:
    """The failure an error body describes, or None when `body` is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return None
    try:
        code = ErrorCode(str(body.get("code")))
    except ValueError:
        code = ErrorCode.REFUSED
    task_id = body.get("task_id")
    return ToolFailure(
        tool, body["message"], code, task_id=task_id if type(task_id) is int else None
    )


def failure_text(failure: ToolFailure) -> str:
    """A failure as the output text our own agents are shown: the error body as JSON."""
    return json.dumps({"error": failure.body()})


def as_model_output(tool: str, result: CallToolResult) -> CallToolResult:
    """`result`, with a refusal's text replaced by `failure_text` so its code reaches the
    readers of our agents' tool outputs (which see only the text of an error result)."""
    if not result.is_error:
        return result
    failure = _failure_in(tool, result)
    text = TextContent(type="text", text=failure_text(failure))
    return CallToolResult(content=[text], is_error=True, _meta=result.meta)


def failure_of(tool: str, output: str) -> ToolFailure | None:
    """The failure an output text reports, or None when it is not an error text."""
    if output.startswith(_AGENTS_RUN_ERROR):
        return ToolFailure(tool, output, ErrorCode.UNREACHABLE)
    if output.startswith('{"error"'):
        try:
            return failure_from(tool, json.loads(output).get("error"))
        except ValueError:
            return None
    if not output.startswith(TOOL_ERROR_PREFIX):
        return None
    # An output recorded before refusals carried codes: the reason, without one.
    _, _, reason = output.partition(": ")
    return ToolFailure(tool, reason.strip())


def _failure_in(tool: str, result: CallToolResult) -> ToolFailure:
    text = "\n".join(part.text for part in result.content if isinstance(part, TextContent))
    coded = failure_from(tool, (result.meta or {}).get(ERROR_META_KEY))
    return coded or failure_of(tool, text) or ToolFailure(
        tool, text or "the task server refused the request"
    )


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
        raise _failure_in(tool, result)
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
