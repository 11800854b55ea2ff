"""Who may read and change which lists and tasks: the one place ownership is checked.

A user reads the tasks of their own lists and of the lists shared with them (list_member),
and changes those of their own lists and of the lists they are an editor of; only a list's
owner shares, renames or deletes it. A task's `user_id` is always its list's owner.

Every call reads the caller's memberships once (`Access.of`, one indexed query) and scopes
each task query with `Access.tasks`; a single task is fetched through `task_row`, which
tells "no such task" (the same answer for someone else's) from "you may only read it".
Nothing is cached across calls, so a removed member loses access at their next call.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import or_, select, union
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from mcp_server.models import LIST_TABLE, MAX_TASK_ID, MEMBER_TABLE, TASK_TABLE
from mcp_server.task_rules import TaskError, TaskNotFound
from shared import events
from shared.contract import ErrorCode, MemberRole, Role
from shared.events import TaskEvent

OWNER: Role = "owner"
EDITOR: MemberRole = "editor"
VIEWER: MemberRole = "viewer"
MEMBER_ROLES: tuple[MemberRole, ...] = (EDITOR, VIEWER)

_t = TASK_TABLE
_l = LIST_TABLE
_m = MEMBER_TABLE


class Forbidden(TaskError):
    """The caller sees the list or task but may not do this to it; nothing was changed."""

    code = ErrorCode.FORBIDDEN


@dataclass(frozen=True, slots=True)
class Access:
    """The caller, and their role in each list shared with them (list id -> role)."""

    user_id: str
    shared: Mapping[int, MemberRole]

    @classmethod
    def of(cls, conn: Connection, user_id: str) -> "Access":
        """The caller's memberships as they are now."""
        rows = conn.execute(select(_m.c.list_id, _m.c.role).where(_m.c.user_id == user_id))
        return cls(user_id, {int(row.list_id): row.role for row in rows})

    def role(self, owner: str, list_id: int) -> Role | None:
        """The caller's role in the list `list_id` of `owner`; None: not theirs to see."""
        if owner == self.user_id:
            return OWNER
        return self.shared.get(list_id)

    def list_ids(self, *, write: bool = False) -> list[int]:
        """The shared lists the caller may read (or, with `write`, change the tasks of)."""
        return sorted(i for i, role in self.shared.items() if not write or role == EDITOR)

    def tasks(self, *, write: bool = False) -> ColumnElement[bool]:
        """The condition on the task table for the tasks the caller may read (or change).

        With no shared lists it is exactly `user_id = ?`, so a user who shares nothing gets
        the (user_id, key, id) index scans listing was built on.
        """
        mine = _t.c.user_id == self.user_id
        shared = self.list_ids(write=write)
        return or_(mine, _t.c.list_id.in_(shared)) if shared else mine

    def lists(self) -> ColumnElement[bool]:
        """The condition on the list table for the lists the caller sees."""
        mine = _l.c.user_id == self.user_id
        shared = self.list_ids()
        return or_(mine, _l.c.id.in_(shared)) if shared else mine

    def require(self, owner: str, list_id: int, name: str, *, write: bool) -> Role:
        """The caller's role in a list they see; Forbidden when `write` and they only view."""
        role = self.role(owner, list_id)
        if role is None:  # callers look lists and tasks up through lists() and tasks()
            raise TaskError(f"list {name!r} is not shared with you")
        if write and role == VIEWER:
            raise Forbidden(
                f"list {name!r} is shared with you as a viewer: you can read its tasks but "
                f"not change them (ask its owner, {owner}, to make you an editor); nothing "
                "was changed"
            )
        return role


def task_row(conn: Connection, access: Access, task_id: int, *, write: bool) -> Row[Any]:
    """The task `task_id` as the caller may see it (its id, owner, list, parent and list
    name), checked for a write when `write`; TaskNotFound when it does not exist or is not
    theirs to see (the same answer, so ids of other users' tasks tell nothing)."""
    if not 1 <= task_id <= MAX_TASK_ID:
        # Before any query compares with it: PostgreSQL refuses the comparison outright,
        # SQLite cannot bind an integer past 64 bits.
        raise TaskNotFound(task_id)
    row = conn.execute(
        select(_t.c.id, _t.c.user_id, _t.c.list_id, _t.c.parent_id, _l.c.name.label("list"))
        .join(_l, _l.c.id == _t.c.list_id)
        .where(_t.c.id == task_id, access.tasks())
    ).first()
    if row is None:
        raise TaskNotFound(task_id)
    access.require(row.user_id, row.list_id, row.list, write=write)
    return cast(Row[Any], row)


def audience(conn: Connection, list_ids: Iterable[int]) -> set[str]:
    """Everyone who sees the lists `list_ids`: their owners and members, as they are now."""
    ids = sorted(set(list_ids))
    if not ids:
        return set()
    owners = select(_l.c.user_id).where(_l.c.id.in_(ids))
    members = select(_m.c.user_id).where(_m.c.list_id.in_(ids))
    return set(conn.execute(union(owners, members)).scalars())


def members(conn: Connection, list_id: int) -> list[tuple[str, MemberRole]]:
    """The members of a list (not its owner), in the order they joined."""
    rows = conn.execute(
        select(_m.c.user_id, _m.c.role)
        .where(_m.c.list_id == list_id)
        .order_by(_m.c.created_at, _m.c.user_id)
    )
    return [(row.user_id, row.role) for row in rows]


def announce(
    conn: Connection, list_ids: Iterable[int], changes: list[TaskEvent],
    *, also: Iterable[str] = (),
) -> None:
    """Tell everyone who sees `list_ids` (and the users `also`) of `changes`, when the
    write's transaction commits: each member's open pages update, and nobody else's."""
    if changes:
        heard_by = audience(conn, list_ids) | set(also)
        events.record(conn, user_ids=sorted(heard_by), events=changes)
