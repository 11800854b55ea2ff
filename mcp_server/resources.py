"""Tasks and lists as MCP resources, links to them in write results, and completions.

`task://{task_id}` is one task with its subtasks, `list://{list_id}` a list's open tasks
(`list://all`: every open task). Both are templates read for the caller only: another
user's id is "not found", exactly like a missing one. Completions offer the caller's own
tag and list names (and list ids) for the prompts' and templates' arguments.
"""

import json
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_REQUEST,
    CompleteRequestParams,
    CompleteResult,
    Completion,
)
from sqlalchemy import distinct, select
from sqlmodel import Session

from mcp_server import lists, tasks
from mcp_server.errors import Refused
from mcp_server.links import ALL_LISTS, JSON, task_uri
from mcp_server.models import MAX_TASK_ID, TASK_TABLE
from mcp_server.sdk_compat import ServerRequestContext
from mcp_server.tools import TaskTools
from shared.contract import ErrorCode

MAX_RESOURCE_TASKS = 200
MAX_COMPLETIONS = 100  # the protocol's cap on completion values
TASK_TEMPLATE = "task://{task_id}"
LIST_TEMPLATE = "list://{list_id}"


class TaskResources:
    """The resource templates and completions, read through the tools' checks (identity,
    scope, rate limit, database errors)."""

    def __init__(self, body: TaskTools) -> None:
        self.body = body

    def register(self, server: MCPServer) -> None:
        """Add the templates to `server`."""
        server.resource(
            TASK_TEMPLATE, name="task", title="Task", mime_type=JSON,
            description="One of your tasks, with its subtasks.",
        )(self.read_task)  # fmt: skip
        server.resource(
            LIST_TEMPLATE, name="list", title="Task list", mime_type=JSON,
            description="The open tasks of one of your lists (list://all: of every list).",
        )(self.read_list)  # fmt: skip

    async def read_task(self, task_id: str, ctx: Context) -> str:
        """One task of the caller, with its subtasks."""
        number = _number(task_id, f"task://{task_id}")
        detail = await self._read(ctx, task_uri(number), tasks.get_task, task_id=number)
        return json.dumps(detail)

    async def read_list(self, list_id: str, ctx: Context) -> str:
        """The open tasks of one list of the caller (or of all of them)."""
        uri = f"list://{list_id}"
        name = None
        if list_id != ALL_LISTS:
            number = _number(list_id, uri)
            page = await self._read(ctx, uri, lists.list_lists)
            named = [item for item in page["lists"] if item["list_id"] == number]
            if not named:
                raise ResourceNotFoundError(f"Unknown resource: {uri}")
            name = named[0]["name"]
        query = tasks.TaskQuery(status="pending", list=name, sort="due", limit=MAX_RESOURCE_TASKS)
        page = await self._read(
            ctx, uri, tasks.list_tasks, query=query, cursor_secret=self.body.cursors
        )
        return json.dumps({"list": name or ALL_LISTS, "tasks": page["tasks"]})

    async def _read(self, ctx: Context, uri: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return await self.body.read(ctx, fn, **kwargs)
        except Refused as exc:
            if exc.code == ErrorCode.NOT_FOUND:
                raise ResourceNotFoundError(f"Unknown resource: {uri}") from None
            raise MCPError(INVALID_REQUEST, str(exc)) from None

    async def complete(
        self, ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams
    ) -> CompleteResult:
        """completion/complete: the caller's tag names, list names or list ids."""
        kind = COMPLETES.get(params.argument.name)
        values: list[str] = []
        if kind is not None:
            try:
                found = await self.body.read(Context(request_context=ctx), kind)
            except Refused as exc:
                raise MCPError(INVALID_REQUEST, str(exc)) from None
            prefix = params.argument.value.lower()
            values = sorted(value for value in found if value.lower().startswith(prefix))
        return CompleteResult(
            completion=Completion(
                values=values[:MAX_COMPLETIONS], total=len(values),
                has_more=len(values) > MAX_COMPLETIONS,
            )
        )  # fmt: skip


def _number(text: str, uri: str) -> int:
    # Anything that is not an id a row can have is "not found", like a missing id.
    if not text.isdecimal() or not 0 < int(text) <= MAX_TASK_ID:
        raise ResourceNotFoundError(f"Unknown resource: {uri}")
    return int(text)


def tag_names(session: Session, *, user_id: str) -> list[str]:
    """Every tag on the caller's tasks."""
    columns = TASK_TABLE.c
    query = select(distinct(columns.tags)).where(columns.user_id == user_id)
    rows = session.execute(query).scalars()
    return sorted({tag for tags in rows for tag in tags or ()})


def list_names(session: Session, *, user_id: str) -> list[str]:
    """The names of the caller's lists."""
    return [item["name"] for item in lists.list_lists(session, user_id=user_id)["lists"]]


def list_ids(session: Session, *, user_id: str) -> list[str]:
    """The ids of the caller's lists, and `all`."""
    page = lists.list_lists(session, user_id=user_id)
    return [ALL_LISTS, *(str(item["list_id"]) for item in page["lists"])]


# Which argument names complete to what: the prompts' `tag` and `list`, the list
# template's `list_id` (task ids are not offered: there can be thousands).
COMPLETES: dict[str, Callable[..., list[str]]] = {
    "tag": tag_names,
    "list": list_names,
    "list_name": list_names,
    "list_id": list_ids,
}
