"""Deleted tasks kept for a while, so restore_task can bring one back as it was.

delete_task keeps a snapshot of every row it deletes (the task, the subtasks deleted with
it, their reminders, and which subtasks it kept as top-level tasks) in the same
transaction. restore_task, by the user who deleted it within RESTORE_WINDOW, puts the rows
back under their own ids (in a shared list, its owner's, if that user may still change it):
an "Undo" after a delete gives back the same task, so every card, link and reference to
task 7 still means task 7. Snapshots past the window are pruned
whenever a task is deleted or restored.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Index, and_, delete, exists, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlmodel import Field, Session, SQLModel

from mcp_server import reminders
from mcp_server.access import Access, Forbidden, announce
from mcp_server.lists import list_id_for
from mcp_server.models import LIST_TABLE, TASK_COLUMNS, TASK_TABLE, task_dict
from mcp_server.task_rules import TaskError, utc_now
from shared.contract import DeletedPage, ErrorCode, TaskChange
from shared.contract import DeletedTask as DeletedEntry
from shared.events import TaskEvent

RESTORE_WINDOW = timedelta(minutes=10)

_t = TASK_TABLE
_kid = TASK_TABLE.alias("kid")
_TIMES = ("completed_at", "due_at", "created_at", "updated_at")


class DeletedTask(SQLModel, table=True):
    """A deleted task's rows, as JSON, for RESTORE_WINDOW after its delete."""

    __tablename__ = "deleted_task"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=200)
    task_id: int
    deleted_at: datetime
    # {"task": row, "list": name, "subtasks": [row...], "kept": [id...]}; a row is the
    # task table's columns plus "reminders" (their specs).
    snapshot: str


_d: Any = DeletedTask.__table__  # type: ignore[attr-defined]
Index("ix_deleted_task_user_task", _d.c.user_id, _d.c.task_id)
Index("ix_deleted_task_deleted_at", _d.c.deleted_at)


class NothingToRestore(TaskError):
    """No task of this id was deleted by the caller within RESTORE_WINDOW."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, task_id: int) -> None:
        minutes = int(RESTORE_WINDOW.total_seconds() // 60)
        super().__init__(
            f"Task {task_id} cannot be restored: only a task you deleted in the last "
            f"{minutes} minutes can be, and only once"
        )
        self.task_id = task_id


def _row_json(conn: Connection, row: Row[Any]) -> dict[str, Any]:
    values = dict(row._mapping)
    for name in _TIMES:
        if values[name] is not None:
            values[name] = values[name].isoformat()
    values["reminders"] = reminders.specs_of(conn, values["id"])
    return values


def _row_values(data: dict[str, Any]) -> dict[str, Any]:
    values = {name: value for name, value in data.items() if name != "reminders"}
    for name in _TIMES:
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    return values


def keep(
    conn: Connection, *, user_id: str, task: Row[Any], subtasks: list[Row[Any]],
    kept: list[int], moment: datetime,
) -> None:
    """Keep the rows a delete is about to remove (full task-table rows)."""
    _prune(conn, moment)
    list_name = conn.execute(
        select(LIST_TABLE.c.name).where(LIST_TABLE.c.id == task.list_id)
    ).scalar_one_or_none()
    snapshot = {
        "task": _row_json(conn, task),
        "list": list_name,
        "subtasks": [_row_json(conn, sub) for sub in subtasks],
        "kept": kept,
    }
    conn.execute(insert(_d).values(user_id=user_id, task_id=task.id, deleted_at=moment,
                                   snapshot=json.dumps(snapshot)))  # fmt: skip


def _prune(conn: Connection, moment: datetime) -> None:
    conn.execute(delete(_d).where(_d.c.deleted_at < moment - RESTORE_WINDOW))


def deleted_tasks(session: Session, *, user_id: str, now: datetime | None = None) -> DeletedPage:
    """The tasks `user_id` deleted that restore_task can still bring back, each with the
    subtasks deleted with it, most recently deleted first.

    Only the caller's own deletes are listed (restore_task restores only those); a task
    deleted, restored and deleted again is listed once, as its latest delete."""
    moment = utc_now(now)
    rows = session.connection().execute(
        select(_d.c.task_id, _d.c.deleted_at, _d.c.snapshot)
        .where(_d.c.user_id == user_id, _d.c.deleted_at >= moment - RESTORE_WINDOW)
        .order_by(_d.c.deleted_at.desc(), _d.c.id.desc())
    )
    deleted: list[DeletedEntry] = []
    seen: set[int] = set()
    for row in rows:
        if row.task_id in seen:
            continue
        seen.add(row.task_id)
        snapshot = json.loads(row.snapshot)
        deleted_at = _aware(row.deleted_at)
        deleted.append({
            "id": row.task_id,
            "title": snapshot["task"]["title"],
            "list": snapshot["list"],
            "deleted_at": _utc_text(deleted_at),
            "restorable_until": _utc_text(deleted_at + RESTORE_WINDOW),
            "subtasks": [{"id": sub["id"], "title": sub["title"]} for sub in snapshot["subtasks"]],
        })  # fmt: skip
    return {"deleted": deleted}


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive date-times; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def restore_task(
    session: Session, *, user_id: str, task_id: int, now: datetime | None = None
) -> TaskChange:
    """Bring back a task `user_id` deleted within RESTORE_WINDOW: same id, fields,
    reminders and subtasks, in its list (made again by name if it was the caller's own and
    was deleted since). A task of a shared list goes back to its owner, if the caller may
    still change that list; everyone who sees the list hears of it."""
    moment = utc_now(now)
    conn = session.connection()
    _prune(conn, moment)
    found = conn.execute(
        select(_d.c.id, _d.c.snapshot)
        .where(_d.c.user_id == user_id, _d.c.task_id == task_id)
        .order_by(_d.c.id.desc())
        .limit(1)
    ).first()
    if found is None:
        raise NothingToRestore(task_id)
    snapshot = json.loads(found.snapshot)
    task = _row_values(snapshot["task"])
    owner, task["list_id"] = _home(conn, Access.of(conn, user_id), task, snapshot["list"], moment)
    task["parent_id"], task["list_id"] = _parent(conn, owner, task)
    mine = {"user_id": owner, "changed_by": user_id}
    _insert(conn, {**task, **mine}, snapshot["task"]["reminders"])
    subs = []
    for data in snapshot["subtasks"]:
        subs.append({**_row_values(data), **mine, "list_id": task["list_id"]})
        _insert(conn, subs[-1], data["reminders"])
    # The subtasks the delete made top-level come back under it, unless they moved on.
    regained = and_(
        _t.c.id.in_(snapshot["kept"]), _t.c.user_id == owner, _t.c.parent_id.is_(None),
        ~exists().where(_kid.c.parent_id == _t.c.id),
    )  # fmt: skip
    kept = list(conn.execute(select(_t.c.id).where(regained).order_by(_t.c.id)).scalars())
    if kept:
        conn.execute(update(_t).where(_t.c.id.in_(kept))
                     .values(parent_id=task["id"], list_id=task["list_id"]))  # fmt: skip
    conn.execute(delete(_d).where(_d.c.id == found.id))
    back = [task["id"], *(sub["id"] for sub in subs)]
    announce(conn, [task["list_id"]], [TaskEvent(task_id=i, status="created") for i in back]
             + [TaskEvent(task_id=i, status="updated") for i in kept])  # fmt: skip
    restored = task_dict(conn.execute(select(*TASK_COLUMNS).where(_t.c.id == task["id"])).one())
    return {"task_id": restored["id"], "status": "created", "title": restored["title"],
            "task": restored, "next_task": None}  # fmt: skip


def _home(
    conn: Connection, who: Access, task: dict[str, Any], name: str | None, moment: datetime
) -> tuple[str, int]:
    """The owner and list a restored task goes back to: its list, if the caller may still
    change it; the caller's own list made again by name, if that list was theirs and is
    gone. Forbidden when the list was someone else's and the caller can no longer change it."""
    row = conn.execute(select(LIST_TABLE).where(LIST_TABLE.c.id == task["list_id"],
                                                who.lists())).first()  # fmt: skip
    if row is not None:
        who.require(row.user_id, row.id, row.name, write=True)
        return row.user_id, row.id
    if task["user_id"] == who.user_id:
        return who.user_id, list_id_for(conn, who.user_id, name, create=True, now=moment)
    raise Forbidden(
        f"Task {task['id']} cannot be restored: its list {name!r} ({task['user_id']}'s) is "
        "gone or no longer shared with you; nothing was changed"
    )


def _parent(conn: Connection, owner: str, task: dict[str, Any]) -> tuple[int | None, int]:
    """Its parent and list: a restored subtask goes back under its parent if that is still
    a top-level task of the list's owner, else it comes back as a top-level task."""
    if task["parent_id"] is None:
        return None, task["list_id"]
    parent = conn.execute(select(_t.c.id, _t.c.list_id).where(
        _t.c.id == task["parent_id"], _t.c.user_id == owner, _t.c.parent_id.is_(None),
    )).first()  # fmt: skip
    if parent is None:
        return None, task["list_id"]
    return parent.id, parent.list_id


def _insert(conn: Connection, values: dict[str, Any], specs: list[str]) -> None:
    taken = conn.execute(select(_t.c.id).where(_t.c.id == values["id"])).first()
    if taken is not None:  # cannot happen (ids are never reused), but never overwrite
        raise NothingToRestore(values["id"])
    conn.execute(insert(_t).values(**values))
    if specs:
        reminders.write(conn, task_id=values["id"], user_id=values["user_id"], specs=specs,
                        task=values)  # fmt: skip
