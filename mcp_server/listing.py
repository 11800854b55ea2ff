"""Listing a user's tasks: filters, sorts and keyset pages over the (user_id, key, id) indexes,
and the deployment's secret its page cursors are signed with."""

import operator
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, get_args

from sqlalchemy import String, and_, false, func, literal, not_, or_, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from mcp_server import search
from mcp_server.access import Access
from mcp_server.lists import ListRef, find
from mcp_server.models import (
    CURSOR_SECRET_NAME,
    TASK_COLUMNS,
    TASK_TABLE,
    DeploymentSecret,
    task_dict,
)
from mcp_server.task_rules import (
    InvalidTaskInput,
    clean_tag,
    decode_cursor,
    encode_cursor,
    no_nul,
    parse_due,
    priority_rank,
    time_zone,
    utc_now,
)
from shared.auth import AuthError, check_user_id
from shared.contract import (
    MAX_PAGE_SIZE,
    ORDERS,
    PRIORITIES,
    SORTS,
    STATUSES,
    SubtaskFilter,
    TaskDict,
    TaskPage,
)

_t = TASK_TABLE
SUBTASK_FILTERS: tuple[SubtaskFilter, ...] = get_args(SubtaskFilter)
_secrets: Any = DeploymentSecret.__table__  # type: ignore[attr-defined]


class CursorSecret:
    """The secret one process signs and checks list cursors with, read once.

    CURSOR_SECRET when the deployment sets one; otherwise the random secret kept in the
    database's deployment_secret table (made by migration tasks_0005, or by whichever
    process first finds it missing), so every instance and worker of a deployment agrees
    without configuration, and a cursor made by one is accepted by all the others.
    """

    def __init__(self, configured: str | None = None) -> None:
        self._value = None if configured is None else configured.encode()

    def load(self, engine: Engine) -> bytes:
        """Read (or make) the secret now, e.g. at start-up."""
        with engine.connect() as conn:
            return self.get(conn)

    def get(self, conn: Connection) -> bytes:
        """The secret; the first call reads it through `conn` (if not configured)."""
        if self._value is None:
            self._value = stored_secret(conn, CURSOR_SECRET_NAME)
        return self._value


def stored_secret(conn: Connection, name: str) -> bytes:
    """The deployment's secret called `name`, made now if the database has none yet."""
    query = select(_secrets.c.value).where(_secrets.c.name == name)
    value = conn.execute(query).scalar()
    if value is None:
        # In a transaction of its own, so it is kept even when `conn` is only reading. Of
        # several processes getting here at once, the first insert wins and all read it.
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        made = insert(_secrets).values(name=name, value=secrets.token_urlsafe(32))
        with conn.engine.begin() as writer:
            writer.execute(made.on_conflict_do_nothing(index_elements=["name"]))
            value = writer.execute(query).scalar_one()
    return str(value).encode()


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
    timezone: str | None = None
    list: ListRef | None = None
    assignee: str | None = None
    subtasks: str = "top_level"
    sort: str = "created"
    order: str = "asc"
    limit: int = 50
    cursor: str | None = None


def list_tasks(
    session: Session,
    *,
    user_id: str,
    query: TaskQuery = TaskQuery(),
    now: datetime | None = None,
    cursor_secret: CursorSecret | None = None,
) -> TaskPage:
    """One page of the tasks `user_id` sees (theirs, and those of lists shared with them),
    keyset-paginated.

    Cursors are signed with `cursor_secret` (default: the one stored in the database).

    Sorts (ties always break by id in the same direction):
    - created: creation time.
    - due: due time; a date-only due counts as midnight UTC of its date; tasks without
      a due date come last in both directions.
    - priority: low < medium < high, so `desc` lists high first.
    - title: case-insensitive.
    Filters: `due_before`/`due_after` are inclusive, and a plain date covers its whole day
    in `timezone` (UTC by default). `overdue`: open tasks whose due time has passed; a
    date-only task is overdue from the day after its date in `timezone`. Completed tasks
    are never overdue. A date-only due is a day, not an instant, so it is compared with a
    plain date as a date, in every zone. `list`: only that list's tasks. `assignee`: only
    the tasks assigned to that user ("me": the caller). `subtasks`:
    top_level (default) lists top-level tasks only, each with its open_subtasks count; all
    lists subtasks too (each with its parent_id).
    """
    sort, order = _choice("sort", query.sort, SORTS), _choice("order", query.order, ORDERS)
    if (
        isinstance(query.limit, bool)
        or not isinstance(query.limit, int)
        or not (1 <= query.limit <= MAX_PAGE_SIZE)
    ):
        raise InvalidTaskInput(f"limit must be between 1 and {MAX_PAGE_SIZE} (got {query.limit!r})")
    key = _SORT_KEYS[sort]
    conn = session.connection()
    who = Access.of(conn, user_id)
    conditions = _filters(query, utc_now(now))
    if _choice("subtasks", query.subtasks, SUBTASK_FILTERS) == "top_level":
        conditions.append(_t.c.parent_id.is_(None))
    if query.list is not None:
        # An Inbox not made yet holds no tasks; any other unknown list is refused.
        found = find(conn, who, query.list)
        conditions.append(_t.c.list_id == found.id if found is not None else false())
    if query.assignee is not None:
        conditions.append(_t.c.assignee == _assignee(query.assignee, user_id))
    signer = cursor_secret or CursorSecret()
    cursor = None
    if query.cursor is not None:
        cursor = decode_cursor(signer.get(conn), query.cursor, sort, order)
    # For "title" the cursor must hold the database's own lower(title), which can differ
    # from Python's str.lower on non-ASCII text; the other keys are in the task itself.
    columns = (*TASK_COLUMNS, key.label("sort_key")) if sort == "title" else TASK_COLUMNS
    rows = _search(
        conn,
        select(*columns).where(*conditions),
        who.tasks(),
        term=_search_term(query),
        scans=_scans(key, order, cursor),
        limit=query.limit,
        first_page=cursor is None,
    )
    page = [task_dict(row) for row in rows[: query.limit]]
    next_cursor = None
    if len(rows) > query.limit:
        last = _sort_key(sort, rows[-2], page[-1])
        next_cursor = encode_cursor(signer.get(conn), sort, order, last, page[-1]["id"])
    return {"tasks": page, "next_cursor": next_cursor}


def _rows(
    conn: Connection, statement: Select[Any], scans: list["Scan"], limit: int
) -> list[Row[Any]]:
    """Up to `limit` + 1 rows of `statement`, from `scans` run in turn."""
    rows: list[Row[Any]] = []
    for where, ordering in scans:
        wanted = limit + 1 - len(rows)
        rows += conn.execute(statement.where(*where).order_by(*ordering).limit(wanted)).all()
        if len(rows) > limit:
            break
    return rows


def _search(
    conn: Connection,
    statement: Select[Any],
    scope: ColumnElement[bool],
    *,
    term: str | None,
    scans: list["Scan"],
    limit: int,
    first_page: bool,
) -> list[Row[Any]]:
    """`_rows` of the tasks in `scope` (holding `term`, if any). Where none of them holds it
    (through every filter, on any page), those with a word like it, on every page alike."""
    if term is None:
        return _rows(conn, statement.where(scope), scans, limit)
    matching = statement.where(*search.matches(conn, scope, term))
    rows = _rows(conn, matching, scans, limit)
    if rows or (near := search.near_matches(conn, scope, term)) is None:
        return rows
    # A count, not a LIMIT 1: PostgreSQL would read the tasks in index order for that.
    if (
        not first_page
        and conn.execute(select(func.count()).select_from(matching.subquery())).scalar()
    ):
        return rows  # only this page is empty
    return _rows(conn, statement.where(*near), scans, limit)


def _search_term(query: TaskQuery) -> str | None:
    if query.search is None or not query.search.strip():
        return None
    return no_nul("search", query.search.strip())


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


def _assignee(value: str, user_id: str) -> str:
    if value.strip().lower() == "me":
        return user_id
    try:
        return check_user_id(value.strip())
    except AuthError as exc:
        raise InvalidTaskInput(f'assignee must be "me" or a user id: {exc}') from None


def _choice(field: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidTaskInput(f"{field} must be one of {', '.join(allowed)} (got {value!r})")
    return str(value)


def _filters(query: TaskQuery, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    status = _choice("status", query.status, STATUSES)
    if status != "all":
        conditions.append(_t.c.completed == (status == "completed"))
    if query.tag is not None:
        # Stored as ",a,b,": a whole-tag match can never hit part of another tag.
        tags = type_coerce(_t.c.tags, String)
        conditions.append(tags.contains(f",{clean_tag(query.tag)},", autoescape=True))
    if query.priority is not None:
        conditions.append(_t.c.priority == priority_rank(query.priority))
    zone = time_zone(query.timezone)
    if query.due_before is not None:
        bound, is_date = parse_due(query.due_before, "due_before")
        if is_date:  # up to the start of the next day: a plain date includes its whole day
            next_day = bound.date() + timedelta(days=1)
            conditions.append(
                _by_kind(operator.lt, _starts(next_day, UTC), _starts(next_day, zone))
            )
        else:
            conditions.append(_t.c.due_at <= bound)
    if query.due_after is not None:
        bound, is_date = parse_due(query.due_after, "due_after")
        day = bound.date()
        conditions.append(
            _by_kind(operator.ge, bound, _starts(day, zone)) if is_date else _t.c.due_at >= bound
        )
    if query.overdue is not None:
        overdue = _overdue(now, zone)
        conditions.append(overdue if query.overdue else not_(overdue))
    return conditions


def _starts(day: date, zone: tzinfo) -> datetime:
    """The instant `day` starts in `zone`."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _by_kind(
    compare: Callable[[Any, Any], ColumnElement[bool]], for_dates: datetime, for_times: datetime
) -> ColumnElement[bool]:
    """`due_at <compare> bound`, with one bound for date-only dues (stored as midnight UTC of
    their date) and one for date-time dues."""
    if for_dates == for_times:
        return compare(_t.c.due_at, for_dates)
    return or_(
        and_(_t.c.due_is_date == True, compare(_t.c.due_at, for_dates)),  # noqa: E712
        and_(_t.c.due_is_date == False, compare(_t.c.due_at, for_times)),  # noqa: E712
    )


def _overdue(now: datetime, zone: tzinfo) -> ColumnElement[bool]:
    today = now.astimezone(zone).date()
    return and_(
        _t.c.completed == False,  # noqa: E712 (SQL comparison, not Python truthiness)
        _t.c.due_at.is_not(None),
        _by_kind(operator.lt, _starts(today, UTC), now),
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
