"""Task rules and queries: every function takes a Session and the owner explicitly.

Results are JSON-ready dicts in the shape of the MCP tool contract, built straight
from result rows (no ORM objects, no re-validation). Every write validates all of its
input (shared/task_rules.py) before touching the database, and a failure raises
before anything commits.
"""

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    String,
    and_,
    delete,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from shared.contract import (
    MAX_PAGE_SIZE,
    ORDERS,
    PRIORITIES,
    SORTS,
    STATUSES,
    ChangeStatus,
    TaskChange,
    TaskDict,
    TaskPage,
)
from shared.models import Task, utc_text
from shared.task_rules import (
    InvalidTaskInput,
    TaskError,
    TaskNotFound,
    clean_description,
    clean_recurrence,
    clean_tag,
    clean_tags,
    clean_title,
    decode_cursor,
    encode_cursor,
    next_due,
    no_nul,
    parse_due,
    priority_rank,
)

__all__ = [
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

# The id column is a 32-bit INTEGER on PostgreSQL.
MAX_TASK_ID = 2**31 - 1
UPDATABLE_FIELDS = ("title", "description", "due", "priority", "tags", "recurrence")


@dataclass(frozen=True, kw_only=True, slots=True)
class NewTask:
    """Raw input for add_task; add_task validates and normalises every field."""

    title: str
    description: str | None = None
    due: str | None = None
    priority: str = "medium"
    tags: list[str] | None = None
    recurrence: str = "none"


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskQuery:
    """Filters, sort and page of list_tasks. Bounds are inclusive; see list_tasks."""

    status: str = "all"
    search: str | None = None
    tag: str | None = None
    priority: str | None = None
    due_before: str | None = None
    due_after: str | None = None
    overdue: bool | None = None
    sort: str = "created"
    order: str = "asc"
    limit: int = 50
    cursor: str | None = None


# --- rows to dicts ------------------------------------------------------------------

_t: Any = Task.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    _t.c.id,
    _t.c.title,
    _t.c.description,
    _t.c.completed,
    utc_text(_t.c.completed_at).label("completed_at"),
    _t.c.priority,
    _t.c.tags,
    utc_text(_t.c.due_at).label("due"),
    _t.c.due_is_date,
    _t.c.recurrence,
    utc_text(_t.c.created_at).label("created_at"),
    utc_text(_t.c.updated_at).label("updated_at"),
)


def _task_dict(row: Row[Any]) -> TaskDict:
    (task_id, title, description, completed, completed_at, priority, tags, due, due_is_date,
     recurrence, created_at, updated_at) = cast(tuple[Any, ...], row)[:12]  # fmt: skip
    return {
        "id": task_id,
        "title": title,
        "description": description,
        "completed": completed,
        "completed_at": completed_at,
        "priority": PRIORITIES[priority],
        "tags": tags,
        # A date-only due is stored as midnight UTC of its date: show just the date.
        "due": due[:10] if due_is_date and due else due,
        "recurrence": recurrence,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def _change(status: ChangeStatus, task: TaskDict, next_task: TaskDict | None = None) -> TaskChange:
    return {
        "task_id": task["id"],
        "status": status,
        "title": task["title"],
        "task": task,
        "next_task": next_task,
    }


def _now(now: datetime | None) -> datetime:
    # Whole seconds: the precision tools show, so a stored time and its text agree exactly.
    moment = datetime.now(UTC) if now is None else now.astimezone(UTC)
    return moment.replace(microsecond=0)


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
    moment = _now(now)
    conn = session.connection()
    row = conn.execute(
        insert(_t)
        .values(user_id=user_id, completed=False, created_at=moment, updated_at=moment, **values)
        .returning(*_COLUMNS)
    ).one()
    session.commit()
    return _change("created", _task_dict(row))


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
    """Change the given fields of a task; a field given as None is cleared."""
    values = _update_values(changes)
    conn = session.connection()
    row = conn.execute(
        update(_t)
        .where(_owned(user_id, task_id))
        .values(updated_at=_now(now), **values)
        .returning(*_COLUMNS)
    ).first()
    if row is None:
        raise TaskNotFound(task_id)
    session.commit()
    return _change("updated", _task_dict(row))


def _update_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise InvalidTaskInput(
            f"cannot update {', '.join(unknown)}; updatable fields: {', '.join(UPDATABLE_FIELDS)}"
        )
    if not changes:
        raise InvalidTaskInput(
            f"nothing to update: give at least one of {', '.join(UPDATABLE_FIELDS)}"
        )
    values: dict[str, Any] = {}
    for field, value in changes.items():
        match field:
            case "title":
                values["title"] = clean_title(value)
            case "description":
                values["description"] = clean_description(value)
            case "due":
                values.update(_due_values(value))
            case "priority":
                if value is None:
                    raise InvalidTaskInput("priority cannot be cleared; use low, medium or high")
                values["priority"] = priority_rank(value)
            case "tags":
                values["tags"] = clean_tags(value)
            case "recurrence":
                values["recurrence"] = "none" if value is None else clean_recurrence(value)
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
    moment = _now(now)
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
        .returning(*_COLUMNS, _t.c.user_id, _t.c.due_at.label("due_at"))
    ).first()
    status: ChangeStatus = "completed" if completed else "reopened"
    if row is None:
        return _change(status, get_task(session, user_id=user_id, task_id=task_id))
    next_task = None
    if completed and row.recurrence != "none":
        next_task = _task_dict(_insert_next_occurrence(conn, row, moment))
    session.commit()
    return _change(status, _task_dict(row), next_task)


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
        .returning(*_COLUMNS)
    ).one()


def delete_task(session: Session, *, user_id: str, task_id: int) -> TaskChange:
    """Delete a task; the result holds the task as it was."""
    row = (
        session.connection()
        .execute(delete(_t).where(_owned(user_id, task_id)).returning(*_COLUMNS))
        .first()
    )
    if row is None:
        raise TaskNotFound(task_id)
    session.commit()
    return _change("deleted", _task_dict(row))


# --- reads --------------------------------------------------------------------------


def get_task(session: Session, *, user_id: str, task_id: int) -> TaskDict:
    """One task of `user_id`."""
    row = session.connection().execute(select(*_COLUMNS).where(_owned(user_id, task_id))).first()
    if row is None:
        raise TaskNotFound(task_id)
    return _task_dict(row)


def list_tasks(
    session: Session, *, user_id: str, query: TaskQuery = TaskQuery(), now: datetime | None = None
) -> TaskPage:
    """One page of `user_id`'s tasks, keyset-paginated.

    Sorts (ties always break by id in the same direction):
    - created: creation time.
    - due: due time; a date-only due counts as midnight UTC of its date; tasks without
      a due date come last in both directions.
    - priority: low < medium < high, so `desc` lists high first.
    - title: case-insensitive.
    Filters: `due_before`/`due_after` are inclusive, and a plain date covers its whole day
    (UTC). `overdue`: open tasks whose due time has passed; a date-only task is overdue
    from the day after its date. Completed tasks are never overdue.
    """
    sort, order = _choice("sort", query.sort, SORTS), _choice("order", query.order, ORDERS)
    if (
        isinstance(query.limit, bool)
        or not isinstance(query.limit, int)
        or not (1 <= query.limit <= MAX_PAGE_SIZE)
    ):
        raise InvalidTaskInput(f"limit must be between 1 and {MAX_PAGE_SIZE} (got {query.limit!r})")
    key = _SORT_KEYS[sort]
    conditions = [_t.c.user_id == user_id, *_filters(query, _now(now))]
    cursor = None if query.cursor is None else decode_cursor(query.cursor, sort, order)
    # For "title" the cursor must hold the database's own lower(title), which can differ
    # from Python's str.lower on non-ASCII text; the other keys are in the task itself.
    columns = (*_COLUMNS, key.label("sort_key")) if sort == "title" else _COLUMNS
    conn = session.connection()
    rows: list[Row[Any]] = []
    for where, ordering in _scans(key, order, cursor):
        wanted = query.limit + 1 - len(rows)
        statement = select(*columns).where(*conditions, *where).order_by(*ordering)
        rows += conn.execute(statement.limit(wanted)).all()
        if len(rows) > query.limit:
            break
    page = [_task_dict(row) for row in rows[: query.limit]]
    next_cursor = None
    if len(rows) > query.limit:
        next_cursor = encode_cursor(
            sort, order, _sort_key(sort, rows[-2], page[-1]), page[-1]["id"]
        )
    return {"tasks": page, "next_cursor": next_cursor}


def _sort_key(sort: str, row: Row[Any], task: TaskDict) -> Any:
    match sort:
        case "created":
            return task["created_at"]
        case "due":
            # The stored instant: midnight UTC for a date-only due.
            return row.due
        case "priority":
            return PRIORITIES.index(task["priority"])
    return row.sort_key


_SORT_KEYS: dict[str, Any] = {
    "created": _t.c.created_at,
    "due": _t.c.due_at,
    "priority": _t.c.priority,
    "title": func.lower(_t.c.title),
}


def _choice(field: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidTaskInput(f"{field} must be one of {', '.join(allowed)} (got {value!r})")
    return str(value)


def _filters(query: TaskQuery, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    status = _choice("status", query.status, STATUSES)
    if status != "all":
        conditions.append(_t.c.completed == (status == "completed"))
    if query.search is not None and query.search.strip():
        term = no_nul("search", query.search.strip())
        conditions.append(
            or_(
                _t.c.title.icontains(term, autoescape=True),
                _t.c.description.icontains(term, autoescape=True),
            )
        )
    if query.tag is not None:
        # Stored as ",a,b,": a whole-tag match can never hit part of another tag.
        tags = type_coerce(_t.c.tags, String)
        conditions.append(tags.contains(f",{clean_tag(query.tag)},", autoescape=True))
    if query.priority is not None:
        conditions.append(_t.c.priority == priority_rank(query.priority))
    if query.due_before is not None:
        bound, is_date = parse_due(query.due_before, "due_before")
        # A plain date includes its whole day.
        end = _t.c.due_at < bound + timedelta(days=1) if is_date else _t.c.due_at <= bound
        conditions.append(end)
    if query.due_after is not None:
        bound, _ = parse_due(query.due_after, "due_after")
        conditions.append(_t.c.due_at >= bound)
    if query.overdue is not None:
        overdue = _overdue(now)
        conditions.append(overdue if query.overdue else not_(overdue))
    return conditions


def _overdue(now: datetime) -> ColumnElement[bool]:
    start_of_today = datetime.combine(now.date(), time(), UTC)
    return and_(
        _t.c.completed == False,  # noqa: E712 (SQL comparison, not Python truthiness)
        _t.c.due_at.is_not(None),
        or_(
            and_(_t.c.due_is_date == True, _t.c.due_at < start_of_today),  # noqa: E712
            and_(_t.c.due_is_date == False, _t.c.due_at < now),  # noqa: E712
        ),
    )


Scan = tuple[list[ColumnElement[bool]], list[Any]]


def _scans(key: Any, order: str, cursor: tuple[Any, int] | None) -> list[Scan]:
    """The index scans that, run in turn, list the rows after `cursor` in page order.

    Each is a plain seek on the (user_id, key, id) index: the rest of the cursor's run of
    equal keys, then the keys after it, then (for due) the tasks without a due date. One
    `(key, id) > (k, i)` condition with `NULLS LAST` was not enough: SQLite seeks on the
    row value's first column only (and not at all on lower(title)), so a page deep in a
    run of equal keys (one priority, one due date) read the whole run, and PostgreSQL
    sorted every task for `due` descending, since its index keeps NULLs at the other end.
    """
    descending = order == "desc"
    beyond = operator.lt if descending else operator.gt
    by_id = [_t.c.id.desc() if descending else _t.c.id.asc()]
    by_key = [key.desc() if descending else key.asc(), *by_id]
    nullable = key is _t.c.due_at
    scans: list[Scan]
    if cursor is None:
        scans = [([key.is_not(None)] if nullable else [], by_key)]
    elif cursor[0] is None:
        # Only due has NULL keys, and they come after every dated task.
        return [([key.is_(None), beyond(_t.c.id, cursor[1])], by_id)]
    else:
        last_key = literal(cursor[0], key.type)
        scans = [
            ([key == last_key, beyond(_t.c.id, cursor[1])], by_id),
            ([beyond(key, last_key)], by_key),
        ]
    if nullable:
        scans.append(([key.is_(None)], by_id))
    return scans
