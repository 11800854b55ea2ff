"""The tasks panel's JSON API: every task of the user, quick add (read like the chat reads a
message), edit, complete and delete, each through the same MCP client as the agent.

Counted against the panel's own rate limit (deps.PanelUser), not the chat's: a morning's
triage is dozens of clicks a minute, and none of them should be refused.
"""

import logging
from datetime import datetime, tzinfo
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from chat_server.agent.offline.grammar import parse
from chat_server.agent.offline.intents import AddSeveral, AddTask
from chat_server.agent.task_tools import call_task_tool, with_zone
from chat_server.agent.zones import HEADER, local_zone, zone_from_header
from chat_server.web.deps import ChatServerDep, PanelUser, SettingsDep
from chat_server.web.protocol import RequestError
from shared.contract import (
    ADD_TASK,
    COMPLETE_TASK,
    DELETE_LIST,
    DELETE_TASK,
    DESCRIPTION_INPUT_MAX_CHARS,
    DUE_INPUT_MAX_CHARS,
    LIST_DELETED_TASKS,
    LIST_LISTS,
    LIST_MEMBERS,
    LIST_TASKS,
    MAX_PAGE_SIZE,
    RENAME_LIST,
    RESTORE_TASK,
    SHARE_LIST,
    TAG_INPUT_MAX_CHARS,
    TAGS_INPUT_MAX_ITEMS,
    TITLE_INPUT_MAX_CHARS,
    UNSHARE_LIST,
    UPDATE_TASK,
    DeletedPage,
    ErrorCode,
    ListChange,
    ListMembers,
    ListPage,
    MemberRole,
    Priority,
    Recurrence,
    RepeatFrom,
    Status,
    TaskChange,
    TaskDict,
    TaskPage,
    ToolFailure,
)

log = logging.getLogger(__name__)

# The panel reads every task, a full page at a time, this many pages (1,000 tasks) per
# request: it shows the first at once and reads on with next_cursor, so 10,000 tasks appear
# as fast as 1,000 and are all counted a few seconds later.
PANEL_PAGES_PER_CALL = 5
# Far above any cursor list_tasks makes (about 100 characters); refuses a flood.
CURSOR_MAX_CHARS = 1000
OUTAGE = "The task server isn't answering right now, so nothing was changed."

router = APIRouter()

Tag = Annotated[str, Field(max_length=TAG_INPUT_MAX_CHARS)]
# Looser than the task server's own rules (a list name of 100 characters, a rule of 300),
# which it checks and words; these only refuse a flood before a call is made.
ListName = Annotated[str, Field(max_length=200)]
Rule = Annotated[str, Field(max_length=300)]
USER_ID_MAX_CHARS = 200


class Reminder(BaseModel):
    """One reminder: {"before": "PT30M"} before the due, or {"at": "<date-time>"}."""

    model_config = ConfigDict(extra="forbid")
    before: str | None = Field(default=None, max_length=DUE_INPUT_MAX_CHARS)
    at: str | None = Field(default=None, max_length=DUE_INPUT_MAX_CHARS)


Reminders = Annotated[list[Reminder], Field(max_length=10)]


class NewTaskBody(BaseModel):
    """The panel's quick add: a title and, optionally, when it is due and the rest.

    Bounded like add_task's arguments (shared/contract.py); the task server applies the rules.
    """

    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=TITLE_INPUT_MAX_CHARS)
    due: str | None = Field(
        default=None,
        max_length=DUE_INPUT_MAX_CHARS,
        description="ISO 8601 date or date-time with zone",
    )
    # The rest comes from what quick add read in the text, or lets "Undo" bring a deleted
    # task back as it was.
    description: str | None = Field(default=None, max_length=DESCRIPTION_INPUT_MAX_CHARS)
    priority: Priority | None = None
    tags: list[Tag] | None = Field(default=None, max_length=TAGS_INPUT_MAX_ITEMS)
    recurrence: Recurrence | None = None
    # A name, or the list_id of a list shared with the user (names are only one's own).
    list: ListName | int | None = None
    parent_id: int | None = None
    repeat: Rule | None = None
    repeat_from: RepeatFrom | None = None
    reminders: Reminders | None = None


class TaskEditBody(BaseModel):
    """An edit in place: the fields the user changed; "" clears a due date, notes or a
    repeat rule, [] the reminders."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=TITLE_INPUT_MAX_CHARS)
    description: str | None = Field(default=None, max_length=DESCRIPTION_INPUT_MAX_CHARS)
    due: str | None = Field(default=None, max_length=DUE_INPUT_MAX_CHARS)
    priority: Priority | None = None
    tags: list[Tag] | None = Field(default=None, max_length=TAGS_INPUT_MAX_ITEMS)
    list: ListName | None = None
    repeat: Rule | None = None
    repeat_from: RepeatFrom | None = None
    reminders: Reminders | None = None


class ShareBody(BaseModel):
    """Share a list with someone, or change their role."""

    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(min_length=1, max_length=USER_ID_MAX_CHARS)
    role: MemberRole


class ListRenameBody(BaseModel):
    """A list's new name (its tasks stay in it)."""

    model_config = ConfigDict(extra="forbid")
    new_name: ListName


class ListDeleteBody(BaseModel):
    """Where a deleted list's tasks go: another list (made if new), or deleted with it."""

    model_config = ConfigDict(extra="forbid")
    move_tasks_to: ListName | None = None
    delete_tasks: bool = False


class CompletionBody(BaseModel):
    """A checkbox: done (true, also when the body leaves it out) or open again (false)."""

    model_config = ConfigDict(extra="forbid")
    completed: bool = True


class QuickAddText(BaseModel):
    """What the user typed in quick add."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=TITLE_INPUT_MAX_CHARS)


class QuickAddReading(BaseModel):
    """The add_task arguments read from the text: one task, or several ("milk, eggs and
    bread"); empty when the text holds nothing to add."""

    tasks: list[dict[str, Any]]


# A task server refusal as the page's answer: what the user can act on is a 4xx in the
# server's words; what only the operator can fix (our own call refused) is a 502.
_ANSWERS: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.NOT_FOUND: (404, "not_found"),
    ErrorCode.CONFLICT: (409, "conflict"),
    ErrorCode.FORBIDDEN: (403, "forbidden"),
    ErrorCode.INVALID_INPUT: (400, "invalid_task"),
    ErrorCode.RATE_LIMITED: (429, "rate_limited"),
    ErrorCode.UNAVAILABLE: (503, "task_server_unavailable"),
    ErrorCode.UNREACHABLE: (503, "task_server_unavailable"),
}


def refusal(failure: ToolFailure) -> RequestError:
    """The answer to the page for a task tool call that failed."""
    answer = _ANSWERS.get(failure.code)
    if answer is None:
        return RequestError(502, "task_server_error", f"the task server refused: {failure.reason}")
    return RequestError(*answer, failure.reason)


async def call_tool(
    server: ChatServerDep, tool: str, arguments: dict[str, Any], user_id: str
) -> Any:
    """Run a task tool for a user of the page; refusals become answers by their code.

    An outage is said in plain words: the page is no place for the task server's address.
    """
    try:
        result, _ = await call_task_tool(server.mcp, tool, arguments, user_id)
    except ToolFailure as exc:
        raise refusal(exc) from None
    except Exception as exc:
        log.warning("%s for the page failed: %r", tool, exc)
        raise RequestError(503, "task_server_unavailable", OUTAGE) from None
    return result


@router.get("/api/tasks")
async def tasks_panel(
    user: PanelUser,
    server: ChatServerDep,
    status: Status = "all",
    cursor: Annotated[str | None, Query(max_length=CURSOR_MAX_CHARS)] = None,
) -> TaskPage:
    """The user's tasks, subtasks too, soonest due first: up to PANEL_PAGES_PER_CALL pages
    of list_tasks from `cursor` (the start when left out).

    next_cursor is null once every task was read; else the page asks again with it.
    """
    tasks: list[TaskDict] = []
    seen: set[int] = set()
    for _ in range(PANEL_PAGES_PER_CALL):
        arguments: dict[str, Any] = {
            "status": status,
            "sort": "due",
            "order": "asc",
            "limit": MAX_PAGE_SIZE,
            "subtasks": "all",
        }
        if cursor is not None:
            arguments["cursor"] = cursor
        page = cast(TaskPage, await call_tool(server, LIST_TASKS, arguments, user.user_id))
        # A task changed between two pages can show up on both.
        tasks.extend(t for t in page["tasks"] if t["id"] not in seen)
        seen.update(t["id"] for t in page["tasks"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return {"tasks": tasks, "next_cursor": cursor}


@router.get("/api/lists")
async def task_lists(user: PanelUser, server: ChatServerDep) -> ListPage:
    """The user's lists, in order, with their open and done counts (the list picker)."""
    return cast(ListPage, await call_tool(server, LIST_LISTS, {}, user.user_id))


def reading(text: str, now: datetime) -> list[dict[str, Any]]:
    """add_task arguments for quick-add text, as the offline model reads "add <text>".

    Only an add counts: text the model reads as anything else is a task of that title.
    """
    text = text.strip()
    if not text:
        return []
    match parse(f"add {text}", now):
        case AddTask(args=args):
            return [dict(args)]
        case AddSeveral(adds=adds):
            return [dict(add.args) for add in adds]
        case _:
            return [{"title": text}]


def page_zone(request: Request, settings: SettingsDep) -> tzinfo:
    """The user's zone: the page's X-Timezone, else the server's."""
    return zone_from_header(request.headers.get(HEADER)) or local_zone(settings.taskchat_timezone)


PageZone = Annotated[tzinfo, Depends(page_zone)]


def _zoned(tool: str, arguments: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """`arguments` with the user's zone when a timed due or a repeat rule needs one, as the
    chat's calls get it: 9:00 every weekday stays 9:00 across a daylight-saving change."""
    return with_zone(tool, arguments, getattr(zone, "key", None))


@router.post("/api/tasks/parse")
async def read_quick_add(body: QuickAddText, user: PanelUser, zone: PageZone) -> QuickAddReading:
    """What quick add understood (date, time, priority, tags, repeat, reminders), before it
    adds it.

    "tomorrow 8am" is the user's: read in the X-Timezone zone like a chat message.
    """
    return QuickAddReading(tasks=reading(body.text, datetime.now(zone)))


@router.post("/api/tasks")
async def add_task(
    body: NewTaskBody, user: PanelUser, server: ChatServerDep, zone: PageZone
) -> TaskChange:
    """Add a task from the panel's quick-add field."""
    arguments = _zoned(ADD_TASK, body.model_dump(exclude_none=True), zone)
    return cast(TaskChange, await call_tool(server, ADD_TASK, arguments, user.user_id))


@router.patch("/api/tasks/{task_id}")
async def edit_task(
    task_id: int, body: TaskEditBody, user: PanelUser, server: ChatServerDep, zone: PageZone
) -> TaskChange:
    """Change a task's title, notes, due date and time, priority, tags, list, repeat rule or
    reminders in place."""
    changes = {"task_id": task_id, **body.model_dump(exclude_none=True)}
    arguments = _zoned(UPDATE_TASK, changes, zone)
    return cast(TaskChange, await call_tool(server, UPDATE_TASK, arguments, user.user_id))


@router.post("/api/tasks/{task_id}/complete")
async def complete_task(
    task_id: int,
    user: PanelUser,
    server: ChatServerDep,
    body: Annotated[CompletionBody | None, Body()] = None,
) -> TaskChange:
    """Complete a task (or reopen it with completed=false) from its checkbox.

    Ticking a parent ticks its open subtasks too: the checkbox is the user's choice for the
    whole task, and the panel shows them ticked under it.
    """
    completed = body is None or body.completed
    arguments: dict[str, Any] = {"task_id": task_id, "completed": completed}
    if completed:
        arguments["subtasks"] = "complete"
    return cast(TaskChange, await call_tool(server, COMPLETE_TASK, arguments, user.user_id))


@router.delete("/api/tasks/{task_id}")
async def delete_task(task_id: int, user: PanelUser, server: ChatServerDep) -> TaskChange:
    """Delete a task from the panel, its subtasks with it (Undo restores them all)."""
    arguments = {"task_id": task_id, "subtasks": "delete"}
    return cast(TaskChange, await call_tool(server, DELETE_TASK, arguments, user.user_id))


@router.get("/api/tasks/deleted")
async def deleted_tasks(user: PanelUser, server: ChatServerDep) -> DeletedPage:
    """The tasks the user deleted that can still be restored ("Recently deleted")."""
    return cast(DeletedPage, await call_tool(server, LIST_DELETED_TASKS, {}, user.user_id))


@router.post("/api/tasks/{task_id}/restore")
async def restore_task(task_id: int, user: PanelUser, server: ChatServerDep) -> TaskChange:
    """Bring back a task the user deleted a moment ago: the same id, notes, subtasks."""
    restored = await call_tool(server, RESTORE_TASK, {"task_id": task_id}, user.user_id)
    return cast(TaskChange, restored)


@router.patch("/api/lists/{list_id}")
async def rename_list(
    list_id: int, body: ListRenameBody, user: PanelUser, server: ChatServerDep
) -> ListChange:
    """Rename one of the user's lists; its tasks stay in it."""
    arguments = {"list": list_id, "new_name": body.new_name}
    return cast(ListChange, await call_tool(server, RENAME_LIST, arguments, user.user_id))


@router.delete("/api/lists/{list_id}")
async def delete_list(
    list_id: int, user: PanelUser, server: ChatServerDep, body: ListDeleteBody
) -> ListChange:
    """Delete one of the user's lists: the task server refuses a list that still has tasks
    unless the body says where they go or that they go with it."""
    arguments = {"list": list_id, **body.model_dump(exclude_none=True)}
    return cast(ListChange, await call_tool(server, DELETE_LIST, arguments, user.user_id))


@router.get("/api/lists/{list_id}/members")
async def list_members(list_id: int, user: PanelUser, server: ChatServerDep) -> ListMembers:
    """Who can see a list: its owner first, then each member with their role."""
    return cast(ListMembers, await call_tool(server, LIST_MEMBERS, {"list": list_id}, user.user_id))


@router.post("/api/lists/{list_id}/members")
async def share_list(
    list_id: int, body: ShareBody, user: PanelUser, server: ChatServerDep
) -> ListMembers:
    """Share one of the user's lists (the task server refuses anyone but its owner)."""
    arguments = {"list": list_id, "user_id": body.user_id, "role": body.role}
    return cast(ListMembers, await call_tool(server, SHARE_LIST, arguments, user.user_id))


@router.delete("/api/lists/{list_id}/members/{member}")
async def unshare_list(
    list_id: int,
    member: Annotated[str, Path(max_length=USER_ID_MAX_CHARS)],
    user: PanelUser,
    server: ChatServerDep,
) -> ListMembers:
    """Remove a member (the owner), or leave a list shared with the user (their own id)."""
    arguments = {"list": list_id, "user_id": member}
    return cast(ListMembers, await call_tool(server, UNSHARE_LIST, arguments, user.user_id))
