"""What the tools return: output schemas written for cheap validation, and the text block.

Every client that validates results (the official Python client does, with jsonschema, on
its own event loop, for every call) pays for the schema's shape: these are inlined (no
`$ref`/`$defs`) and use type lists rather than `anyOf` with null, which validates about
twice as fast as the pydantic-generated form. The text block beside the structured content
is for clients and models that read text: one compact line per task instead of a second
JSON copy of the page, which every client would otherwise parse again.
"""

from collections.abc import Callable
from typing import Any, get_args

from shared.contract import (
    PRIORITIES,
    BatchItem,
    BatchResult,
    ChangeStatus,
    DeletedPage,
    ErrorCode,
    ListChange,
    ListDict,
    ListMembers,
    ListPage,
    RecurrenceShown,
    RepeatFrom,
    Role,
    TaskChange,
    TaskDetail,
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
            "string",
            "Old name of repeat: none, daily, weekly, monthly, yearly, or custom for other rules.",
            enum=list(get_args(RecurrenceShown)),
        ),
        "created_at": _field("string", f"When it was added ({UTC_TIME})."),
        "updated_at": _field("string", f"When it last changed ({UTC_TIME})."),
        "list": _field("string", "Its list's name."),
        "list_id": _field("integer", "Its list's id."),
        "parent_id": _field(["integer", "null"], "Its parent task; null at top level."),
        "open_subtasks": _field("integer", "How many of its subtasks are open."),
        "repeat": _field(["string", "null"], "Its RRULE (FREQ=...), or null for a one-off."),
        "repeat_from": _field(
            "string", "due or completion: what the next occurrence follows.",
            enum=list(get_args(RepeatFrom)),
        ),
        "repeat_text": _field(["string", "null"], "The rule in words, e.g. every 2 weeks on Tue."),
        "timezone": _field(["string", "null"], "IANA zone it repeats in; null: UTC."),
        "reminders": _field(
            "array",
            'Its reminders: {"before": "PT30M"} (before the due) or {"at": "<date-time>"}.',
            items={"type": "object"},
        ),
        "owner": _field("string", "The user id of its list's owner."),
        "assignee": _field(["string", "null"], "Who it is assigned to (a user id), or null."),
        "changed_by": _field(["string", "null"], "Who made its last change (a user id)."),
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
        "list",
        "list_id",
        "parent_id",
        "open_subtasks",
        "repeat",
        "repeat_from",
        "repeat_text",
        "timezone",
        "reminders",
        "owner",
        "assignee",
        "changed_by",
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

TASK_DETAIL: Schema = {
    **TASK,
    "description": "A task with its subtasks.",
    "properties": {
        **TASK["properties"],
        "subtasks": {
            **_field("array", "Its subtasks, oldest first."),
            "items": {"type": "object", "description": "A subtask, with the fields of a task.",
                      "required": TASK["required"]},
        },  # fmt: skip
    },
    "required": [*TASK["required"], "subtasks"],
}

LIST: Schema = {
    "type": "object",
    "description": "A task list.",
    "properties": {
        "name": _field("string", "Its name; pass it as list."),
        "list_id": _field("integer", "Its id."),
        "color": _field(["string", "null"], "Its colour (#rrggbb), or null."),
        "position": _field("integer", "Its place among the lists, lowest first."),
        "inbox": _field("boolean", "true for the Inbox, where tasks without a list go."),
        "open": _field("integer", "How many of its tasks are open."),
        "done": _field("integer", "How many of its tasks are done."),
        "owner": _field("string", "Its owner's user id."),
        "role": _field(
            "string", "Your role: owner, editor (changes tasks) or viewer (reads them).",
            enum=list(get_args(Role)),
        ),
        "shared": _field("boolean", "true when it is shared with anyone."),
    },
    "required": [
        "name", "list_id", "color", "position", "inbox", "open", "done", "owner", "role",
        "shared",
    ],
}  # fmt: skip

LIST_MEMBERS: Schema = {
    "type": "object",
    "description": "Who can see a list.",
    "properties": {
        "status": _field(
            "string", "What the call did: shared, unshared, left (you left it) or members.",
            enum=["shared", "unshared", "left", "members"],
        ),
        "list": {**LIST, "description": "The list."},
        "members": {
            **_field("array", "Its owner first, then its members."),
            "items": {
                "type": "object",
                "properties": {
                    "user_id": _field("string", "Their user id."),
                    "role": _field("string", "owner, editor or viewer.",
                                   enum=list(get_args(Role))),
                },
                "required": ["user_id", "role"],
            },
        },
    },
    "required": ["status", "list", "members"],
}  # fmt: skip

LIST_PAGE: Schema = {
    "type": "object",
    "description": "Every list.",
    "properties": {"lists": {**_field("array", "The lists, in order."), "items": LIST}},
    "required": ["lists"],
}

LIST_CHANGE: Schema = {
    "type": "object",
    "description": "What a list write did.",
    "properties": {
        "status": _field("string", "updated or deleted.", enum=["updated", "deleted"]),
        "list": {**LIST, "description": "The list now (as it was, when deleted)."},
        "moved_to": _field(["string", "null"], "Where its tasks went, if moved."),
    },
    "required": ["status", "list", "moved_to"],
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
        # Typed field by field once (task): the copy would cost every client's tools/list
        # about 1,500 tokens.
        "next_task": {
            "type": ["object", "null"],
            "description": "The next occurrence a completed repeating task created, with the "
            "fields of task; null otherwise (also when the series ended).",
            "required": TASK["required"],
        },
    },
    "required": ["task_id", "status", "title", "task", "next_task"],
}


# An item's task names the task fields (typed one by one in get_task's and the single
# writes' schemas) rather than typing each again in every batch tool.
_TASK_NAMED = {"type": "object", "required": TASK["required"]}

BATCH_RESULT: Schema = {
    "type": "object",
    "description": "What a batch did, item by item.",
    "properties": {
        "results": {
            **_field("array", "One entry per item, in input order."),
            "items": {
                "type": "object",
                "description": "ok: true with status and task, or ok: false with error, code "
                "(and task_id when it names one).",
                "properties": {
                    "ok": _field("boolean", "true when this item was applied."),
                    "status": _field("string", "What happened.", enum=list(get_args(ChangeStatus))),
                    "task": {**_TASK_NAMED, "description": "The task after it (as it was, when "
                             "deleted), with the fields of a task."},
                    "next_task": {**_TASK_NAMED, "description": "A completed repeating task's "
                                  "next occurrence, when one was made."},
                    "error": _field("string", "Why this item was refused."),
                    "code": _field("string", "The refusal's code.",
                                   enum=[code.value for code in ErrorCode]),
                    "task_id": _field("integer", "The task the refusal names."),
                },
                "required": ["ok"],
            },
        },
        "succeeded": _field("integer", "How many items were applied."),
        "failed": _field("integer", "How many were refused."),
    },
    "required": ["results", "succeeded", "failed"],
}  # fmt: skip


DELETED_PAGE: Schema = {
    "type": "object",
    "description": "What restore_task can still bring back.",
    "properties": {
        "deleted": {
            **_field("array", "Most recently deleted first."),
            "items": {
                "type": "object",
                "properties": {
                    "id": _field("integer", "The task's id; pass it to restore_task."),
                    "title": _field("string", "Its title."),
                    "list": _field(["string", "null"], "The list it was in."),
                    "deleted_at": _field("string", f"When ({UTC_TIME})."),
                    "restorable_until": _field("string", "Restorable until then."),
                    "subtasks": {
                        **_field("array", "Subtasks deleted with it (they come back too)."),
                        "items": {"type": "object", "required": ["id", "title"]},
                    },
                },
                "required": ["id", "title", "list", "deleted_at", "restorable_until", "subtasks"],
            },
        },
    },
    "required": ["deleted"],
}


def as_text(result: ToolResult) -> str:
    """The compact text form of a tool result: one line per task, then the cursor."""
    for key, render in _TEXTS:
        if key in result:
            return render(result)
    return task_text(result)  # type: ignore[arg-type]


def _deleted_text(page: DeletedPage) -> str:
    lines = [
        f"#{item['id']} {item['title']} (deleted {item['deleted_at']}"
        + (f", with {len(item['subtasks'])} subtasks)" if item["subtasks"] else ")")
        for item in page["deleted"]
    ]
    return "\n".join(lines) or "Nothing deleted in the last 10 minutes."


def _batch_text(batch: BatchResult) -> str:
    lines = [batch_line(n, item) for n, item in enumerate(batch["results"], 1)]
    return "\n".join([*lines, f"{batch['succeeded']} succeeded, {batch['failed']} failed"])


def _lists_text(lists: ListPage) -> str:
    return "\n".join(list_line(item) for item in lists["lists"])


def _list_change_text(list_change: ListChange) -> str:
    text = f"{list_change['status']}: {list_line(list_change['list'])}"
    if list_change["moved_to"]:
        text += f"\ntasks moved to {list_change['moved_to']}"
    return text


def _members_text(result: ListMembers) -> str:
    people = ", ".join(f"{member['user_id']} ({member['role']})" for member in result["members"])
    return f"{result['status']}: {list_line(result['list'])}\nmembers: {people or 'none'}"


def _page_text(page: TaskPage) -> str:
    lines = [task_line(task) for task in page["tasks"]] or ["no tasks"]
    cursor = page["next_cursor"]
    lines.append(f"next_cursor: {cursor}" if cursor else "next_cursor: null (last page)")
    return "\n".join(lines)


def _change_text(change: TaskChange) -> str:
    text = f"{change['status']}: {task_text(change['task'])}"
    if change["next_task"] is not None:
        text += f"\nnext occurrence: {task_text(change['next_task'])}"
    return text


def _detail_text(detail: TaskDetail) -> str:
    lines = [task_text(detail), *(f"  subtask {task_line(sub)}" for sub in detail["subtasks"])]
    return "\n".join(lines)


# Which text a result gets, by a key only its shape has (checked in this order).
_TEXTS: list[tuple[str, Callable[[Any], str]]] = [
    ("deleted", _deleted_text),
    ("results", _batch_text),
    ("members", _members_text),
    ("lists", _lists_text),
    ("moved_to", _list_change_text),
    ("tasks", _page_text),
    ("task_id", _change_text),
    ("subtasks", _detail_text),
]


def batch_line(number: int, item: BatchItem) -> str:
    """One batch item on one line: its place, then its task or why it was refused."""
    if not item["ok"]:
        return f"{number}. refused ({item.get('code')}): {item.get('error')}"
    line = f"{number}. {item.get('status')}: {task_line(item['task'])}"
    if item.get("next_task"):
        line += f" | next occurrence #{item['next_task']['id']}"  # type: ignore[index]
    return line


def list_line(item: ListDict) -> str:
    """One list on one line: name, id, counts."""
    inbox = " (inbox)" if item["inbox"] else ""
    counts = f"{item['open']} open, {item['done']} done"
    line = f"{item['name']}{inbox} | list_id {item['list_id']} | {counts}"
    if item.get("role", "owner") != "owner":
        line += f" | shared with you by {item.get('owner')} as {item.get('role')}"
    elif item.get("shared"):
        line += " | shared"
    return line


def task_line(task: TaskDict, *, brief: bool = True) -> str:
    """One task on one line: id, title, list, due, priority, tags, repeat, subtasks, state."""
    parts = [
        f"#{task['id']} {task['title']}",
        f"due {task['due']}" if task["due"] else "no due date",
        f"{task['priority']} priority",
        f"tags: {', '.join(task['tags'])}" if task["tags"] else "no tags",
    ]
    if task.get("list", "Inbox") != "Inbox":  # the default list goes unsaid
        parts.insert(1, f"list {task.get('list')}")
    if task.get("repeat_text"):
        parts.append(f"repeats {task.get('repeat_text')}")
    if task.get("parent_id") is not None:
        parts.append(f"subtask of #{task.get('parent_id')}")
    elif task.get("open_subtasks"):
        parts.append(f"{task.get('open_subtasks')} open subtasks")
    parts.append(f"done {task['completed_at']}" if task["completed"] else "open")
    parts += _people(task)
    line = " | ".join(parts)
    if task["description"]:
        line += " | has notes (get_task shows them)" if brief else f"\nnotes: {task['description']}"
    return line


def _people(task: TaskDict) -> list[str]:
    """Who a task is assigned to, and who changed it when that was not its owner:
    "completed by sam" in a shared list."""
    parts = [f"assigned to {task['assignee']}"] if task.get("assignee") else []
    by = task.get("changed_by")
    if by and by != task.get("owner"):
        parts.append(f"{'completed' if task['completed'] else 'changed'} by {by}")
    return parts


def task_text(task: TaskDict) -> str:
    """A task's line, followed by its notes when it has some."""
    return task_line(task, brief=False)
