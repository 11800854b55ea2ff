"""What the tools return: output schemas written for cheap validation, and the text block.

Every client that validates results (the official Python client does, with jsonschema, on
its own event loop, for every call) pays for the schema's shape: these are inlined (no
`$ref`/`$defs`) and use type lists rather than `anyOf` with null, which validates about
twice as fast as the pydantic-generated form. The text block beside the structured content
is for clients and models that read text: one compact line per task instead of a second
JSON copy of the page, which every client would otherwise parse again.
"""

from typing import Any, get_args

from shared.contract import (
    PRIORITIES,
    RECURRENCES,
    ChangeStatus,
    TaskChange,
    TaskDict,
    TaskPage,
    ToolResult,
)

Schema = dict[str, Any]

UTC_TIME = "a UTC date-time like 2025-03-10T15:00:00Z"


def _field(types: str | list[str], description: str, **more: Any) -> Schema:
    return {"type": types, "description": description, **more}


TASK: Schema = {
    "type": "object",
    "description": "A task.",
    "properties": {
        "id": _field("integer", "The task's id; pass it to get_task, update_task and so on."),
        "title": _field("string", "What to do."),
        "description": _field(["string", "null"], "Longer notes, or null when there are none."),
        "completed": _field("boolean", "true once the task is done."),
        "completed_at": _field(
            ["string", "null"], f"When it was done ({UTC_TIME}), or null while it is open."
        ),
        "priority": _field("string", "low, medium or high.", enum=list(PRIORITIES)),
        "tags": _field("array", "Its tags, lowercase.", items={"type": "string"}),
        "due": _field(
            ["string", "null"],
            "null when it has no due date; a plain date (2025-03-10) when it is due some time "
            f"that day; {UTC_TIME} when it is due at that moment.",
        ),
        "recurrence": _field(
            "string", "How it repeats; none for a one-off task.", enum=list(RECURRENCES)
        ),
        "created_at": _field("string", f"When it was added ({UTC_TIME})."),
        "updated_at": _field("string", f"When it last changed ({UTC_TIME})."),
    },
    "required": [
        "id",
        "title",
        "description",
        "completed",
        "completed_at",
        "priority",
        "tags",
        "due",
        "recurrence",
        "created_at",
        "updated_at",
    ],  # fmt: skip
}


def _types(field: Schema) -> str:
    types = field["type"] if isinstance(field["type"], list) else [field["type"]]
    return " or ".join(types)


# A page's tasks are described field by field in one text rather than with a schema per
# field: a validating client descends into every property of every task, and for 50 tasks
# that was ~90% of the official client's CPU per call (5.6 ms against 0.5 ms measured).
# get_task and every write publish the full per-field schema for the same task shape.
TASK_IN_PAGE: Schema = {
    "type": "object",
    "description": "A task, with these fields (get_task's output schema types each one): "
    + "; ".join(
        f"{name} ({_types(field)}): {field['description'].rstrip('.')}"
        for name, field in TASK["properties"].items()
    ),
    "required": TASK["required"],
}

TASK_PAGE: Schema = {
    "type": "object",
    "description": "One page of tasks.",
    "properties": {
        "tasks": {**_field("array", "The tasks on this page, in the order asked for."),
                  "items": TASK_IN_PAGE},
        "next_cursor": _field(
            ["string", "null"],
            "Pass it as cursor (with the same sort and order) for the next page; null on the "
            "last page.",
        ),
    },
    "required": ["tasks", "next_cursor"],
}  # fmt: skip

TASK_CHANGE: Schema = {
    "type": "object",
    "description": "What a write did.",
    "properties": {
        "task_id": _field("integer", "The id of the task written."),
        "status": _field("string", "What happened to it.", enum=list(get_args(ChangeStatus))),
        "title": _field("string", "The task's title."),
        "task": {**TASK, "description": "The task after the change (as it was, when deleted)."},
        "next_task": {
            **TASK,
            "type": ["object", "null"],
            "description": "The next occurrence a completed recurring task created; else null.",
        },
    },
    "required": ["task_id", "status", "title", "task", "next_task"],
}


def as_text(result: ToolResult) -> str:
    """The compact text form of a tool result: one line per task, then the cursor."""
    if "tasks" in result:
        page: TaskPage = result  # type: ignore[assignment]
        lines = [task_line(task) for task in page["tasks"]] or ["no tasks"]
        cursor = page["next_cursor"]
        lines.append(f"next_cursor: {cursor}" if cursor else "next_cursor: null (last page)")
        return "\n".join(lines)
    if "task_id" in result:
        change: TaskChange = result  # type: ignore[assignment]
        text = f"{change['status']}: {task_text(change['task'])}"
        if change["next_task"] is not None:
            text += f"\nnext occurrence: {task_text(change['next_task'])}"
        return text
    return task_text(result)  # type: ignore[arg-type]


def task_line(task: TaskDict, *, brief: bool = True) -> str:
    """One task on one line: id, title, due, priority, tags, recurrence, state."""
    parts = [
        f"#{task['id']} {task['title']}",
        f"due {task['due']}" if task["due"] else "no due date",
        f"{task['priority']} priority",
        f"tags: {', '.join(task['tags'])}" if task["tags"] else "no tags",
    ]
    if task["recurrence"] != "none":
        parts.append(f"repeats {task['recurrence']}")
    parts.append(f"done {task['completed_at']}" if task["completed"] else "open")
    line = " | ".join(parts)
    if task["description"]:
        line += " | has notes (get_task shows them)" if brief else f"\nnotes: {task['description']}"
    return line


def task_text(task: TaskDict) -> str:
    """A task's line, followed by its notes when it has some."""
    return task_line(task, brief=False)
