"""The task tools as the chat server uses them: calls through the pool, saved records, summaries.

Every call acts for the authenticated user, named in `_meta`, never for a value a model
chose. Results are read through the contract (shared/contract.py). Each call is saved in
the thread as a hidden tool record, which the next turn's model input replays as a real
function call and its output.
"""

import json
from typing import Any, cast
from uuid import uuid4

from agents.mcp import MCPServer
from openai.types.responses import ResponseInputItemParam
from typing_extensions import TypedDict

from chat_server.agent.markdown import plain
from shared.contract import (
    ADD_TASK,
    UPDATE_TASK,
    USER_META_KEY,
    BatchResult,
    ListChange,
    ListMembers,
    TaskChange,
    ToolFailure,
    ToolResult,
    read_output,
    read_result,
)

TOOL_RECORD = "taskchat_tool_call"
"""The key of a hidden context item's content that holds a ToolRecord."""


class ToolRecord(TypedDict):
    """One tool call as saved in the thread: what the model asked for and what it was shown."""

    call_id: str
    name: str
    arguments: str
    output: str


def meta_for(user_id: str) -> dict[str, str]:
    """MCP `_meta` for a tool call made for `user_id`."""
    return {USER_META_KEY: user_id}


ZONED_TOOLS = frozenset({ADD_TASK, UPDATE_TASK})
"""The tools that take the zone a task's due and repeat rule are read in (`timezone`)."""
_NO_VALUE = (None, "")


def with_zone(name: str, arguments: dict[str, Any], zone: str | None) -> dict[str, Any]:
    """`arguments` with `timezone` set to the user's zone when the call needs one and left
    it out: an add_task or update_task call that sets a due with a time of day or a repeat
    rule (which, without a due, starts on the user's today).

    A zone given (even "") is the caller's choice and stays. Other calls get none: an edit
    of a title must not move the zone a task already repeats in (a user travelling), and a
    date-only task repeats by date. Nor does the old `recurrence` alone: the task server
    reads a date-only due in the zone there, a day early west of UTC (monthly from the 1st
    became "the 31st or the month's last day").
    """
    if zone is None or name not in ZONED_TOOLS or arguments.get("timezone") is not None:
        return arguments
    due = arguments.get("due")
    timed = isinstance(due, str) and "T" in due
    if not timed and arguments.get("repeat") in _NO_VALUE:
        return arguments
    return {**arguments, "timezone": zone}


async def call_task_tool(
    mcp: MCPServer, name: str, arguments: dict[str, Any], user_id: str
) -> tuple[ToolResult, ToolRecord]:
    """Call a task tool as `user_id`: its typed result and the record to save.

    Raises ToolFailure when the server refused the call (the reason in its words).
    """
    result = await mcp.call_tool(name, arguments, meta=meta_for(user_id))
    data = read_result(name, result)
    # The JSON the model is shown for its own calls too (use_structured_content), so a
    # recorded call reads back like any other.
    return data, tool_record(name, json.dumps(arguments), json.dumps(data))


def tool_record(name: str, arguments: str, output: str, call_id: str | None = None) -> ToolRecord:
    """The record of one call; calls the model did not make get an id of their own."""
    return ToolRecord(
        call_id=call_id or f"call_action_{uuid4().hex[:16]}",
        name=name,
        arguments=arguments,
        output=output,
    )


def record_in(content: object) -> ToolRecord | None:
    """The tool record a hidden context item holds, if it holds one."""
    record = content.get(TOOL_RECORD) if isinstance(content, dict) else None
    return cast(ToolRecord, record) if isinstance(record, dict) else None


def record_as_input(record: ToolRecord) -> list[ResponseInputItemParam]:
    """The record as model input: the function call, then its output."""
    return [
        {
            "type": "function_call",
            "call_id": record["call_id"],
            "name": record["name"],
            "arguments": record["arguments"],
        },
        {"type": "function_call_output", "call_id": record["call_id"], "output": record["output"]},
    ]


Outcome = ToolResult | ToolFailure
"""A finished call read once: its typed result, or why it has none."""


def outcome_of(name: str, output: str) -> Outcome:
    """A finished call's output text read through the contract, once."""
    try:
        return read_output(name, output)
    except ToolFailure as failure:
        return failure


def read_run(name: str, output: str) -> ToolResult | None:
    """A finished call's typed result, or None when it failed or is not in the contract's shape."""
    outcome = outcome_of(name, output)
    return None if isinstance(outcome, ToolFailure) else outcome


INBOX = "Inbox"
"""Where a task goes when no list is named: a summary need not say so."""
_DONE = {
    "created": "Added", "updated": "Updated", "completed": "Completed",
    "reopened": "Reopened", "deleted": "Deleted",
}
_FAILED = {
    "add_task": "add the task", "list_tasks": "list tasks", "get_task": "find the task",
    "update_task": "change the task", "complete_task": "complete the task",
    "delete_task": "delete the task", "list_lists": "list your lists",
    "rename_list": "change the list", "delete_list": "delete the list",
}


def summary(name: str, output: str) -> str:
    """One line in plain words for the workflow entry: what the tool did, or why it failed."""
    return describe(name, outcome_of(name, output))


def describe(name: str, outcome: Outcome) -> str:
    """`summary` of an output already read, as markdown: ChatKit renders a workflow entry's
    content as markdown, so a title (anyone's text) goes in through `plain()`."""
    if isinstance(outcome, ToolFailure):
        return f"Couldn't {_FAILED.get(name, name)}: {plain(outcome.reason[:200])}"
    data: Any = outcome
    if "tasks" in data or "lists" in data:
        kind, found = ("task", data["tasks"]) if "tasks" in data else ("list", data["lists"])
        count = len(found)
        return f"Found {count} {kind}{'' if count == 1 else 's'}" if count else f"Found no {kind}s"
    if "moved_to" in data:
        return _list_change(data)
    if "members" in data:
        return _sharing(data)
    if "task_id" in data or "results" in data:  # one write, or a batch of them
        return _task_change(data) if "task_id" in data else _batch(data)
    return f"Looked up “{plain(data['title'])}”"


def _batch(result: BatchResult) -> str:
    """Each item of a batch on a line of its own: what it did, or why it was refused."""
    lines = []
    for item in result["results"]:
        if item["ok"] and "task" in item:
            task = item["task"]
            status = item.get("status", "updated")
            lines.append(f"{_DONE[status]} “{plain(task['title'])}”")
        else:
            lines.append(f"Refused: {plain(str(item.get('error', ''))[:200])}")
    return "\n".join(lines) or "Changed no tasks"


def _task_change(change: TaskChange) -> str:
    """'Added “Milk” to Groceries', 'Added “Gym”, repeating every week': the list and the
    rule only for a new task, where the user did not see them before."""
    done = f"{_DONE[change['status']]} “{plain(change['title'])}”"
    if change["status"] != "created":
        return done
    task = change["task"]
    if (where := task.get("list")) and where != INBOX:
        done += f" to {plain(where)}"
    if words := task.get("repeat_text"):
        done += f", repeating {plain(words)}"
    return done


def _list_change(change: ListChange) -> str:
    name = f"“{plain(change['list']['name'])}”"
    if change["status"] == "updated":
        return f"Updated list {name}"
    moved = change["moved_to"]
    return f"Deleted list {name}" + (f", its tasks moved to {plain(moved)}" if moved else "")


_SHARING = {
    "shared": "Shared list", "unshared": "Stopped sharing list", "left": "Left list",
    "members": "Looked up who can see list",
}  # fmt: skip


def _sharing(change: ListMembers) -> str:
    return f"{_SHARING[change['status']]} “{plain(change['list']['name'])}”"


def output_text(result: object) -> str:
    """A tool's output as text, whatever shape the Agents SDK hands it over in."""
    if isinstance(result, str):
        return result
    if isinstance(result, dict) and "text" in result:
        return str(result["text"])
    if isinstance(result, list):
        return "\n".join(output_text(part) for part in result)
    return str(result)

