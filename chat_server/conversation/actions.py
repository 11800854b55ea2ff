"""Widget button presses: change a task through the pooled MCP client, redraw the widget.

The task id comes from the action payload; the user only ever from authentication, sent to
the MCP server as `_meta`, exactly as the agent's own tool calls do. The MCP server then
refuses a task that is not the user's, and the refusal becomes a readable message.
"""

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, cast

from agents.mcp import MCPServer
from chatkit.actions import Action
from chatkit.store import Store
from chatkit.types import (
    HiddenContextItem,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    WidgetItem,
)

from chat_server.agent.markdown import plain
from chat_server.agent.task_tools import TOOL_RECORD, ToolRecord, call_task_tool
from chat_server.conversation import widgets
from chat_server.conversation.errors import assistant_message, describe_failure
from shared.auth import Principal
from shared.contract import COMPLETE_TASK, DELETE_TASK, RESTORE_TASK, TaskChange, ToolFailure

log = logging.getLogger(__name__)

# action type -> (tool, fixed arguments, verb for messages)
_ACTIONS: dict[str, tuple[str, dict[str, Any], str]] = {
    widgets.COMPLETE: (COMPLETE_TASK, {"completed": True}, "complete"),
    widgets.REOPEN: (COMPLETE_TASK, {"completed": False}, "reopen"),
    widgets.DELETE: (DELETE_TASK, {}, "delete"),
    widgets.RESTORE: (RESTORE_TASK, {}, "restore"),
}


class BadAction(Exception):
    """An action this server does not understand; the message says what is wrong."""


def parse_action(action: Action[str, Any]) -> tuple[str, dict[str, Any], str, int]:
    """(tool, arguments, verb, task id) for a widget action, or raise BadAction."""
    if action.type not in _ACTIONS:
        raise BadAction(f"I don't know the action {action.type!r}, so nothing was changed.")
    payload = action.payload
    task_id = payload.get("task_id") if isinstance(payload, dict) else None
    # bool is an int subclass; True must not mean task 1.
    if not isinstance(task_id, int) or isinstance(task_id, bool) or task_id < 1:
        raise BadAction("That button did not say which task it is for, so nothing was changed.")
    tool, fixed, verb = _ACTIONS[action.type]
    return tool, {"task_id": task_id, **fixed}, verb, task_id


def _message(store: Store[Principal], thread: ThreadMetadata, text: str, context: Principal
             ) -> ThreadItemDoneEvent:
    return ThreadItemDoneEvent(item=assistant_message(store, thread, text, context))


def _record(
    store: Store[Principal], thread: ThreadMetadata, context: Principal, record: ToolRecord
) -> ThreadItemDoneEvent:
    """The call as a hidden tool record, so the next turn's model knows the task changed."""
    item = HiddenContextItem(
        id=store.generate_item_id("message", thread, context),
        thread_id=thread.id,
        created_at=datetime.now(),
        content={TOOL_RECORD: record},
    )
    return ThreadItemDoneEvent(item=item)


def updated_widget(sender: WidgetItem, change: TaskChange, *, restored: bool = False
                   ) -> WidgetItem:
    """The sender widget item redrawn after a TaskChange, keeping its id and place."""
    task = change["task"]
    deleted = change["status"] == "deleted"
    # A restore is a "created" change to the task server; the card says what the user did.
    status = widgets.RESTORED if restored else widgets.change_status(change)
    widget = widgets.redraw(sender.widget, task, status=status, deleted=deleted)
    if change["next_task"] is not None:
        widget = widgets.add_row(widget, change["next_task"], after_id=task["id"])
    return sender.model_copy(update={"widget": widget})


async def handle_action(
    mcp: MCPServer,
    store: Store[Principal],
    thread: ThreadMetadata,
    action: Action[str, Any],
    *,
    sender: WidgetItem | None,
    context: Principal,
) -> AsyncIterator[ThreadStreamEvent]:
    """Run a task button's change for the authenticated user and update its widget in place."""
    try:
        tool, arguments, verb, task_id = parse_action(action)
    except BadAction as exc:
        yield _message(store, thread, str(exc), context)
        return
    try:
        result, record = await call_task_tool(mcp, tool, arguments, context.user_id)
    except ToolFailure as exc:
        text = f"I couldn't {verb} task {task_id}: {exc.reason}. Nothing was changed."
        yield _message(store, thread, text, context)
        return
    except Exception as exc:
        log.warning("action %s on task %s failed: %r", action.type, task_id, exc)
        yield _message(store, thread, describe_failure(exc), context)
        return
    change = cast(TaskChange, result)
    yield _record(store, thread, context, record)
    if sender is not None:
        restored = action.type == widgets.RESTORE
        yield ThreadItemReplacedEvent(item=updated_widget(sender, change, restored=restored))
    else:
        text = f"Task {task_id} {change['status']}: {plain(change['title'])}"
        yield _message(store, thread, text, context)
