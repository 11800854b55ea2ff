"""The task tools' bodies: every function takes a Session and the owner explicitly.

Results are JSON-ready dicts in the shape of the contract (shared/contract.py), built
straight from result rows (no ORM objects, no re-validation). Every write validates all
of its input (task_rules.py) before touching the database. Writes leave the commit to
their caller (calls.apply), so a write and the record of the call that made it commit
together; one that raises leaves nothing behind. Listing lives in listing.py.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, cast

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from mcp_server import reminders, rrules, trash
from mcp_server.access import Access, announce, audience, task_row
from mcp_server.listing import CursorSecret, TaskQuery, list_tasks
from mcp_server.lists import ListRef, NeedsChoice, find, move_tasks, writable
from mcp_server.models import TASK_COLUMNS, TASK_TABLE, task_dict
from mcp_server.task_rules import (
    MAX_DUE,
    InvalidTaskInput,
    TaskError,
    TaskNotFound,
    clean_description,
    clean_recurrence,
    clean_tags,
    clean_title,
    parse_due,
    priority_rank,
    time_zone,
    utc_now,
)
from shared.auth import AuthError, check_user_id
from shared.contract import (
    ChangeStatus,
    TaskChange,
    TaskDetail,
    TaskDict,
    TaskPage,
)
from shared.events import TaskEvent

__all__ = [
    "CursorSecret",
    "InvalidTaskInput",
    "NewTask",
    "TaskChange",
    "TaskDetail",
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

UPDATABLE_FIELDS = (
    "title", "description", "due", "priority", "tags", "recurrence", "list", "parent_id",
    "repeat", "repeat_from", "timezone", "skip", "reminders", "assignee",
)  # fmt: skip
REPEAT_FROM = ("due", "completion")
SUBTASK_CHOICES = {"complete": ("complete",), "delete": ("delete", "keep")}


_t = TASK_TABLE
# Built once: SQLAlchemy keeps a statement's cache key on the object, so a statement run
# again with new parameters is neither rebuilt nor keyed again (TASK_COLUMNS' subqueries
# made that a tenth of an add_task).
_READ = select(*TASK_COLUMNS).where(_t.c.id == bindparam("task_id"))
_INSERT = insert(_t).returning(_t.c.id)


@dataclass(frozen=True, kw_only=True, slots=True)
class NewTask:
    """Raw input for add_task; add_task validates and normalises every field."""

    title: str
    description: str | None = None
    due: str | None = None
    priority: str = "medium"
    tags: list[str] | None = None
    recurrence: str = "none"
    list: ListRef | None = None
    parent_id: int | None = None
    repeat: str | None = None
    repeat_from: str = "due"
    timezone: str | None = None
    # [{"before": "PT30M"}, {"at": "2025-03-10T09:00:00+01:00"}] (mcp_server/reminders.py)
    reminders: Sequence[object] | None = None


def _change(status: ChangeStatus, task: TaskDict, next_task: TaskDict | None = None) -> TaskChange:
    return {
        "task_id": task["id"],
        "status": status,
        "title": task["title"],
        "task": task,
        "next_task": next_task,
    }


def _told(conn: Connection, list_ids: list[int], status: ChangeStatus, *task_ids: int) -> None:
    """Tell everyone who sees `list_ids` that the tasks `task_ids` changed (access.announce)."""
    announce(conn, list_ids, [TaskEvent(task_id=i, status=status) for i in task_ids])


def _ids(conn: Connection, condition: ColumnElement[bool]) -> list[int]:
    return list(conn.execute(select(_t.c.id).where(condition).order_by(_t.c.id)).scalars())


# --- repeat rules on a task -----------------------------------------------------------


def _zone(name: str | None) -> tzinfo:
    return time_zone(name)


def _clean_zone(value: str) -> str | None:
    """An IANA zone name as stored; "" means none (UTC)."""
    if not value.strip():
        return None
    time_zone(value.strip())
    return value.strip()


def _clean_repeat(value: str) -> str | None:
    """A canonical rule; "" stops the task repeating."""
    if not value.strip():
        return None
    try:
        return rrules.canonical(value)
    except rrules.RuleError as exc:
        raise InvalidTaskInput(f"repeat: {exc}") from None


def _repeat_from(value: str) -> str:
    if value not in REPEAT_FROM:
        raise InvalidTaskInput(f"repeat_from must be due or completion (got {value!r})")
    return value


def _wall_clock(due_at: datetime | None, is_date: bool, zone: tzinfo, now: datetime) -> datetime:
    """Where a task's series stands, as a naive wall-clock time in its zone: its due (a
    date-only due as midnight of its date), or the start of today when it has none."""
    if due_at is None:
        return datetime.combine(now.astimezone(zone).date(), time())
    if is_date:
        return due_at.astimezone(UTC).replace(tzinfo=None)
    return due_at.astimezone(zone).replace(tzinfo=None)


def _check_rule(rule: str | None, values: Mapping[str, Any], now: datetime) -> None:
    if rule is None:
        return
    zone = _zone(values["timezone"])
    start = _wall_clock(values["due_at"], values["due_is_date"], zone, now)
    try:
        rrules.check_produces(rule, start, zone)
    except rrules.RuleError as exc:
        raise InvalidTaskInput(f"repeat: {exc}") from None


def _legacy(recurrence: str, due: Mapping[str, Any]) -> str | None:
    """The rule for an old `recurrence` value, on the day of `due` (due_at, due_is_date,
    timezone). A date-only due is its own day, stored at midnight UTC: read in a zone west
    of UTC it would be the day before."""
    day: date | None = None
    if (due_at := due["due_at"]) is not None:
        local = due_at if due["due_is_date"] else due_at.astimezone(_zone(due["timezone"]))
        day = local.date()
    return rrules.legacy_rule(clean_recurrence(recurrence), day)


def _following(row: Any, moment: datetime, *, skip: bool = False) -> dict[str, Any] | None:
    """The due and rule of the occurrence after `row`'s, completed at `moment`; None when the
    series ends. `skip` reads the series from the due even when it repeats from completion."""
    zone = _zone(row.timezone)
    is_date = row.due_at is None or row.due_is_date
    if row.repeat_from == "completion" and not skip or row.due_at is None:
        # From the day of completion, at the task's time of day: "3 days after I did it".
        day = moment.astimezone(zone).date()
        at = time() if is_date else row.due_at.astimezone(zone).time()
        start = datetime.combine(day, at)
    else:
        start = _wall_clock(row.due_at, is_date, zone, moment)
    try:
        found = rrules.following(row.repeat, start, zone)
        if found is None:
            return None
        local, rule = found
        due_at = local.replace(tzinfo=UTC if is_date else zone).astimezone(UTC)
    except (OverflowError, ValueError):  # dateutil past year 9999
        due_at = None
    if due_at is None or due_at > MAX_DUE:
        raise InvalidTaskInput(
            f"the next occurrence of this task ({rrules.in_words(row.repeat)}) would be due "
            f'after {MAX_DUE:%Y-%m-%d}, the last supported date; stop it repeating first '
            '(repeat "")'
        )
    return {"due_at": due_at, "due_is_date": is_date, "repeat": rule,
            "recurrence": rrules.plain_name(rule)}  # fmt: skip


# --- writes -------------------------------------------------------------------------


def _parent(conn: Connection, who: Access, parent_id: int) -> Row[Any]:
    row = task_row(conn, who, parent_id, write=True)
    if row.parent_id is not None:
        raise InvalidTaskInput(
            f"task {parent_id} is itself a subtask; subtasks go one level deep, so give its "
            f"parent, task {row.parent_id}"
        )
    return row


def add_task(
    session: Session, *, user_id: str, data: NewTask, now: datetime | None = None
) -> TaskChange:
    """Create a task for `user_id` (in the Inbox unless a list or a parent is named)."""
    moment = utc_now(now)
    values: dict[str, Any] = {
        "title": clean_title(data.title),
        "description": clean_description(data.description),
        "priority": priority_rank(data.priority),
        "tags": clean_tags(data.tags),
        "repeat_from": _repeat_from(data.repeat_from),
        "timezone": _clean_zone(data.timezone or ""),
        **_due_values(data.due),
    }
    if data.repeat is not None and data.recurrence != "none":
        raise InvalidTaskInput("give repeat or recurrence, not both")
    if data.repeat is not None:
        rule = _clean_repeat(data.repeat)
    else:
        rule = _legacy(data.recurrence, values)
    _check_rule(rule, values, moment)
    specs = reminders.clean_reminders(data.reminders or [])
    conn = session.connection()
    who = Access.of(conn, user_id)
    if data.parent_id is not None:
        parent = _parent(conn, who, data.parent_id)
        if rule is not None:
            raise InvalidTaskInput(_SUBTASK_REPEATS)
        if data.list is not None:
            named = find(conn, who, data.list)
            if named is None or named.id != parent.list_id:
                raise InvalidTaskInput(_SUBTASK_LIST)
        owner, values["list_id"], values["parent_id"] = parent.user_id, parent.list_id, parent.id
    else:
        target = writable(conn, who, data.list, now=moment)
        owner, values["list_id"] = target.user_id, target.id
    # RETURNING only the id: the list name and subtask count are subqueries, which neither
    # database can correlate inside RETURNING; the task is read back by its primary key.
    # The task is its list's owner's, whoever adds it.
    task_id = conn.execute(
        _INSERT,
        {"user_id": owner, "completed": False, "created_at": moment, "updated_at": moment,
         "repeat": rule, "recurrence": rrules.plain_name(rule), "changed_by": user_id, **values},
    ).scalar_one()  # fmt: skip
    if data.reminders is None:  # not given: the owner's default, if they have one
        specs = reminders.defaults(conn, user_id=owner, task=values)
    if specs:
        reminders.write(conn, task_id=task_id, user_id=owner, specs=specs, task=values)
    _told(conn, [values["list_id"]], "created", task_id)
    return _change("created", _read(conn, task_id))


_SUBTASK_REPEATS = (
    "a subtask cannot repeat on its own; make its parent repeat, and each next occurrence "
    "gets a fresh copy of the subtask"
)
_SUBTASK_LIST = "a subtask is always in its parent's list; move the parent instead"


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
    """Change the given fields of a task; None leaves a field as it is, "" or [] clears it.

    `skip` moves a repeating task to its next occurrence without completing it; `parent_id`
    0 makes a subtask a top-level task again; a parent's new list is its subtasks' too.
    """
    moment = utc_now(now)
    values = _update_values(changes)
    conn = session.connection()
    who = Access.of(conn, user_id)
    task_row(conn, who, task_id, write=True)
    this = _t.c.id == task_id
    current = conn.execute(select(_t).where(this).with_for_update()).one()
    target = _placement(conn, who, current=current, changes=changes, moment=moment, into=values)
    merged = {**current._mapping, **values}
    _check_repeat_change(current, changes, values, merged, moment)
    if changes.get("assignee") is not None:
        values["assignee"] = _assignee(conn, changes["assignee"], merged["list_id"])
    reopened = _ids(conn, _t.c.parent_id == task_id) if changes.get("skip") else []
    if changes.get("skip"):
        values.update(_skipped(conn, current, merged, changes, moment))
    conn.execute(update(_t).where(this).values(updated_at=moment, changed_by=user_id, **values))
    moved = []
    if target is not None:
        # A parent's new list is its subtasks' too (and its owner theirs).
        family = or_(this, _t.c.parent_id == task_id) if current.parent_id is None else this
        moved = _ids(conn, and_(family, ~this))
        move_tasks(conn, family, target)
    _retime_reminders(conn, merged["user_id"] if target is None else target.user_id, task_id,
                      changes, {**current._mapping, **values})  # fmt: skip
    lists = sorted({current.list_id, merged["list_id"]})
    _told(conn, lists, "updated", task_id, *moved, *reopened)
    return _change("updated", _read(conn, task_id))


def _assignee(conn: Connection, value: str, list_id: int) -> str | None:
    """Who a task is assigned to: "" nobody; else the list's owner or one of its members."""
    if not value.strip():
        return None
    try:
        assignee = check_user_id(value.strip())
    except AuthError as exc:
        raise InvalidTaskInput(f"assignee: {exc}") from None
    if assignee not in audience(conn, [list_id]):
        raise InvalidTaskInput(
            f"assignee: {assignee} cannot see this task's list; a task is assigned to its "
            "list's owner or a member (share_list adds one)"
        )
    return assignee


def _retime_reminders(
    conn: Connection, user_id: str, task_id: int, changes: Mapping[str, Any],
    task: Mapping[str, Any],
) -> None:
    """Rewrite the task's reminders when they, its due or its zone changed."""
    given = changes.get("reminders")
    timing = {"due", "timezone", "skip"} & {
        name for name, value in changes.items() if value is not None and value is not False
    }
    if given is None and not timing:
        return
    specs = reminders.clean_reminders(given) if given is not None else reminders.specs_of(
        conn, task_id)  # fmt: skip
    if specs or given is not None:
        reminders.write(conn, task_id=task_id, user_id=user_id, specs=specs, task=task)


def _update_values(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(changes) - set(UPDATABLE_FIELDS))
    if unknown:
        raise InvalidTaskInput(
            f"cannot update {', '.join(unknown)}; updatable fields: {', '.join(UPDATABLE_FIELDS)}"
        )
    if all(value is None or value is False for value in changes.values()):
        raise InvalidTaskInput(
            f"nothing to update: give at least one of {', '.join(UPDATABLE_FIELDS)}"
        )
    if changes.get("repeat") is not None and changes.get("recurrence") is not None:
        raise InvalidTaskInput("give repeat or recurrence, not both")
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if value is not None and field in _CLEANERS:
            values.update(_CLEANERS[field](value))
    return values


# How each plain field's new value is checked, and the columns it sets. (list, parent_id,
# recurrence and skip depend on the task as it is: update_task handles them.)
_CLEANERS: dict[str, Any] = {
    "title": lambda v: {"title": clean_title(v)},
    "description": lambda v: {"description": clean_description(v)},
    "due": lambda v: _due_values(v or None),
    "priority": lambda v: {"priority": priority_rank(v)},
    "tags": lambda v: {"tags": clean_tags(v)},
    "repeat": lambda v: {"repeat": _clean_repeat(v)},
    "repeat_from": lambda v: {"repeat_from": _repeat_from(v)},
    "timezone": lambda v: {"timezone": _clean_zone(v)},
}


def _placement(
    conn: Connection,
    who: Access,
    *,
    current: Row[Any],
    changes: Mapping[str, Any],
    moment: datetime,
    into: dict[str, Any],
) -> Row[Any] | None:
    """Put in `into` the list_id and parent_id an update gives the task; the list it moves
    to (None when it stays in its own)."""
    placed: dict[str, Any] = {}
    target = None
    parent_id = changes.get("parent_id")
    if parent_id is not None and parent_id != 0:
        if parent_id == current.id:
            raise InvalidTaskInput("a task cannot be its own subtask")
        parent = _parent(conn, who, parent_id)
        has_subtasks = conn.execute(
            select(func.count()).where(_t.c.parent_id == current.id)
        ).scalar_one()
        if has_subtasks:
            raise InvalidTaskInput(
                f"task {current.id} has subtasks of its own; subtasks go one level deep"
            )
        placed["parent_id"], placed["list_id"] = parent.id, parent.list_id
        target = find(conn, who, parent.list_id)
    elif parent_id == 0:
        placed["parent_id"] = None
    name = changes.get("list")
    if name is not None:
        target = writable(conn, who, name, now=moment)
        is_subtask = placed.get("parent_id", current.parent_id) is not None
        if is_subtask and target.id != placed.get("list_id", current.list_id):
            raise InvalidTaskInput(_SUBTASK_LIST)
        placed["list_id"] = target.id
    into.update(placed)
    if target is None or target.id == current.list_id:
        return None
    return target


def _check_repeat_change(
    current: Row[Any],
    changes: Mapping[str, Any],
    values: dict[str, Any],
    merged: Mapping[str, Any],
    moment: datetime,
) -> None:
    """Resolve the old `recurrence` argument, and check the rule the task will have."""
    if changes.get("recurrence") is not None:
        values["repeat"] = _legacy(changes["recurrence"], merged)
    rule = values.get("repeat", current.repeat)
    if "repeat" in values:
        values["recurrence"] = rrules.plain_name(rule)
    if rule is not None and merged["parent_id"] is not None:
        raise InvalidTaskInput(_SUBTASK_REPEATS)
    if rule is not None and values.keys() & {"repeat", "due_at", "timezone"}:
        _check_rule(rule, {**merged, "repeat": rule}, moment)


def _skipped(
    conn: Connection,
    current: Row[Any],
    merged: Mapping[str, Any],
    changes: Mapping[str, Any],
    moment: datetime,
) -> dict[str, Any]:
    if changes.get("due") is not None:
        raise InvalidTaskInput("give due or skip, not both")
    if merged["repeat"] is None:
        raise InvalidTaskInput("skip moves a repeating task to its next occurrence; this one "
                               "does not repeat")  # fmt: skip
    following = _following(_Merged(merged), moment, skip=True)
    if following is None:
        raise InvalidTaskInput(
            "this is the last occurrence of the series (COUNT or UNTIL); complete or delete it"
        )
    # The next occurrence starts with its checklist open again.
    conn.execute(update(_t).where(_t.c.parent_id == current.id).values(
        completed=False, completed_at=None, updated_at=moment))  # fmt: skip
    return following


class _Merged:
    """A task's merged values read as attributes, as _following reads a row."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.__dict__.update(values)


def set_completed(
    session: Session,
    *,
    user_id: str,
    task_id: int,
    completed: bool = True,
    subtasks: str | None = None,
    now: datetime | None = None,
) -> TaskChange:
    """Complete or reopen a task; completing an open repeating task creates its next
    occurrence, with fresh open copies of its subtasks.

    A task with open subtasks is completed only with `subtasks="complete"`, which completes
    them too. Completing a completed task (or reopening an open one) changes nothing; in
    particular it never creates a second next occurrence.
    """
    if subtasks is not None and subtasks != "complete":
        raise InvalidTaskInput(f'subtasks must be "complete" or null (got {subtasks!r})')
    moment = utc_now(now)
    conn = session.connection()
    who = Access.of(conn, user_id)
    found = task_row(conn, who, task_id, write=True)
    done_too = _complete_subtasks(conn, user_id, task_id, subtasks, moment) if completed else []
    # The state test sits in the UPDATE itself, so of two concurrent completions exactly
    # one flips the task and creates the next occurrence.
    row = conn.execute(
        update(_t)
        .where(_t.c.id == task_id, _t.c.completed == (not completed))
        .values(
            completed=completed,
            completed_at=moment if completed else None,
            updated_at=moment,
            changed_by=user_id,
        )
        .returning(_t)
    ).first()
    status: ChangeStatus = "completed" if completed else "reopened"
    if row is None:
        return _change(status, _read(conn, task_id))
    _told(conn, [found.list_id], status, task_id, *done_too)
    next_task = None
    if completed and row.repeat is not None:
        next_task = _insert_next_occurrence(conn, row, moment)
    return _change(status, _read(conn, task_id), next_task)


def _complete_subtasks(
    conn: Connection, user_id: str, task_id: int, choice: str | None, moment: datetime
) -> list[int]:
    """Complete the open subtasks of `task_id` when `choice` says so; their ids."""
    open_ones = and_(_t.c.parent_id == task_id, _t.c.completed == False)  # noqa: E712
    done = _ids(conn, open_ones)
    if not done:
        return []
    if choice != "complete":
        raise NeedsChoice(
            f"task {task_id} has {len(done)} open subtask(s); complete them first, or pass "
            'subtasks: "complete" to complete them with it'
        )
    conn.execute(update(_t).where(open_ones).values(
        completed=True, completed_at=moment, updated_at=moment, changed_by=user_id))  # fmt: skip
    return done


def _insert_next_occurrence(conn: Connection, row: Row[Any], moment: datetime) -> TaskDict | None:
    following = _following(row, moment)
    if following is None:
        return None
    created = conn.execute(
        insert(_t)
        .values(
            user_id=row.user_id,
            title=row.title,
            description=row.description,
            completed=False,
            priority=row.priority,
            tags=row.tags,
            list_id=row.list_id,
            repeat_from=row.repeat_from,
            timezone=row.timezone,
            assignee=row.assignee,
            changed_by=row.changed_by,
            created_at=moment,
            updated_at=moment,
            **following,
        )
        .returning(_t.c.id)
    ).scalar_one()
    _copy_subtasks(conn, row, created, following["due_at"], moment)
    _carry_reminders(conn, row, created, following)
    _told(conn, [row.list_id], "created", created, *_ids(conn, _t.c.parent_id == created))
    return _read(conn, created)


def _carry_reminders(
    conn: Connection, row: Row[Any], copy_id: int, following: Mapping[str, Any]
) -> None:
    """The next occurrence's reminders: the same `before`s, and each `at` moved as far as
    the due moved (dropped when the task has no due to move by)."""
    specs = []
    for spec in reminders.specs_of(conn, row.id):
        kind, _, value = spec.partition(" ")
        if kind == "before":
            specs.append(spec)
        elif row.due_at is not None and following["due_at"] is not None:
            shifted = datetime.fromisoformat(value) + (following["due_at"] - row.due_at)
            specs.append(f"at {shifted.isoformat()}")
    if specs:
        task = {**following, "timezone": row.timezone}
        reminders.write(conn, task_id=copy_id, user_id=row.user_id, specs=specs, task=task)


def _copy_subtasks(
    conn: Connection, parent: Row[Any], copy_id: int, due_at: datetime, moment: datetime
) -> None:
    """Fresh open copies of `parent`'s subtasks under its next occurrence, their dues moved
    as far as the parent's moved."""
    shift = None if parent.due_at is None else due_at - parent.due_at
    for sub in conn.execute(select(_t).where(_t.c.parent_id == parent.id).order_by(_t.c.id)):
        sub_due = sub.due_at if sub.due_at is None or shift is None else sub.due_at + shift
        if sub_due is not None and sub_due > MAX_DUE:
            sub_due = None
        conn.execute(insert(_t).values(
            user_id=sub.user_id, title=sub.title, description=sub.description, completed=False,
            priority=sub.priority, tags=sub.tags, due_at=sub_due, due_is_date=sub.due_is_date,
            recurrence="none", list_id=parent.list_id, parent_id=copy_id,
            repeat_from=sub.repeat_from, timezone=sub.timezone, created_at=moment,
            updated_at=moment, assignee=sub.assignee, changed_by=parent.changed_by,
        ))  # fmt: skip


def delete_task(
    session: Session, *, user_id: str, task_id: int, subtasks: str | None = None
) -> TaskChange:
    """Delete a task; the result holds the task as it was.

    A task with subtasks needs `subtasks`: "delete" deletes them with it, "keep" makes them
    top-level tasks.
    """
    if subtasks is not None and subtasks not in SUBTASK_CHOICES["delete"]:
        raise InvalidTaskInput(f'subtasks must be "delete", "keep" or null (got {subtasks!r})')
    conn = session.connection()
    found = task_row(conn, Access.of(conn, user_id), task_id, write=True)
    children = _t.c.parent_id == task_id
    subs = _ids(conn, children)
    if subs and subtasks is None:
        raise NeedsChoice(
            f'task {task_id} has {len(subs)} subtask(s); pass subtasks: "delete" to delete them '
            'too, or subtasks: "keep" to keep them as top-level tasks'
        )
    before = conn.execute(select(*TASK_COLUMNS).where(_t.c.id == task_id)).one()
    _keep_for_restore(conn, user_id, task_id, children, subtasks)
    # Told first: a subtask deleted with its parent is gone from every page too.
    _told(conn, [found.list_id], "deleted", task_id, *(subs if subtasks == "delete" else []))
    if subs and subtasks == "delete":
        conn.execute(delete(_t).where(children))
    elif subs:
        conn.execute(update(_t).where(children).values(parent_id=None, changed_by=user_id))
        _told(conn, [found.list_id], "updated", *subs)
    conn.execute(delete(_t).where(_t.c.id == task_id))
    return _change("deleted", task_dict(before))


def _keep_for_restore(
    conn: Connection, user_id: str, task_id: int, children: ColumnElement[bool],
    subtasks: str | None,
) -> None:
    """Keep what a delete removes, so restore_task can bring it back (trash.py)."""
    task = conn.execute(select(_t).where(_t.c.id == task_id)).one()
    subs = list(conn.execute(select(_t).where(children).order_by(_t.c.id)))
    deleted, kept = (subs, []) if subtasks == "delete" else ([], [sub.id for sub in subs])
    trash.keep(conn, user_id=user_id, task=task, subtasks=deleted, kept=kept, moment=utc_now())


# --- reads --------------------------------------------------------------------------


def _read(conn: Connection, task_id: int) -> TaskDict:
    """A task the caller's access was checked for (access.task_row), as a TaskDict."""
    row = conn.execute(_READ, {"task_id": task_id}).first()
    if row is None:
        raise TaskNotFound(task_id)
    return task_dict(row)


def get_task(session: Session, *, user_id: str, task_id: int) -> TaskDetail:
    """One task `user_id` sees (theirs, or in a list shared with them), with its subtasks
    (oldest first)."""
    conn = session.connection()
    task_row(conn, Access.of(conn, user_id), task_id, write=False)
    task = _read(conn, task_id)
    rows = conn.execute(
        select(*TASK_COLUMNS).where(_t.c.parent_id == task_id).order_by(_t.c.id)
    )
    return cast(TaskDetail, {**task, "subtasks": [task_dict(row) for row in rows]})
