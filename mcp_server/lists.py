"""A user's task lists: the Inbox, finding a list by name, and the list tools' bodies.

Every task is in exactly one list of its owner. Lists are named (unique per owner whatever
the case); the one named Inbox is where a task goes when no list is named. It is made the
first time a user needs it, so a new user has one, and it can be neither renamed nor
deleted. Writes leave the commit to their caller (calls.apply), like mcp_server/tasks.py.
"""

import re
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session

from mcp_server.models import LIST_NAME_MAX_CHARS, LIST_TABLE, TASK_TABLE
from mcp_server.task_rules import InvalidTaskInput, TaskError, no_nul, utc_now
from shared.contract import ErrorCode, ListChange, ListDict, ListPage

INBOX = "Inbox"
MAX_LISTS = 200
_COLOR_RE = re.compile(r"#[0-9a-f]{6}")
_l = LIST_TABLE
_t = TASK_TABLE


class ListNotFound(TaskError):
    """No list of that name belongs to the caller."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, name: str) -> None:
        super().__init__(f"List {name!r} not found; list_lists shows the lists there are")


class NeedsChoice(TaskError):
    """The call would drop or orphan tasks without being told what to do with them."""

    code = ErrorCode.CONFLICT


def clean_list_name(value: object, field: str = "list") -> str:
    """A list name: trimmed, 1-100 characters, inner runs of spaces kept as they are."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidTaskInput(f"{field} must not be empty")
    name = no_nul(field, value.strip())
    if len(name) > LIST_NAME_MAX_CHARS:
        raise InvalidTaskInput(
            f"{field} must be at most {LIST_NAME_MAX_CHARS} characters (got {len(name)})"
        )
    return name


def clean_color(value: str) -> str | None:
    """A colour like #1e90ff (lowercased); "" means none."""
    color = value.strip().lower()
    if not color:
        return None
    if not _COLOR_RE.fullmatch(color):
        raise InvalidTaskInput(f"color: {value!r} is not a colour like #1e90ff")
    return color


def _named(user_id: str, name: str) -> Any:
    return and_(_l.c.user_id == user_id, func.lower(_l.c.name) == name.lower())


def _find(conn: Connection, user_id: str, name: str) -> Any:
    return conn.execute(select(_l).where(_named(user_id, name))).first()


def list_id_for(
    conn: Connection, user_id: str, name: str | None, *, create: bool, now: datetime
) -> int:
    """The id of the caller's list called `name` (the Inbox when None), made if `create`."""
    name = INBOX if name is None else clean_list_name(name)
    row = _find(conn, user_id, name)
    if row is not None:
        return int(row.id)
    if not create and name.lower() != INBOX.lower():
        raise ListNotFound(name)
    count = conn.execute(select(func.count()).where(_l.c.user_id == user_id)).scalar_one()
    if count >= MAX_LISTS:
        raise InvalidTaskInput(f"a user can have at most {MAX_LISTS} lists")
    # Two first calls at once may both get here: the unique index on (user_id, lower(name))
    # keeps one list, and both read it.
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        dialect_insert(_l)
        .values(user_id=user_id, name=name, position=count, created_at=utc_now(now))
        .on_conflict_do_nothing()
    )
    return int(_find(conn, user_id, name).id)


def _list_dict(row: Any, open_count: int = 0, done_count: int = 0) -> ListDict:
    return {
        "name": row.name,
        "list_id": row.id,
        "color": row.color,
        "position": row.position,
        "inbox": row.name.lower() == INBOX.lower(),
        "open": open_count,
        "done": done_count,
    }


def _counted(conn: Connection, user_id: str, list_id: int | None = None) -> list[ListDict]:
    counts = (
        select(
            _t.c.list_id,
            func.sum(case((_t.c.completed == False, 1), else_=0)).label("open"),  # noqa: E712
            func.sum(case((_t.c.completed == True, 1), else_=0)).label("done"),  # noqa: E712
        )
        .where(_t.c.user_id == user_id)
        .group_by(_t.c.list_id)
        .subquery()
    )
    query = (
        select(_l, counts.c.open, counts.c.done)
        .outerjoin(counts, counts.c.list_id == _l.c.id)
        .where(_l.c.user_id == user_id)
        .order_by(_l.c.position, _l.c.id)
    )
    if list_id is not None:
        query = query.where(_l.c.id == list_id)
    return [_list_dict(row, int(row.open or 0), int(row.done or 0)) for row in conn.execute(query)]


def find_list_id(conn: Connection, user_id: str, name: str) -> int | None:
    """The id of the caller's list called `name`; None for an Inbox not made yet.

    Raises ListNotFound for any other name the caller has no list of.
    """
    name = clean_list_name(name)
    row = _find(conn, user_id, name)
    if row is None and name.lower() != INBOX.lower():
        raise ListNotFound(name)
    return None if row is None else int(row.id)


def list_lists(session: Session, *, user_id: str, now: datetime | None = None) -> ListPage:
    """Every list of `user_id` with its open and done task counts, Inbox included."""
    conn = session.connection()
    if _find(conn, user_id, INBOX) is None:
        # A read that makes a new user's Inbox (committed at once: this session is the
        # call's own), so the first list_lists already shows it with its id.
        list_id_for(conn, user_id, None, create=True, now=utc_now(now))
        session.commit()
        conn = session.connection()
    return {"lists": _counted(conn, user_id)}


def rename_list(
    session: Session,
    *,
    user_id: str,
    name: str,
    new_name: str | None = None,
    color: str | None = None,
    position: int | None = None,
) -> ListChange:
    """Rename a list, or change its colour or position; its tasks stay in it."""
    conn = session.connection()
    name = clean_list_name(name)
    if new_name is not None and name.lower() == INBOX.lower() and new_name.strip() != INBOX:
        raise InvalidTaskInput("the Inbox cannot be renamed; it is where new tasks go")
    row = _find(conn, user_id, name)
    if row is None:
        raise ListNotFound(name)
    values: dict[str, Any] = {}
    if new_name is not None:
        new_name = clean_list_name(new_name, "new_name")
        other = _find(conn, user_id, new_name)
        if other is not None and other.id != row.id:
            raise InvalidTaskInput(f"there is already a list called {other.name!r}")
        values["name"] = new_name
    if color is not None:
        values["color"] = clean_color(color)
    if position is not None:
        values["position"] = position
    if not values:
        raise InvalidTaskInput("nothing to change: give new_name, color or position")
    conn.execute(update(_l).where(_l.c.id == row.id).values(**values))
    return {"status": "updated", "list": _counted(conn, user_id, row.id)[0], "moved_to": None}


def delete_list(
    session: Session,
    *,
    user_id: str,
    name: str,
    move_tasks_to: str | None = None,
    delete_tasks: bool = False,
    now: datetime | None = None,
) -> ListChange:
    """Delete a list; a list holding tasks needs `move_tasks_to` (another list's name, made if
    new) or `delete_tasks`. The Inbox cannot be deleted."""
    conn = session.connection()
    name = clean_list_name(name)
    if name.lower() == INBOX.lower():
        raise InvalidTaskInput("the Inbox cannot be deleted; it is where new tasks go")
    row = _find(conn, user_id, name)
    if row is None:
        raise ListNotFound(name)
    if move_tasks_to is not None and delete_tasks:
        raise InvalidTaskInput("give move_tasks_to or delete_tasks, not both")
    before = _counted(conn, user_id, row.id)[0]
    held = before["open"] + before["done"]
    in_list = and_(_t.c.user_id == user_id, _t.c.list_id == row.id)
    moved_to = None
    if move_tasks_to is not None:
        target = list_id_for(conn, user_id, move_tasks_to, create=True, now=utc_now(now))
        if target == row.id:
            raise InvalidTaskInput("move_tasks_to names the list being deleted")
        conn.execute(update(_t).where(in_list).values(list_id=target))
        moved_to = str(conn.execute(select(_l.c.name).where(_l.c.id == target)).scalar_one())
    elif delete_tasks:
        # Subtasks first: a parent and its subtasks are always in the same list.
        conn.execute(delete(_t).where(in_list, _t.c.parent_id.is_not(None)))
        conn.execute(delete(_t).where(in_list))
    elif held:
        raise NeedsChoice(
            f"list {row.name!r} holds {held} task(s): pass move_tasks_to (a list name) to keep "
            "them, or delete_tasks: true to delete them with it"
        )
    conn.execute(delete(_l).where(_l.c.id == row.id))
    return {"status": "deleted", "list": before, "moved_to": moved_to}
