"""The MCP tools: thin adapters from a validated input model to an mcp_server/tasks.py function.

Each call resolves the acting user (mcp_server/auth.py), counts the call against that
user's MCP_RATE_LIMIT, runs the task function in a worker thread, and turns a domain error
into a refusal carrying its code and message (mcp_server/errors.py). A write runs once per
call id (calls.py); the write itself tells the chat servers' live pages of everyone who
sees its list, in its own transaction (mcp_server/access.py `announce`).
"""

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from limits.errors import StorageError
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, InputRequiredResult, TextContent, ToolAnnotations
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from mcp_server import batches, calls, links, lists, outputs, tasks, trash
from mcp_server.auth import CallerIdentity
from mcp_server.errors import Refused
from mcp_server.inputs import (
    AddTaskInput,
    AddTasksInput,
    CompleteTaskInput,
    CompleteTasksInput,
    DeleteListInput,
    DeleteTaskInput,
    DeleteTasksInput,
    GetTaskInput,
    ListDeletedTasksInput,
    ListListsInput,
    ListMembersInput,
    ListTasksInput,
    RenameListInput,
    RestoreTaskInput,
    ShareListInput,
    ToolInput,
    UnshareListInput,
    UpdateTaskInput,
    UpdateTasksInput,
    tool_schema,
)
from mcp_server.metrics import meta_of, tool_execution
from mcp_server.oauth import READ_SCOPE, WRITE_SCOPE
from mcp_server.sdk_compat import FuncMetadata, Tool
from shared.contract import (
    CALL_ID_META_KEY,
    TOOL_ERROR_PREFIX,
    BatchResult,
    DeletedPage,
    ErrorCode,
    ListChange,
    ListMembers,
    ListPage,
    ToolFailure,
    error_result,
)
from shared.db import UNAVAILABLE_ERRORS, run_db
from shared.observability import USER
from shared.ratelimit import RateLimiter

log = logging.getLogger(__name__)

LOCAL_MODE_SHARING = (
    "sharing needs more than one user, and this task server runs in local mode (one user, "
    "no sign-in); an operator turns on JWT_SECRET or OAUTH_ISSUER to share lists"
)
DATABASE_UNAVAILABLE = "the task database is unavailable right now; try again in a moment"
LIMITER_UNAVAILABLE = "the rate limit storage is unavailable right now; try again in a moment"

Handler = Callable[[Any, Context], Awaitable[Any]]


class TaskTools:
    """The tool bodies, bound to one database engine, one way of identifying callers and
    one per-user rate limit."""

    def __init__(
        self,
        engine: Engine,
        identity: CallerIdentity,
        limiter: RateLimiter,
        cursors: tasks.CursorSecret,
    ) -> None:
        self.engine = engine
        self.identity = identity
        self.limiter = limiter
        self.cursors = cursors

    async def add_task(self, args: AddTaskInput, ctx: Context) -> tasks.TaskChange:
        """Add a task to the caller's list and return it."""
        return await self._run(ctx, tasks.add_task, data=tasks.NewTask(**dict(args)), writes=True)

    async def list_tasks(self, args: ListTasksInput, ctx: Context) -> tasks.TaskPage:
        """List the caller's tasks, filtered and sorted, one page at a time.

        Pass next_cursor back as cursor (with the same sort and order) for the next page;
        it is null on the last page.
        """
        query = tasks.TaskQuery(**dict(args))
        return await self._run(ctx, tasks.list_tasks, query=query, cursor_secret=self.cursors)

    async def get_task(self, args: GetTaskInput, ctx: Context) -> tasks.TaskDetail:
        """Get one of the caller's tasks by id, with its subtasks."""
        return await self._run(ctx, tasks.get_task, task_id=args.task_id)

    async def update_task(self, args: UpdateTaskInput, ctx: Context) -> tasks.TaskChange:
        """Change fields of a task: omitted or null fields stay as they are, and the empty
        value clears one (description "", due "", tags [], repeat "", parent_id 0).
        skip: true moves a repeating task to its next occurrence."""
        return await self._run(
            ctx, tasks.update_task, task_id=args.task_id, changes=_changes(args), writes=True
        )

    async def complete_task(self, args: CompleteTaskInput, ctx: Context) -> tasks.TaskChange:
        """Mark a task done (or reopen it with completed=false).

        Completing a repeating task creates its next occurrence (with fresh subtasks),
        returned as next_task; null when the series ended. Completing a done task or
        reopening an open one changes nothing.
        """
        return await self._run(
            ctx, tasks.set_completed, task_id=args.task_id, completed=args.completed,
            subtasks=args.subtasks, writes=True,
        )  # fmt: skip

    async def delete_task(self, args: DeleteTaskInput, ctx: Context) -> tasks.TaskChange:
        """Delete a task for good; the result shows the task as it was."""
        return await self._run(
            ctx, tasks.delete_task, task_id=args.task_id, subtasks=args.subtasks, writes=True
        )

    async def restore_task(self, args: RestoreTaskInput, ctx: Context) -> tasks.TaskChange:
        """Bring back a task deleted in the last 10 minutes, under its own id, with its
        subtasks and reminders (status created); once."""
        return await self._run(ctx, trash.restore_task, task_id=args.task_id, writes=True)

    async def list_deleted_tasks(self, args: ListDeletedTasksInput, ctx: Context) -> DeletedPage:
        """The tasks you deleted in the last 10 minutes, which restore_task can still bring
        back, with the subtasks deleted with them; most recent first."""
        return await self._run(ctx, trash.deleted_tasks)

    async def add_tasks(self, args: AddTasksInput, ctx: Context) -> BatchResult:
        """Add several tasks in one call (each item takes add_task's arguments).

        results has one entry per item, in order: {ok: true, task} or {ok: false, error,
        code}; one refused item never stops the others."""
        writes = [
            batches.Write(tasks.add_task, {"data": tasks.NewTask(**dict(item))})
            for item in args.items
        ]
        return await self._run_batch(ctx, writes)

    async def update_tasks(self, args: UpdateTasksInput, ctx: Context) -> BatchResult:
        """Change several tasks in one call (each item takes update_task's arguments);
        results per item, in order, as add_tasks gives them."""
        writes = [
            batches.Write(tasks.update_task, {"task_id": item.task_id, "changes": _changes(item)})
            for item in args.items
        ]
        return await self._run_batch(ctx, writes)

    async def complete_tasks(self, args: CompleteTasksInput, ctx: Context) -> BatchResult:
        """Complete (or reopen, with completed=false) several tasks; results per task, in
        order, as add_tasks gives them."""
        kwargs = {"completed": args.completed, "subtasks": args.subtasks}
        writes = [
            batches.Write(tasks.set_completed, {"task_id": task_id, **kwargs})
            for task_id in args.task_ids
        ]
        return await self._run_batch(ctx, writes)

    async def delete_tasks(
        self, args: DeleteTasksInput, ctx: Context
    ) -> BatchResult | InputRequiredResult:
        """Delete several tasks for good; results per task, in order, as add_tasks gives
        them. 5 or more ask the user first, or need confirm: true."""
        writes = [
            batches.Write(tasks.delete_task, {"task_id": task_id, "subtasks": args.subtasks})
            for task_id in args.task_ids
        ]
        return await self._run_batch(
            ctx, writes, before=lambda: batches.confirm_delete(
                ctx, args.task_ids, confirmed=args.confirm
            ),
        )  # fmt: skip

    async def list_lists(self, args: ListListsInput, ctx: Context) -> ListPage:
        """The caller's task lists (Inbox first for a new user) with open and done counts."""
        return await self._run(ctx, lists.list_lists)

    async def rename_list(self, args: RenameListInput, ctx: Context) -> ListChange:
        """Rename a list (its tasks stay in it), or change its color or position."""
        return await self._run(
            ctx, lists.rename_list, name=args.list, new_name=args.new_name, color=args.color,
            position=args.position, writes=True,
        )  # fmt: skip

    async def delete_list(self, args: DeleteListInput, ctx: Context) -> ListChange:
        """Delete a list. One holding tasks needs move_tasks_to or delete_tasks: true; the
        Inbox cannot be deleted."""
        return await self._run(
            ctx, lists.delete_list, name=args.list, move_tasks_to=args.move_tasks_to,
            delete_tasks=args.delete_tasks, writes=True,
        )  # fmt: skip

    async def read(self, ctx: Context, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """`fn(session, user_id=caller, **kwargs)` checked and counted like a read tool's
        call (resources and completions read through here)."""
        return await self._run(ctx, fn, **kwargs)

    async def share_list(self, args: ShareListInput, ctx: Context) -> ListMembers:
        """Share one of your lists with another user as editor (changes its tasks) or viewer
        (reads them); again changes their role. Not in local mode; not the Inbox."""
        if self.identity.settings.mcp_local_mode:
            raise Refused(LOCAL_MODE_SHARING, ErrorCode.FORBIDDEN)
        return await self._run(
            ctx, lists.share_list, name=args.list, member=args.user_id, role=args.role,
            writes=True,
        )  # fmt: skip

    async def unshare_list(self, args: UnshareListInput, ctx: Context) -> ListMembers:
        """Remove a member from your list, or leave a list shared with you (your own
        user_id); they lose access at once and their assigned tasks are unassigned."""
        return await self._run(
            ctx, lists.unshare_list, name=args.list, member=args.user_id, writes=True
        )

    async def list_members(self, args: ListMembersInput, ctx: Context) -> ListMembers:
        """Who can see a list: its owner and its members with their roles."""
        return await self._run(ctx, lists.list_members, name=args.list)

    async def _run(
        self, ctx: Context, fn: Callable[..., Any], *, writes: bool = False, **kwargs: Any
    ) -> Any:
        # A write needs tasks:write, as oauth.TOOL_SCOPES says for the HTTP edge (which
        # test_scopes holds to each tool's readOnlyHint); checked again here for calls
        # that do not come through HTTP.
        scope = WRITE_SCOPE if writes else READ_SCOPE
        user_id = self.identity.user_id(ctx, scope)
        USER.set(user_id)  # for the log lines of this call
        await self._count_call(user_id)
        try:
            if writes:
                result = await run_db(
                    self.engine, calls.apply, fn, user_id=user_id, call_id=_call_id(ctx), **kwargs
                )
            else:
                result = await run_db(self.engine, fn, user_id=user_id, **kwargs)
        except tasks.TaskError as exc:
            raise Refused(str(exc), exc.code, task_id=exc.task_id) from None
        except UNAVAILABLE_ERRORS as exc:
            log.warning("database unavailable in %s: %s", fn.__name__, exc)
            raise Refused(DATABASE_UNAVAILABLE, ErrorCode.UNAVAILABLE) from exc
        return result

    async def _run_batch(
        self,
        ctx: Context,
        writes: list[batches.Write],
        *,
        before: Callable[[], Awaitable[InputRequiredResult | None]] | None = None,
    ) -> BatchResult | InputRequiredResult:
        # Counted as one call against the rate limit: MAX_BATCH_ITEMS bounds what it does.
        user_id = self.identity.user_id(ctx, WRITE_SCOPE)
        USER.set(user_id)
        await self._count_call(user_id)
        if before is not None and (question := await before()) is not None:
            return question
        outcomes = await run_db(
            self.engine, batches.apply_all, writes, user_id=user_id, call_id=_call_id(ctx),
            on_item=_progress(ctx, len(writes)),
        )  # fmt: skip
        return batches.summary(outcomes)

    async def _count_call(self, user_id: str) -> None:
        # Counted for the acting user, so the chat backend's one service token gives each of
        # its users a budget of their own; a refused call changes nothing.
        try:
            retry_after = await self.limiter.retry_after(user_id)
        except StorageError as exc:
            log.warning("rate limit storage unavailable: %s", exc.storage_error)
            raise Refused(LIMITER_UNAVAILABLE, ErrorCode.UNAVAILABLE) from exc
        if retry_after is not None:
            rate = self.limiter.item
            raise Refused(
                f"rate limit exceeded ({rate.amount} tool calls per {rate.multiples} "
                f"{rate.GRANULARITY.name}); retry in {retry_after} s",
                ErrorCode.RATE_LIMITED,
            )


def _changes(args: UpdateTaskInput) -> dict[str, Any]:
    """The fields an update names. Strict-schema clients (OpenAI strict mode) send null for
    every field they leave alone, so null is "unchanged" too."""
    return {
        field: value
        for field in args.model_fields_set - {"task_id"}
        if (value := getattr(args, field)) is not None
    }


def _progress(ctx: Context, total: int) -> Callable[[int], None] | None:
    """Reports a long batch's progress from its worker thread (a no-op when the client
    asked for none, or cannot be told: progress needs a streamed answer)."""
    if total < batches.PROGRESS_FROM:
        return None
    return lambda done: anyio.from_thread.run(ctx.report_progress, done, total)


def _call_id(ctx: Context) -> str | None:
    """The id the client gave this call in `_meta`, if any (calls.py)."""
    value = meta_of(ctx).get(CALL_ID_META_KEY)
    if value is None:
        return None
    try:
        return calls.check_call_id(value)
    except ValueError as exc:
        raise Refused(f"_meta[{CALL_ID_META_KEY!r}] {exc}", ErrorCode.INVALID_INPUT) from None


class TaskTool(Tool):
    """A tool whose body takes its whole input model and returns a JSON-ready dict.

    The SDK's generic path splits the model into keyword arguments (losing which ones the
    caller set, which update_task needs), and validates and dumps the result again
    although mcp_server/tasks.py built it in exactly the published shape.
    """

    input_model: type[ToolInput]

    async def run(
        self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False
    ) -> Any:
        """Validate, call the body, and wrap its dict as structured content plus JSON text;
        a refusal becomes an error result carrying its code (shared/contract.py)."""
        try:
            with tool_execution(self.name, meta_of(context)):
                result = await self._call(arguments, context)
        except Refused as exc:
            if not convert_result:
                raise
            failure = ToolFailure(self.name, str(exc), exc.code, task_id=exc.task_id)
            return error_result(failure)
        if not convert_result or isinstance(result, InputRequiredResult):
            return result
        # The text block is the compact form for readers of text; clients that understand
        # structured content (the chat backend among them) read that instead.
        text = TextContent(type="text", text=outputs.as_text(result))
        # Links after the text: clients that browse resources can open each task written.
        content = [text, *links.links_of(result)]
        return CallToolResult(content=content, structured_content=result)

    async def _call(self, arguments: dict[str, Any], context: Context[Any, Any]) -> Any:
        try:
            args = self.input_model.model_validate(_decode_json_lists(arguments))
        except ValidationError as exc:
            raise Refused(describe(exc), ErrorCode.INVALID_INPUT) from exc
        try:
            return await self.fn(args, context)
        except (MCPError, Refused):
            raise
        except ToolError as exc:  # the SDK's own, e.g. from a resolver: no code of ours
            raise Refused(str(exc), ErrorCode.INVALID_INPUT) from exc
        except Exception as exc:
            # A crash: its text stays in the server log, the client learns only the tool.
            raise UnexpectedToolError(TOOL_ERROR_PREFIX + self.name) from exc


def _decode_json_lists(arguments: dict[str, Any]) -> dict[str, Any]:
    # Some clients (Claude Desktop) send list arguments as a JSON string: '["a", "b"]'.
    tags = arguments.get("tags")
    if isinstance(tags, str) and tags.startswith("["):
        try:
            return {**arguments, "tags": json.loads(tags)}
        except ValueError:
            pass
    return arguments


def describe(error: ValidationError) -> str:
    """A ValidationError as one line per problem: "limit: Input should be ... (got 500)"."""
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "arguments"
        problem = f"{where}: {item['msg']}"
        if item["type"] not in ("missing", "extra_forbidden"):
            problem += f" (got {item['input']!r})"
        problems.append(problem)
    return "; ".join(problems)


READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def _writes(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


def build_tools(
    engine: Engine, identity: CallerIdentity, limiter: RateLimiter, cursors: tasks.CursorSecret
) -> list[Tool]:
    """Every task tool, ready for `MCPServer(tools=...)`."""
    body = TaskTools(engine, identity, limiter, cursors)
    specs: list[tuple[Handler, str, type[ToolInput], outputs.Schema, ToolAnnotations]] = [
        (body.add_task, "Add task", AddTaskInput, outputs.TASK_CHANGE,
         _writes(destructive=False, idempotent=False)),
        (body.list_tasks, "List tasks", ListTasksInput, outputs.TASK_PAGE, READ),
        (body.get_task, "Get task", GetTaskInput, outputs.TASK_DETAIL, READ),
        (body.update_task, "Update task", UpdateTaskInput, outputs.TASK_CHANGE,
         _writes(destructive=True, idempotent=True)),
        (body.complete_task, "Complete or reopen task", CompleteTaskInput, outputs.TASK_CHANGE,
         _writes(destructive=False, idempotent=True)),
        (body.delete_task, "Delete task", DeleteTaskInput, outputs.TASK_CHANGE,
         _writes(destructive=True, idempotent=True)),
        (body.restore_task, "Restore task", RestoreTaskInput, outputs.TASK_CHANGE,
         _writes(destructive=False, idempotent=False)),
        (body.list_deleted_tasks, "List deleted tasks", ListDeletedTasksInput,
         outputs.DELETED_PAGE, READ),
        (body.add_tasks, "Add tasks", AddTasksInput, outputs.BATCH_RESULT,
         _writes(destructive=False, idempotent=False)),
        (body.update_tasks, "Update tasks", UpdateTasksInput, outputs.BATCH_RESULT,
         _writes(destructive=True, idempotent=True)),
        (body.complete_tasks, "Complete or reopen tasks", CompleteTasksInput,
         outputs.BATCH_RESULT, _writes(destructive=False, idempotent=True)),
        (body.delete_tasks, "Delete tasks", DeleteTasksInput, outputs.BATCH_RESULT,
         _writes(destructive=True, idempotent=True)),
        (body.list_lists, "List lists", ListListsInput, outputs.LIST_PAGE, READ),
        (body.rename_list, "Rename list", RenameListInput, outputs.LIST_CHANGE,
         _writes(destructive=False, idempotent=True)),
        (body.delete_list, "Delete list", DeleteListInput, outputs.LIST_CHANGE,
         _writes(destructive=True, idempotent=True)),
        (body.share_list, "Share list", ShareListInput, outputs.LIST_MEMBERS,
         _writes(destructive=False, idempotent=True)),
        (body.unshare_list, "Unshare list", UnshareListInput, outputs.LIST_MEMBERS,
         _writes(destructive=True, idempotent=True)),
        (body.list_members, "List members", ListMembersInput, outputs.LIST_MEMBERS, READ),
    ]  # fmt: skip
    return [
        TaskTool(
            fn=fn,
            name=fn.__name__,
            title=title,
            description=_doc(fn),
            parameters=tool_schema(model),
            # output_model stays unset: results are built in the published shape already.
            fn_metadata=FuncMetadata(arg_model=model, output_schema=output),
            is_async=True,
            context_kwarg=None,
            annotations=annotations,
            input_model=model,
        )
        for fn, title, model, output, annotations in specs
    ]


def _doc(fn: Handler) -> str:
    lines = (fn.__doc__ or "").strip().splitlines()
    return "\n".join(line.strip() for line in lines)
