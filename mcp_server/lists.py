"""A user's task lists: the Inbox, finding a list, and the list and sharing tools' bodies.

Every task is in exactly one list of its owner. Lists are named (unique per owner whatever
the case); the one named Inbox is where a task goes when no list is named. It is made the
first time a user needs it, so a new user has one, and it can be neither renamed nor
deleted (nor shared). A list argument is a list's id (an integer), or a name: the caller's
own list of that name first, else the one list shared with them under it. Only the owner
shares, renames or deletes a list (mcp_server/access.py). Writes leave the commit to their
caller (calls.apply), like mcp_server/tasks.py, and tell everyone who sees the list.
"""

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlmodel import Session

from mcp_server import access
from mcp_server.access import MEMBER_ROLES, OWNER, Access, Forbidden
from mcp_server.models import (
    LIST_NAME_MAX_CHARS,
    LIST_TABLE,
    MAX_TASK_ID,
    MEMBER_TABLE,
    REMINDER_TABLE,
    TASK_TABLE,
)
from mcp_server.task_rules import InvalidTaskInput, TaskError, no_nul, utc_now
from shared.auth import AuthError, check_user_id
from shared.contract import (
    ChangeStatus,
    ErrorCode,
    ListChange,
    ListDict,
    ListMembers,
    ListPage,
    Member,
)
from shared.events import TaskEvent

INBOX = "Inbox"
MAX_LISTS = 200
MAX_MEMBERS = 50
_COLOR_RE = re.compile(r"#[0-9a-f]{6}")
_l = LIST_TABLE
_t = TASK_TABLE
_m = MEMBER_TABLE
ListRef = int | str


class ListNotFound(TaskError):
    """No list of that name or id is the caller's, or shared with them."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, name: ListRef) -> None:
        what = f"with id {name}" if isinstance(name, int) else repr(name)
        super().__init__(f"List {what} not found; list_lists shows the lists there are")


class NotAMember(TaskError):
    """unshare_list named someone the list is not shared with."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, member: str, name: str) -> None:
        super().__init__(f"{member} is not a member of list {name!r}; list_members shows who is")


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


def find(conn: Connection, who: Access, ref: ListRef) -> Row[Any] | None:
    """The list `ref` names among those the caller sees; None for their Inbox not made yet.

    An integer is a list's id (the caller's, or one shared with them); a name is always one
    of the caller's own lists, so "groceries" means the same list whoever shares another
    list of that name with them. (A name of digits that no list of theirs has is read as an
    id, for clients that send every argument as a string.) Raises ListNotFound otherwise.
    """
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        raise InvalidTaskInput(f"list must be a list's name or id (got {ref!r})")
    if isinstance(ref, str):
        name = clean_list_name(ref)
        if (own := _find(conn, who.user_id, name)) is not None:
            return cast(Row[Any], own)
        if name.lower() == INBOX.lower():
            return None
        if not name.isdigit() or (row := _by_id(conn, who, int(name))) is None:
            raise ListNotFound(name)
        return row
    if (row := _by_id(conn, who, ref)) is None:
        raise ListNotFound(ref)
    return row


def _by_id(conn: Connection, who: Access, list_id: int) -> Row[Any] | None:
    if not 1 <= list_id <= MAX_TASK_ID:
        return None
    return conn.execute(select(_l).where(_l.c.id == list_id, who.lists())).first()


def writable(conn: Connection, who: Access, ref: ListRef | None, *, now: datetime) -> Row[Any]:
    """The list new or moved tasks go to: `ref` (an own list made if new; a shared one the
    caller is an editor of), or the caller's Inbox when None."""
    row = None if ref is None else _existing_or_none(conn, who, ref)
    if row is None:
        name = ref if isinstance(ref, str) else None
        return own_list(conn, who.user_id, name, create=True, now=now)
    who.require(row.user_id, row.id, row.name, write=True)
    return row


def _existing_or_none(conn: Connection, who: Access, ref: ListRef) -> Row[Any] | None:
    try:
        return find(conn, who, ref)
    except ListNotFound:
        if isinstance(ref, int):
            raise
        return None  # a new name: made by list_id_for


def list_id_for(
    conn: Connection, user_id: str, name: str | None, *, create: bool, now: datetime
) -> int:
    """The id of the caller's list called `name` (the Inbox when None), made if `create`."""
    return int(own_list(conn, user_id, name, create=create, now=now).id)


def own_list(
    conn: Connection, user_id: str, name: str | None, *, create: bool, now: datetime
) -> Row[Any]:
    """The caller's list called `name` (the Inbox when None), made if `create`."""
    name = INBOX if name is None else clean_list_name(name)
    row = _find(conn, user_id, name)
    if row is not None:
        return cast(Row[Any], row)
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
    return cast(Row[Any], _find(conn, user_id, name))


def _list_dict(row: Any, who: Access | None = None) -> ListDict:
    role = OWNER if who is None else who.role(row.user_id, row.id)
    return {
        "name": row.name,
        "list_id": row.id,
        "color": row.color,
        "position": row.position,
        "inbox": row.name.lower() == INBOX.lower() and role == OWNER,
        "open": int(getattr(row, "open", 0) or 0),
        "done": int(getattr(row, "done", 0) or 0),
        "owner": row.user_id,
        "role": role or OWNER,
        "shared": bool(getattr(row, "members", 0)),
    }


def _counted(conn: Connection, who: Access, list_id: int | None = None) -> list[ListDict]:
    """The lists the caller sees (own first, in their order; then shared ones), counted."""
    counts = (
        select(
            _t.c.list_id,
            func.sum(case((_t.c.completed == False, 1), else_=0)).label("open"),  # noqa: E712
            func.sum(case((_t.c.completed == True, 1), else_=0)).label("done"),  # noqa: E712
        )
        .where(who.tasks())
        .group_by(_t.c.list_id)
        .subquery()
    )
    members = select(func.count()).where(_m.c.list_id == _l.c.id).correlate(_l).scalar_subquery()
    query = (
        select(_l, counts.c.open, counts.c.done, members.label("members"))
        .outerjoin(counts, counts.c.list_id == _l.c.id)
        .where(who.lists())
        .order_by(case((_l.c.user_id == who.user_id, 0), else_=1), _l.c.user_id, _l.c.position,
                  _l.c.id)  # fmt: skip
    )
    if list_id is not None:
        query = query.where(_l.c.id == list_id)
    return [_list_dict(row, who) for row in conn.execute(query)]


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
    """Every list `user_id` sees with its open and done task counts: their own (Inbox
    included), then those shared with them, each with its owner and the caller's role."""
    conn = session.connection()
    if _find(conn, user_id, INBOX) is None:
        # A read that makes a new user's Inbox (committed at once: this session is the
        # call's own), so the first list_lists already shows it with its id.
        list_id_for(conn, user_id, None, create=True, now=utc_now(now))
        session.commit()
        conn = session.connection()
    return {"lists": _counted(conn, Access.of(conn, user_id))}


def _owned_list(conn: Connection, who: Access, ref: ListRef, doing: str) -> Row[Any]:
    """The list `ref` names, which only its owner may `doing` (Forbidden for a member)."""
    row = find(conn, who, ref)
    if row is None:  # the caller's Inbox, not made yet
        raise InvalidTaskInput(f"the Inbox cannot be {doing}; it is where new tasks go")
    if row.user_id != who.user_id:
        raise Forbidden(
            f"only the owner of list {row.name!r} ({row.user_id}) can {doing.rstrip('d')} it; "
            "nothing was changed"
        )
    return row


def _announce(
    conn: Connection, list_ids: list[int], condition: Any, status: ChangeStatus,
    also: Iterable[str] = (),
) -> None:
    """Tell everyone who sees `list_ids` (and `also`) that the tasks matching `condition`
    changed."""
    task_ids = conn.execute(select(_t.c.id).where(condition).order_by(_t.c.id)).scalars().all()
    access.announce(conn, list_ids, [TaskEvent(task_id=i, status=status) for i in task_ids],
                    also=also)  # fmt: skip


def rename_list(
    session: Session,
    *,
    user_id: str,
    name: ListRef,
    new_name: str | None = None,
    color: str | None = None,
    position: int | None = None,
) -> ListChange:
    """Rename a list, or change its colour or position; its tasks stay in it. Owner only."""
    conn = session.connection()
    who = Access.of(conn, user_id)
    row = _owned_list(conn, who, name, "renamed")
    if new_name is not None and row.name.lower() == INBOX.lower() and new_name.strip() != INBOX:
        raise InvalidTaskInput("the Inbox cannot be renamed; it is where new tasks go")
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
    if "name" in values:  # every task of it now shows the new name
        _announce(conn, [row.id], _t.c.list_id == row.id, "updated")
    return {"status": "updated", "list": _counted(conn, who, row.id)[0], "moved_to": None}


def delete_list(
    session: Session,
    *,
    user_id: str,
    name: ListRef,
    move_tasks_to: ListRef | None = None,
    delete_tasks: bool = False,
    now: datetime | None = None,
) -> ListChange:
    """Delete a list (owner only); a list holding tasks needs `move_tasks_to` (another
    list, made if new) or `delete_tasks`. The Inbox cannot be deleted. Its members lose it."""
    conn = session.connection()
    who = Access.of(conn, user_id)
    row = _owned_list(conn, who, name, "deleted")
    if row.name.lower() == INBOX.lower():
        raise InvalidTaskInput("the Inbox cannot be deleted; it is where new tasks go")
    if move_tasks_to is not None and delete_tasks:
        raise InvalidTaskInput("give move_tasks_to or delete_tasks, not both")
    before = _counted(conn, who, row.id)[0]
    held = before["open"] + before["done"]
    in_list = _t.c.list_id == row.id
    # Told before the memberships go, so the members' pages drop the list's tasks too.
    heard_by = access.audience(conn, [row.id])
    moved_to = None
    if move_tasks_to is not None:
        target = writable(conn, who, move_tasks_to, now=utc_now(now))
        if target.id == row.id:
            raise InvalidTaskInput("move_tasks_to names the list being deleted")
        moved = conn.execute(select(_t.c.id).where(in_list)).scalars().all()
        move_tasks(conn, in_list, target)
        moved_to = str(target.name)
        _announce(conn, [target.id], _t.c.id.in_(moved), "updated", also=heard_by)
    elif delete_tasks:
        _announce(conn, [], in_list, "deleted", also=heard_by)
        # Subtasks first: a parent and its subtasks are always in the same list.
        conn.execute(delete(_t).where(in_list, _t.c.parent_id.is_not(None)))
        conn.execute(delete(_t).where(in_list))
    elif held:
        raise NeedsChoice(
            f"list {row.name!r} holds {held} task(s): pass move_tasks_to (a list name) to keep "
            "them, or delete_tasks: true to delete them with it"
        )
    conn.execute(delete(_m).where(_m.c.list_id == row.id))
    conn.execute(delete(_l).where(_l.c.id == row.id))
    return {"status": "deleted", "list": before, "moved_to": moved_to}


def move_tasks(conn: Connection, condition: Any, target: Row[Any]) -> None:
    """Put the tasks matching `condition` in the list `target`: they become its owner's
    (with their reminders), and an assignee who cannot see it is unassigned."""
    ids = select(_t.c.id).where(condition).scalar_subquery()
    heard_by = access.audience(conn, [target.id])
    conn.execute(update(_t).where(_t.c.id.in_(ids)).values(list_id=target.id,
                                                         user_id=target.user_id))  # fmt: skip
    strangers = and_(_t.c.assignee.is_not(None), _t.c.assignee.not_in(heard_by))
    conn.execute(update(_t).where(_t.c.list_id == target.id, strangers).values(assignee=None))
    rem = REMINDER_TABLE
    conn.execute(update(rem).where(rem.c.task_id.in_(
        select(_t.c.id).where(_t.c.list_id == target.id).scalar_subquery()
    ), rem.c.user_id != target.user_id).values(user_id=target.user_id))  # fmt: skip


# --- sharing --------------------------------------------------------------------------


def _member_id(value: object) -> str:
    try:
        return check_user_id(value)
    except AuthError as exc:
        raise InvalidTaskInput(f"user_id: {exc}") from None


def _members_of(conn: Connection, who: Access, row: Row[Any], status: Any) -> ListMembers:
    members: list[Member] = [{"user_id": row.user_id, "role": OWNER}]
    members += [{"user_id": uid, "role": role} for uid, role in access.members(conn, row.id)]
    return {"status": status, "list": _counted(conn, who, row.id)[0], "members": members}


def share_list(
    session: Session,
    *,
    user_id: str,
    name: ListRef,
    member: str,
    role: str,
    now: datetime | None = None,
) -> ListMembers:
    """Share a list with `member` as editor or viewer (owner only); sharing again changes
    their role. The Inbox stays the owner's own."""
    if role not in MEMBER_ROLES:
        raise InvalidTaskInput(f"role must be editor or viewer (got {role!r})")
    member = _member_id(member)
    conn = session.connection()
    who = Access.of(conn, user_id)
    row = _owned_list(conn, who, name, "shared")
    if row.name.lower() == INBOX.lower():
        raise InvalidTaskInput(
            "the Inbox is where your own new tasks go and cannot be shared; share another list"
        )
    if member == user_id:
        raise InvalidTaskInput("you own this list already; give another user's id")
    known = dict(access.members(conn, row.id))
    if member not in known and len(known) >= MAX_MEMBERS:
        raise InvalidTaskInput(f"a list can be shared with at most {MAX_MEMBERS} users")
    if member in known:
        conn.execute(update(_m).where(_m.c.list_id == row.id, _m.c.user_id == member)
                     .values(role=role))  # fmt: skip
    else:
        conn.execute(_m.insert().values(list_id=row.id, user_id=member, role=role,
                                        created_at=utc_now(now)))  # fmt: skip
    # The new member's open pages show the list's tasks at once.
    _announce(conn, [], _t.c.list_id == row.id, "updated", also={member})
    return _members_of(conn, who, row, "shared")


def unshare_list(
    session: Session, *, user_id: str, name: ListRef, member: str
) -> ListMembers:
    """Take a member off a list (owner only), or leave it (a member giving their own id).

    They lose access at once; tasks assigned to them in it are unassigned."""
    member = _member_id(member)
    conn = session.connection()
    who = Access.of(conn, user_id)
    row = find(conn, who, name)
    if row is None:
        raise InvalidTaskInput("the Inbox is never shared")
    leaving = member == user_id and row.user_id != user_id
    if row.user_id != user_id and not leaving:
        raise Forbidden(
            f"only the owner of list {row.name!r} ({row.user_id}) can remove its members; "
            "you can leave it by giving your own user id; nothing was changed"
        )
    if member not in dict(access.members(conn, row.id)):
        raise NotAMember(member, row.name)
    in_list = _t.c.list_id == row.id
    assigned = and_(in_list, _t.c.assignee == member)
    _announce(conn, [row.id], assigned, "updated")
    conn.execute(update(_t).where(assigned).values(assignee=None))
    conn.execute(delete(_m).where(_m.c.list_id == row.id, _m.c.user_id == member))
    # Their pages drop its tasks; from now on they hear nothing of it.
    _announce(conn, [], in_list, "deleted", also={member})
    if leaving:
        # The list is no longer theirs to see: the answer shows it as it was to them.
        return {"status": "left", "list": _list_dict(row, who), "members": []}
    return _members_of(conn, who, row, "unshared")


def list_members(session: Session, *, user_id: str, name: ListRef) -> ListMembers:
    """Who can see a list: its owner and its members with their roles (anyone who sees it
    may ask)."""
    conn = session.connection()
    who = Access.of(conn, user_id)
    row = find(conn, who, name)
    if row is None:
        row = conn.execute(select(_l).where(
            _l.c.id == list_id_for(conn, user_id, None, create=True, now=utc_now())
        )).one()  # fmt: skip
    return _members_of(conn, who, row, "members")

