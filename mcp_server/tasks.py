"""The task tools' bodies: every function takes a Session and the owner explicitly.

Results are JSON-ready dicts in the shape of the contract (shared/contract.py), built
straight from result rows (no ORM objects, no re-validation). Every write validates all
of its input (task_rules.py) before touching the database. Writes leave the commit to
their caller (calls.apply), so a write and the record of the call that made it commit
together; one that raises leaves nothing behind. Listing lives in listing.py.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import (
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from mcp_server.listing import CursorSecret, TaskQuery, list_tasks
from mcp_server.models import MAX_TASK_ID, TASK_COLUMNS, TASK_TABLE, task_dict
from mcp_server.task_rules import (
    InvalidTaskInput,
    TaskError,
    TaskNotFound,
    clean_description,
    clean_recurrence,
    clean_tags,
    clean_title,
    next_due,
    parse_due,
    priority_rank,
    utc_now,
)
from shared.contract import (
    ChangeStatus,
    TaskChange,
    TaskDict,
    TaskPage,
)

__all__ = [
    "CursorSecret",
    "InvalidTaskInput",
    "NewTask",
    "TaskChange",
    "TaskDict",
    "TaskError",
    "TaskNotFound",
    "TaskPage",
    "TaskQuery",
    "add_task",
    "delete_task",
    "get_task",
    "list_tasks",
    "set_completed",
    "update_task",
]

UPDATABLE_FIELDS = ("title", "description", "due", "priority", "tags", "recurrence")


_t = TASK_TABLE


@dataclass(frozen=True, kw_only=True, slots=True)
class NewTask:
    """Raw input for add_task; add_task validates and normalises every field."""

    title: str
    description: str | None = None
    due: str | None = None
    priority: str = "medium"
    tags: list[str] | None = None
    recurrence: str = "none"



def _change(status: ChangeStatus, task: TaskDict, next_task: TaskDict | None = None) -> TaskChange:
    return {
        "task_id": task["id"],
        "status": status,
        "title": task["title"],
        "task": task,
        "next_task": next_task,
    }


def _owned(user_id: str, task_id: int) -> ColumnElement[bool]:
    if not 1 <= task_id <= MAX_TASK_ID:
        # No such row can exist, and PostgreSQL would refuse the comparison outright.
        raise TaskNotFound(task_id)
    return and_(_t.c.id == task_id, _t.c.user_id == user_id)


# --- writes -------------------------------------------------------------------------


def add_task(
    session: Session, *, user_id: str, data: NewTask, now: datetime | None = None
) -> TaskChange:
    """Create a task for `user_id`."""
    values = {
        "title": clean_title(data.title),
        "description": clean_description(data.description),
        "priority": priority_rank(data.priority),
        "tags": clean_tags(data.tags),
        "recurrence": clean_recurrence(data.recurrence),
        **_due_values(data.due),
    }
    moment = utc_now(now)
    conn = session.connection()
    row = conn.execute(
        insert(_t)
        .values(user_id=user_id, completed=False, created_at=moment, updated_at=moment, **values)
        .returning(*TASK_COLUMNS)
    ).one()
    return _change("created", task_dict(row))


def _due_values(due: str | None) -> dict[str, Any]:
    # The empty value clears a due date, as "" does a description.
    if due is None or (isinstance(due, str) and not due.strip()):
        return {"due_at": None, "due_is_date": False}
    due_at, is_date = parse_due(due)
    return {"due_at": due_at, "due_is_date": is_date}


def update_task(
    session: Session,
    *,
    user_id: str,
    task_id: int,
    changes: Mapping[str, Any],
    now: datetime | None = None,
) -> TaskChange:
    """Change the given fields of a task; None leaves a field as it is, "" or [] clears it."""
    values = _update_values(changes)
    conn = session.connection()
    row = conn.execute(
        update(_t)
        .where(_owned(user_id, task_id))
        .values(updated_at=utc_now(now), **values)
        .returning(*TASK_COLUMNS)
    ).first()
    if row is None:
        raise TaskNotFound(task_id)
    return _change("updated", task_dict(row))


def _update_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise InvalidTaskInput(
            f"cannot update {', '.join(unknown)}; updatable fields: {', '.join(UPDATABLE_FIELDS)}"
        )
    if all(value is None for value in changes.values()):
        raise InvalidTaskInput(
            f"nothing to update: give at least one of {', '.join(UPDATABLE_FIELDS)}"
        )
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if value is None:
            continue
        match field:
            case "title":
                values["title"] = clean_title(value)
            case "description":
                values["description"] = clean_description(value)
            case "due":
                values.update(_due_values(value or None))
            case "priority":
                values["priority"] = priority_rank(value)
            case "tags":
                values["tags"] = clean_tags(value)
            case "recurrence":
                values["recurrence"] = clean_recurrence(value)
    return values


def set_completed(
    session: Session,
    *,
    user_id: str,
    task_id: int,
    completed: bool = True,
    now: datetime | None = None,
) -> TaskChange:
    """Complete or reopen a task; completing an open recurring task creates its next occurrence.

    Completing a completed task (or reopening an open one) changes nothing; in particular it
    never creates a second next occurrence.
    """
    moment = utc_now(now)
    conn = session.connection()
    # The state test sits in the UPDATE itself, so of two concurrent completions exactly
    # one flips the task and creates the next occurrence.
    row = conn.execute(
        update(_t)
        .where(_owned(user_id, task_id), _t.c.completed == (not completed))
        .values(
            completed=completed,
            completed_at=moment if completed else None,
            updated_at=moment,
        )
        .returning(*TASK_COLUMNS, _t.c.user_id, _t.c.due_at.label("due_at"))
    ).first()
    status: ChangeStatus = "completed" if completed else "reopened"
    if row is None:
        return _change(status, get_task(session, user_id=user_id, task_id=task_id))
    next_task = None
    if completed and row.recurrence != "none":
        next_task = task_dict(_insert_next_occurrence(conn, row, moment))
    return _change(status, task_dict(row), next_task)


def _insert_next_occurrence(conn: Connection, row: Row[Any], moment: datetime) -> Row[Any]:
    if row.due_at is None:
        # No due date to advance from: the next one falls an interval after today.
        base, is_date = datetime.combine(moment.date(), time(), UTC), True
    else:
        base, is_date = row.due_at, row.due_is_date
    return conn.execute(
        insert(_t)
        .values(
            user_id=row.user_id,
            title=row.title,
            description=row.description,
            completed=False,
            priority=row.priority,
            tags=row.tags,
            due_at=next_due(base, row.recurrence),
            due_is_date=is_date,
            recurrence=row.recurrence,
            created_at=moment,
            updated_at=moment,
        )
        .returning(*TASK_COLUMNS)
    ).one()


def delete_task(session: Session, *, user_id: str, task_id: int) -> TaskChange:
    """Delete a task; the result holds the task as it was."""
    row = (
        session.connection()
        .execute(delete(_t).where(_owned(user_id, task_id)).returning(*TASK_COLUMNS))
        .first()
    )
    if row is None:
        raise TaskNotFound(task_id)
    return _change("deleted", task_dict(row))


# --- reads --------------------------------------------------------------------------


def get_task(session: Session, *, user_id: str, task_id: int) -> TaskDict:
    """One task of `user_id`."""
    statement = select(*TASK_COLUMNS).where(_owned(user_id, task_id))
    row = session.connection().execute(statement).first()
    if row is None:
        raise TaskNotFound(task_id)
    return task_dict(row)


