"""Widget button presses: change a task through the pooled MCP client, redraw the widget.

The task id comes from the action payload; the user only ever from authentication, sent to
the MCP server as `_meta`, exactly as the agent's own tool calls do. The MCP server then
refuses a task that is not the user's, and the refusal becomes a readable message.
"""

import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import uuid4

from agents.mcp import MCPServer
from chatkit.actions import Action
from chatkit.store import Store
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    HiddenContextItem,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    WidgetItem,
)
from mcp.types import CallToolResult, TextContent

from chat_server import widgets
from chat_server.agent import TOOL_RECORD
from chat_server.errors import describe_failure
from shared.auth import USER_META_KEY, Principal

log = logging.getLogger(__name__)

TOOL_ERROR_PREFIX = "Error executing tool "

# action type -> (tool, fixed arguments, verb for messages)
_ACTIONS: dict[str, tuple[str, dict[str, Any], str]] = {
    widgets.COMPLETE: ("complete_task", {"completed": True}, "complete"),
    widgets.REOPEN: ("complete_task", {"completed": False}, "reopen"),
    widgets.DELETE: ("delete_task", {}, "delete"),
}


class TaskToolError(Exception):
    """The MCP server refused a task tool call; the message says why (e.g. 'Task 9 not found')."""


class BadAction(Exception):
    """An action this server does not understand; the message says what is wrong."""


def _result_text(result: CallToolResult) -> str:
    return "\n".join(part.text for part in result.content if isinstance(part, TextContent))


def tool_error_reason(text: str) -> str:
    """'Error executing tool complete_task: Task 9 not found' -> 'Task 9 not found'."""
    if text.startswith(TOOL_ERROR_PREFIX):
        return text.split(": ", 1)[-1]
    return text or "the task server refused the request"


async def call_task_tool(
    mcp: MCPServer, name: str, arguments: dict[str, Any], user_id: str
) -> tuple[dict[str, Any], str]:
    """Call a task tool as `user_id`: its JSON result and raw text, or raise TaskToolError."""
    result = await mcp.call_tool(name, arguments, meta={USER_META_KEY: user_id})
    text = _result_text(result)
    if result.is_error:
        raise TaskToolError(tool_error_reason(text))
    data = result.structured_content
    if not isinstance(data, dict):
        try:
            data = json.loads(text)
        except ValueError:
            raise TaskToolError(f"{name} returned something that is not JSON") from None
    if not isinstance(data, dict):
        raise TaskToolError(f"{name} returned {type(data).__name__}, not an object")
    return data, text or json.dumps(data)


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
    item = AssistantMessageItem(
        id=store.generate_item_id("message", thread, context),
        thread_id=thread.id,
        created_at=datetime.now(),
        content=[AssistantMessageContent(text=text)],
    )
    return ThreadItemDoneEvent(item=item)


def _record(
    store: Store[Principal], thread: ThreadMetadata, context: Principal,
    tool: str, arguments: dict[str, Any], output: str,
) -> ThreadItemDoneEvent:
    """The call as a hidden tool record, so the next turn's model knows the task changed."""
    record = {
        "call_id": f"call_action_{uuid4().hex[:16]}",
        "name": tool,
        "arguments": json.dumps(arguments),
        "output": output,
    }
    item = HiddenContextItem(
        id=store.generate_item_id("message", thread, context),
        thread_id=thread.id,
        created_at=datetime.now(),
        content={TOOL_RECORD: record},
    )
    return ThreadItemDoneEvent(item=item)


def updated_widget(sender: WidgetItem, change: dict[str, Any]) -> WidgetItem:
    """The sender widget item redrawn after a TaskChange, keeping its id and place."""
    task = widgets.normalize(change.get("task"))
    if task is None:
        return sender
    deleted = change.get("status") == "deleted"
    widget = widgets.redraw(
        sender.widget, task, status=widgets.change_status(change), deleted=deleted
    )
    next_task = widgets.normalize(change.get("next_task"))
    if next_task is not None:
        widget = widgets.add_row(widget, next_task, after_id=task["id"])
    return sender.model_copy(update={"widget": widget})


async def handle_action(
    mcp: MCPServer,
    store: Store[Principal],
    thread: ThreadMetadata,
    action: Action[str, Any],
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
        change, output = await call_task_tool(mcp, tool, arguments, context.user_id)
    except TaskToolError as exc:
        text = f"I couldn't {verb} task {task_id}: {exc}. Nothing was changed."
        yield _message(store, thread, text, context)
        return
    except Exception as exc:
        log.warning("action %s on task %s failed: %r", action.type, task_id, exc)
        yield _message(store, thread, describe_failure(exc), context)
        return
    yield _record(store, thread, context, tool, arguments, output)
    if sender is not None and isinstance(change.get("task"), dict):
        yield ThreadItemReplacedEvent(item=updated_widget(sender, change))
    else:
        title = change.get("title", "")
        yield _message(store, thread, f"Task {task_id} {change.get('status')}: {title}", context)
