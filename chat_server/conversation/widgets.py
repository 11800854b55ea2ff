"""Task widgets: pure builders from task JSON to ChatKit widget trees, and the turn's widget.

Widgets are built as plain JSON trees and validated into chatkit's `DynamicWidgetRoot`, the
same path `WidgetTemplate.build` takes; chatkit's named widget classes are deprecated. The
official ChatKit component and our built-in UI both render this JSON.
"""

from typing import Any, cast

from chatkit.actions import ActionConfig
from chatkit.widgets import DynamicWidgetRoot, WidgetRoot

from chat_server.agent.task_tools import INBOX, Outcome, outcome_of
from shared.contract import (
    BATCH_TOOLS,
    CHANGE_TOOLS,
    GET_TASK,
    LIST_TASKS,
    UPDATE_TASK,
    TaskChange,
    TaskDetail,
    ToolFailure,
)
from shared.contract import TaskDict as Task

Node = dict[str, Any]

MAX_LIST_ITEMS = 25
"""A chat reply lists at most this many tasks; the tasks panel shows them all."""

COMPLETE, REOPEN, DELETE = "task.complete", "task.reopen", "task.delete"
RESTORE = "task.restore"
RESTORED = "Task restored"


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


def subtask_key(task_id: int) -> str:
    """The widget key of a subtask's line in its parent's card.

    Not `item_key`: the browser app keeps rows keyed `task-N` in step with its task list,
    which holds top-level tasks only, and would take a subtask missing from it as deleted.
    """
    return f"subtask-{task_id}"


# How a rule that counts from completion ends in words ("every 3 days after it's done").
AFTER_DONE = " after it's done"


def repeat_label(task: Task) -> str | None:
    """'Repeats every 2 weeks on Tue and Thu' (the server's words; 'every 3 days after it's
    done' when it counts from completion), or None."""
    words = task.get("repeat_text")
    if words:
        return f"Repeats {words}{AFTER_DONE if task.get('repeat_from') == 'completion' else ''}"
    # A task server older than repeat rules names only the old recurrence.
    return None if task["recurrence"] in {"none", "custom"} else f"Repeats {task['recurrence']}"


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


def _toggle(task: Task) -> Node:
    """The Complete or Reopen button: a task's checkbox."""
    if task["completed"]:
        return {
            "type": "Button", "label": "Reopen", "color": "secondary", "variant": "outline",
            "size": "sm", "onClickAction": _action(REOPEN, task["id"]),
        }
    return {
        "type": "Button", "label": "Complete", "color": "success", "variant": "solid",
        "size": "sm", "onClickAction": _action(COMPLETE, task["id"]),
    }


def _buttons(task: Task, *, deleted: bool = False) -> Node:
    if deleted:
        # The task server keeps a deleted task for a while: Undo brings it back, same id.
        undo: Node = {
            "type": "Button", "label": "Undo", "color": "secondary", "variant": "outline",
            "size": "sm", "onClickAction": _action(RESTORE, task["id"]),
        }
        return {"type": "Row", "gap": 2, "children": [undo]}
    toggle = _toggle(task)
    delete: Node = {
        "type": "Button", "label": "Delete", "color": "danger", "variant": "outline",
        "size": "sm", "onClickAction": _action(DELETE, task["id"]),
    }
    return {"type": "Row", "gap": 2, "children": [toggle, delete]}


def _details(task: Task, *, deleted: bool = False, counted: bool = True) -> Node:
    """Due date, state, priority, list, tags, repeat and open subtasks, in one wrapping row
    (`counted=False` leaves the count to a card that lists the subtasks)."""
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
    if (name := task.get("list")) and name != INBOX:
        children.append({"type": "Badge", "label": name, "color": "discovery", "variant": "soft"})
    children += [
        {"type": "Badge", "label": f"#{tag}", "color": "info", "variant": "outline"}
        for tag in task["tags"]
    ]
    if (repeats := repeat_label(task)) is not None:
        children.append({"type": "Caption", "value": repeats})
    if counted and (open_count := task.get("open_subtasks", 0)):
        children.append({"type": "Caption", "value": _open_label(open_count)})
    return {"type": "Row", "gap": 2, "wrap": "wrap", "children": children}


def _open_label(open_count: int, total: int | None = None) -> str:
    """'1 open subtask', or with the total '2 of 5 subtasks open'."""
    if total is None:
        return f"{open_count} open subtask{'' if open_count == 1 else 's'}"
    return f"{open_count} of {total} subtask{'' if total == 1 else 's'} open"


def subtask_line(task: Task) -> Node:
    """A subtask in its parent's card: its title and its own checkbox (Complete/Reopen).

    No Caption or Badge: the browser app marks a row holding one as its task done.
    """
    title: Node = {"type": "Text", "value": task["title"], "size": "sm"}
    if task["completed"]:
        title |= {"lineThrough": True, "color": "secondary"}
    return {
        "type": "Row", "key": subtask_key(task["id"]), "gap": 2, "align": "center",
        "children": [{"type": "Box", "flex": 1, "children": [title]}, _toggle(task)],
    }


def _subtask_block(subtasks: list[Task]) -> Node:
    """The card's subtasks: how many are open, then one line each."""
    open_count = sum(not sub["completed"] for sub in subtasks)
    return {
        "type": "Col", "key": "subtasks", "gap": 1,
        "children": [
            {"type": "Caption", "value": _open_label(open_count, len(subtasks))},
            *(subtask_line(sub) for sub in subtasks),
        ],
    }


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
    subtasks = cast(TaskDetail, task).get("subtasks")
    children.append(_details(task, deleted=deleted, counted=not subtasks))
    if subtasks and not deleted:
        children.append(_subtask_block(subtasks))
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
    for name, outcome in _one_by_one(outcomes):
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


def _one_by_one(outcomes: list[tuple[str, Outcome]]) -> list[tuple[str, Outcome]]:
    """The outcomes with each batch read as the one-task writes it applied (refused items
    left out, as failed calls are)."""
    out: list[tuple[str, Outcome]] = []
    for name, outcome in outcomes:
        if name not in BATCH_TOOLS or isinstance(outcome, ToolFailure):
            out.append((name, outcome))
            continue
        data: Any = outcome
        for item in data["results"]:
            if item["ok"] and "task" in item:
                task = item["task"]
                change = TaskChange(task_id=task["id"], status=item.get("status", "updated"),
                                    title=task["title"], task=task,
                                    next_task=item.get("next_task"))  # fmt: skip
                out.append((UPDATE_TASK, change))
    return out


def redraw(widget: WidgetRoot, task: Task, *, status: str, deleted: bool = False) -> WidgetRoot:
    """The widget with `task`'s row or card redrawn from its new state; other rows unchanged."""
    tree = widget.model_dump(mode="json", exclude_none=True)
    if tree.get("type") == "Card":
        if tree.get("key") != item_key(task["id"]) and _redraw_subtask(tree, task):
            return DynamicWidgetRoot.model_validate(tree)
        card = task_card(task, status=status, deleted=deleted)
        return _keep_subtasks(card, tree) if not deleted else card
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


def _redraw_subtask(card: Node, task: Task) -> bool:
    """Redraw `task`'s line in a parent's card, and the count above the lines; False when
    the card does not list it."""
    for child in card.get("children") or []:
        if child.get("key") != "subtasks":
            continue
        caption, *lines = child["children"]
        keys = [line.get("key") for line in lines]
        if subtask_key(task["id"]) not in keys:
            return False
        lines[keys.index(subtask_key(task["id"]))] = subtask_line(task)
        still_open = sum(_is_open(line) for line in lines)
        caption["value"] = _open_label(still_open, len(lines))
        child["children"] = [caption, *lines]
        return True
    return False


def _is_open(line: Node) -> bool:
    """Whether a subtask line offers Complete (it is open)."""
    return any(
        (part.get("onClickAction") or {}).get("type") == COMPLETE
        for part in line.get("children") or []
    )


def _keep_subtasks(card: DynamicWidgetRoot, old: Node) -> DynamicWidgetRoot:
    """A parent's rebuilt card with the subtask lines of the card it replaces: a change
    result carries the task alone, without its subtasks."""
    block = next((c for c in old.get("children") or [] if c.get("key") == "subtasks"), None)
    if block is None:
        return card
    tree = card.model_dump(mode="json", exclude_none=True)
    children = tree["children"]
    # The block carries the count: the details row (the one Row that wraps) drops its own.
    at = next(i for i, c in enumerate(children) if c.get("wrap") == "wrap")
    details = children[at]
    details["children"] = [
        c for c in details["children"]
        if not str(c.get("value", "")).endswith(("open subtask", "open subtasks"))
    ]
    children.insert(at + 1, block)
    return DynamicWidgetRoot.model_validate(tree)
