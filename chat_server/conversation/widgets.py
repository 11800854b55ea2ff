"""Task widgets: pure builders from task JSON to ChatKit widget trees, and the turn's widget.

Widgets are built as plain JSON trees and validated into chatkit's `DynamicWidgetRoot`, the
same path `WidgetTemplate.build` takes; chatkit's named widget classes are deprecated. The
official ChatKit component and our built-in UI both render this JSON.
"""

from typing import Any

from chatkit.actions import ActionConfig
from chatkit.widgets import DynamicWidgetRoot, WidgetRoot

from chat_server.agent.task_tools import Outcome, outcome_of
from shared.contract import CHANGE_TOOLS, GET_TASK, LIST_TASKS, TaskChange, ToolFailure
from shared.contract import TaskDict as Task

Node = dict[str, Any]

MAX_LIST_ITEMS = 25
"""A chat reply lists at most this many tasks; the tasks panel shows them all."""

COMPLETE, REOPEN, DELETE = "task.complete", "task.reopen", "task.delete"

_PRIORITY_COLOR = {"high": "danger", "low": "secondary"}
_CHANGE_STATUS = {
    "created": "Task added",
    "updated": "Task updated",
    "completed": "Task completed",
    "reopened": "Task reopened",
    "deleted": "Task deleted",
}


def item_key(task_id: int) -> str:
    """The widget key of a task's row or card: how an action finds what to redraw."""
    return f"task-{task_id}"


def due_label(due: str | None) -> str:
    """'Due 2025-06-02', 'Due 2025-06-02 14:30 UTC', or 'No due date'."""
    if not due:
        return "No due date"
    if "T" not in due:
        return f"Due {due}"
    day, _, time = due.partition("T")
    return f"Due {day} {time[:5]} UTC"


def _action(kind: str, task_id: int) -> Node:
    # Spelled out in full so the JSON is the same before and after a trip through the store.
    return ActionConfig(type=kind, payload={"task_id": task_id}).model_dump(mode="json")


def _buttons(task: Task, *, deleted: bool = False) -> Node:
    if deleted:
        return {"type": "Row", "gap": 2, "children": []}
    if task["completed"]:
        toggle: Node = {
            "type": "Button", "label": "Reopen", "color": "secondary", "variant": "outline",
            "size": "sm", "onClickAction": _action(REOPEN, task["id"]),
        }
    else:
        toggle = {
            "type": "Button", "label": "Complete", "color": "success", "variant": "solid",
            "size": "sm", "onClickAction": _action(COMPLETE, task["id"]),
        }
    delete: Node = {
        "type": "Button", "label": "Delete", "color": "danger", "variant": "outline",
        "size": "sm", "onClickAction": _action(DELETE, task["id"]),
    }
    return {"type": "Row", "gap": 2, "children": [toggle, delete]}


def _details(task: Task, *, deleted: bool = False) -> Node:
    """Due date, state, priority and tags, in one wrapping row."""
    children: list[Node] = [{"type": "Caption", "value": due_label(task["due"])}]
    if deleted:
        children.append({"type": "Badge", "label": "Deleted", "color": "danger"})
    elif task["completed"]:
        children.append({"type": "Badge", "label": "Done", "color": "success"})
    priority = task["priority"]
    if priority != "medium":  # the default says nothing, so it shows nothing
        children.append(
            {"type": "Badge", "label": priority.capitalize(), "color": _PRIORITY_COLOR[priority],
             "variant": "soft"}
        )
    children += [
        {"type": "Badge", "label": f"#{tag}", "color": "info", "variant": "outline"}
        for tag in task["tags"]
    ]
    return {"type": "Row", "gap": 2, "wrap": "wrap", "children": children}


def _title(task: Task, *, deleted: bool = False) -> Node:
    node: Node = {"type": "Text", "value": task["title"], "weight": "semibold"}
    if task["completed"] or deleted:
        node |= {"lineThrough": True, "color": "secondary"}
    return node


def task_row(task: Task, *, deleted: bool = False) -> Node:
    """One task as a ListViewItem: title and details on the left, buttons on the right."""
    return {
        "type": "ListViewItem",
        "key": item_key(task["id"]),
        "gap": 3,
        "align": "center",
        "children": [
            {
                "type": "Col", "flex": 1, "gap": 1,
                "children": [_title(task, deleted=deleted), _details(task, deleted=deleted)],
            },
            _buttons(task, deleted=deleted),
        ],
    }


def task_list(tasks: list[Task], *, heading: str = "Tasks") -> DynamicWidgetRoot:
    """A ListView of tasks (at most MAX_LIST_ITEMS), or a 'No tasks' row when there are none."""
    if not tasks:
        return DynamicWidgetRoot.model_validate({
            "type": "ListView",
            "status": {"text": f"{heading}: none"},
            "children": [{
                "type": "ListViewItem", "key": "empty",
                "children": [{"type": "Text", "value": "No tasks to show.", "color": "secondary"}],
            }],
        })
    shown = tasks[:MAX_LIST_ITEMS]
    count = f"{len(shown)} of {len(tasks)}" if len(tasks) > len(shown) else str(len(tasks))
    return DynamicWidgetRoot.model_validate({
        "type": "ListView",
        "status": {"text": f"{heading}: {count}"},
        "children": [task_row(task) for task in shown],
    })


def task_card(task: Task, *, status: str | None = None, deleted: bool = False) -> DynamicWidgetRoot:
    """One task as a Card, with a status header such as 'Task added'."""
    children: list[Node] = [
        {"type": "Title", "value": task["title"], "size": "sm"}
        | ({"color": "secondary"} if task["completed"] or deleted else {}),
    ]
    if task["description"]:
        children.append({"type": "Text", "value": task["description"], "size": "sm"})
    children.append(_details(task, deleted=deleted))
    if task["recurrence"] != "none":
        children.append({"type": "Caption", "value": f"Repeats {task['recurrence']}"})
    buttons = _buttons(task, deleted=deleted)
    if buttons["children"]:
        children.append(buttons)
    return DynamicWidgetRoot.model_validate({
        "type": "Card",
        "key": item_key(task["id"]),
        "size": "md",
        "status": {"text": status or f"Task {task['id']}"},
        "children": children,
    })


def change_status(change: TaskChange) -> str:
    """The card header for a TaskChange: 'Task completed', and so on."""
    return _CHANGE_STATUS[change["status"]]


def widget_for_turn(results: list[tuple[str, str]]) -> WidgetRoot | None:
    """`widget_for_outcomes` of (tool name, output text) pairs."""
    return widget_for_outcomes([(name, outcome_of(name, output)) for name, output in results])


def widget_for_outcomes(outcomes: list[tuple[str, Outcome]]) -> WidgetRoot | None:
    """The widget that sums up a turn's task tool calls, or None if it touched no tasks.

    The last kind of activity wins: a turn that ends by listing shows the list; one that
    changes (or reads) tasks after its last listing shows those tasks, one as a card.
    Lookups made only to find a task ("mark the milk one done") are thus not shown.
    """
    listed: list[Task] | None = None
    touched: dict[int, tuple[Task, str | None, bool]] = {}
    for name, outcome in outcomes:
        if isinstance(outcome, ToolFailure):
            continue
        data: Any = outcome
        if name == LIST_TASKS:
            listed, touched = data["tasks"], {}
        elif name == GET_TASK:
            touched[data["id"]] = (data, None, False)
        elif name in CHANGE_TOOLS:
            task = data["task"]
            touched[task["id"]] = (task, change_status(data), data["status"] == "deleted")
            if (nxt := data["next_task"]) is not None:
                touched[nxt["id"]] = (nxt, "Next occurrence", False)
    if touched:
        if len(touched) == 1:
            task, status, deleted = next(iter(touched.values()))
            return task_card(task, status=status, deleted=deleted)
        rows = [task_row(task, deleted=deleted) for task, _, deleted in touched.values()]
        return DynamicWidgetRoot.model_validate({
            "type": "ListView",
            "status": {"text": f"Changed tasks: {len(rows)}"},
            "children": rows,
        })
    if listed is not None:
        return task_list(listed)
    return None


def redraw(widget: WidgetRoot, task: Task, *, status: str, deleted: bool = False) -> WidgetRoot:
    """The widget with `task`'s row or card redrawn from its new state; other rows unchanged."""
    tree = widget.model_dump(mode="json", exclude_none=True)
    if tree.get("type") == "Card":
        return task_card(task, status=status, deleted=deleted)
    key = item_key(task["id"])
    tree["children"] = [
        task_row(task, deleted=deleted) if child.get("key") == key else child
        for child in tree.get("children") or []
    ]
    return DynamicWidgetRoot.model_validate(tree)


def add_row(widget: WidgetRoot, task: Task, *, after_id: int) -> WidgetRoot:
    """The list widget with a row for `task` inserted after task `after_id` (a next occurrence)."""
    tree = widget.model_dump(mode="json", exclude_none=True)
    if tree.get("type") != "ListView":
        return widget
    children = tree.get("children") or []
    keys = [child.get("key") for child in children]
    at = keys.index(item_key(after_id)) + 1 if item_key(after_id) in keys else len(children)
    children.insert(at, task_row(task))
    tree["children"] = children
    return DynamicWidgetRoot.model_validate(tree)
