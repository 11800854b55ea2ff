"""The Task table, and how its rows become the contract's TaskDict.

Queries live in tasks.py (writes, get) and listing.py.
"""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Index, Integer, SmallInteger, String, and_, event, func, select
from sqlalchemy import cast as sa_cast
from sqlalchemy.engine import Connection, Dialect, Row
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from mcp_server.rrules import in_words
from shared.contract import PRIORITIES, ReminderSpec, TaskDict

TITLE_MAX_CHARS = 200
DESCRIPTION_MAX_CHARS = 2000
TAG_MAX_CHARS = 32
MAX_TAGS = 20
# The id column is a 32-bit INTEGER on PostgreSQL.
MAX_TASK_ID = 2**31 - 1
LIST_NAME_MAX_CHARS = 100
REPEAT_MAX_CHARS = 300
ZONE_MAX_CHARS = 64


class TagList(TypeDecorator[list[str]]):
    """A list of tags stored as one delimited string: ",home,errands,".

    Tags are restricted to [a-z0-9_-], so the comma can never occur inside one, and
    "has tag X" becomes `tags LIKE '%,X,%'`: the same SQL on SQLite and PostgreSQL,
    with no JSON operators that differ between them.
    """

    impl = String(MAX_TAGS * (TAG_MAX_CHARS + 1) + 1)
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str:
        return f",{','.join(value)}," if value else ""

    def process_result_value(self, value: str | None, dialect: Dialect) -> list[str]:
        return value[1:-1].split(",") if value else []


class utc_text(FunctionElement[str]):  # noqa: N801 (SQL function naming)
    """A stored timestamp as "2025-03-10T09:30:00Z", formatted by the database itself.

    Reading timestamps as datetimes and formatting them in Python cost more than half of
    listing 50 tasks; the database does it in C. Timestamps are stored in whole seconds,
    so the text is exact.
    """

    type = String()
    name = "utc_text"
    inherit_cache = True


@compiles(utc_text, "sqlite")
def _utc_text_sqlite(element: utc_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {compiler.process(element.clauses, **kw)})"


@compiles(utc_text, "postgresql")
def _utc_text_postgresql(element: utc_text, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"""to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


class reminder_specs(FunctionElement[str]):  # noqa: N801 (SQL function naming)
    """A task's reminders as one text, "0:before PT30M|1:at 2025-...": each prefixed by its
    position, as neither database promises an order inside group_concat without one."""

    type = String()
    name = "reminder_specs"
    inherit_cache = True


@compiles(reminder_specs, "sqlite")
def _reminder_specs_sqlite(element: reminder_specs, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, '|')"


@compiles(reminder_specs, "postgresql")
def _reminder_specs_postgresql(element: reminder_specs, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, '|')"


def cast_text(column: Any) -> Any:
    """An integer column as text, to build reminder_specs' entries."""
    return sa_cast(column, String)


def reminder_list(specs: str | None) -> list[ReminderSpec]:
    """reminder_specs' text as the contract's list, in the order they were given."""
    if not specs:
        return []
    entries = sorted((int(pos), spec) for pos, _, spec in
                     (entry.partition(":") for entry in specs.split("|")))  # fmt: skip
    found: list[ReminderSpec] = []
    for _, spec in entries:
        kind, _, value = spec.partition(" ")
        found.append({"before": value} if kind == "before" else {"at": value})
    return found


class TaskList(SQLModel, table=True):
    """A named list of one user's tasks; every task is in exactly one of its owner's lists.

    Names are unique per owner whatever their case (the unique index on lower(name)); the
    list named Inbox (any case) is the one tasks go to when none is named (mcp_server/lists.py).
    """

    __tablename__ = "task_list"
    # AUTOINCREMENT for the reason the task table has it: an id is never given to another list.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=200)
    name: str = Field(max_length=LIST_NAME_MAX_CHARS)
    color: str | None = Field(default=None, max_length=7)  # "#rrggbb"
    # Where the list sits among its owner's lists (lowest first; ties by id).
    position: int = 0
    created_at: datetime


_lists: Any = TaskList.__table__  # type: ignore[attr-defined]
Index("ix_task_list_user_name", _lists.c.user_id, func.lower(_lists.c.name), unique=True)


class ListMember(SQLModel, table=True):
    """A user a list is shared with, and what they may do in it (mcp_server/access.py).

    editor: add, change, complete and delete its tasks; viewer: read them. The owner (the
    list's user_id) is never a row here.
    """

    __tablename__ = "list_member"

    list_id: int = Field(
        sa_type=Integer, foreign_key="task_list.id", ondelete="CASCADE", primary_key=True
    )
    user_id: str = Field(max_length=200, primary_key=True)
    role: str = Field(max_length=10)  # "editor" or "viewer"
    created_at: datetime


MEMBER_TABLE: Any = ListMember.__table__  # type: ignore[attr-defined]
# "Which lists are shared with me", asked at the start of every call.
Index("ix_list_member_user", MEMBER_TABLE.c.user_id)


class Task(SQLModel, table=True):
    """One task, owned by its list's owner; every query is scoped by mcp_server/access.py."""

    # AUTOINCREMENT: SQLite would otherwise give a deleted newest task's id to the next
    # task, and an old widget or "delete task 7" would then act on the wrong task.
    # (PostgreSQL's sequence never goes back.) Existing databases: migration tasks_0002.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    # Indexed as the leading column of every composite index below.
    user_id: str = Field(max_length=200)
    title: str = Field(max_length=TITLE_MAX_CHARS)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX_CHARS)
    completed: bool = False
    # Timestamps are aware datetimes stored in UTC, in whole seconds.
    completed_at: datetime | None = None
    # Rank into shared.contract.PRIORITIES (0 low, 1 medium, 2 high), so the priority sort
    # is an index scan.
    priority: int = Field(default=1, sa_type=SmallInteger)
    tags: list[str] = Field(default_factory=list, sa_type=TagList)
    # Stored in UTC. A date-only due is midnight UTC of that date with `due_is_date` set.
    due_at: datetime | None = None
    due_is_date: bool = False
    recurrence: str = Field(default="none", max_length=10)
    created_at: datetime
    updated_at: datetime
    list_id: int = Field(sa_type=Integer, foreign_key="task_list.id")
    # A subtask's parent (one level deep: a parent is always a top-level task); null at top level.
    parent_id: int | None = Field(default=None, sa_type=Integer, foreign_key="task.id")
    # An RFC 5545 RRULE without "RULE:" (mcp_server/repeats.py); null for a one-off task.
    # `recurrence` above is kept in step with it: its plain name, or "custom".
    repeat: str | None = Field(default=None, max_length=REPEAT_MAX_CHARS)
    repeat_from: str = Field(default="due", max_length=10)  # "due" or "completion"
    # The IANA zone a timed task repeats in (9:00 stays 9:00 across DST); null: UTC.
    timezone: str | None = Field(default=None, max_length=ZONE_MAX_CHARS)
    # Since shared lists (tasks_0012): `user_id` above is always the owner of the task's
    # list; who the task is assigned to (the owner or a member of the list), and who made
    # its last change (the owner or an editor). Null: unassigned; unknown (older rows).
    assignee: str | None = Field(default=None, max_length=200)
    changed_by: str | None = Field(default=None, max_length=200)


# Keyset pagination reads "WHERE user_id = ? AND (key, id) > (?, ?) ORDER BY key, id":
# one index per sort key, each ending in id so ties are ordered by the index too.
_table: Any = Task.__table__  # type: ignore[attr-defined]
Index("ix_task_user_created", _table.c.user_id, _table.c.created_at, _table.c.id)
Index("ix_task_user_due", _table.c.user_id, _table.c.due_at, _table.c.id)
Index("ix_task_user_priority", _table.c.user_id, _table.c.priority, _table.c.id)
Index("ix_task_user_title", _table.c.user_id, func.lower(_table.c.title), _table.c.id)
# Subtask counts and lookups, and the foreign keys' checks when a task or list is deleted.
Index("ix_task_parent", _table.c.parent_id)
Index("ix_task_list", _table.c.list_id)

# The search index (mcp_server/search.py), as migration tasks_0014 makes it: on SQLite an
# FTS5 table over the task table's rows kept by triggers, on PostgreSQL a GIN index with
# pg_trgm's operator class where pg_trgm is installed.
SEARCH_SQLITE = (
    "CREATE VIRTUAL TABLE task_search USING fts5("
    "title, description, content='task', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER task_search_insert AFTER INSERT ON task BEGIN "
    "INSERT INTO task_search(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER task_search_delete AFTER DELETE ON task BEGIN "
    "INSERT INTO task_search(task_search, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    "CREATE TRIGGER task_search_update AFTER UPDATE OF title, description ON task BEGIN "
    "INSERT INTO task_search(task_search, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO task_search(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
)
SEARCH_POSTGRES = (
    "CREATE INDEX ix_task_search ON task "
    "USING gin (title {schema}.gin_trgm_ops, description {schema}.gin_trgm_ops)"
)


@event.listens_for(_table, "after_create")
def _create_search_index(_target: Any, connection: Connection, **_: Any) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SEARCH_SQLITE:
            connection.exec_driver_sql(statement)
        return
    query = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    if (schema := connection.exec_driver_sql(query).scalar()) is not None:
        connection.exec_driver_sql(SEARCH_POSTGRES.format(schema=schema))


@event.listens_for(_table, "before_drop")
def _drop_search_index(_target: Any, connection: Connection, **_: Any) -> None:
    if connection.dialect.name == "sqlite":  # PostgreSQL drops the index with the table
        connection.exec_driver_sql("DROP TABLE IF EXISTS task_search")


# --- reminders ------------------------------------------------------------------------


class TaskReminder(SQLModel, table=True):
    """One reminder of a task (mcp_server/reminders.py): when it fires, and how it went.

    A scheduler claims a row by setting sent_at (mcp_server/scheduler.py), once across every
    process; `late` says it went out after its time (every process was down, say).
    """

    __tablename__ = "task_reminder"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(sa_type=Integer, foreign_key="task.id", ondelete="CASCADE")
    user_id: str = Field(max_length=200)
    position: int = Field(sa_type=SmallInteger)  # its place in the task's list of reminders
    spec: str = Field(max_length=80)  # "before PT30M" or "at 2025-03-10T09:00:00+01:00"
    fire_at: datetime  # UTC
    sent_at: datetime | None = None
    late: bool = False
    outcome: str | None = Field(default=None, max_length=10)  # sent, failed, skipped


REMINDER_TABLE: Any = TaskReminder.__table__  # type: ignore[attr-defined]
Index("ix_task_reminder_fire_at", REMINDER_TABLE.c.fire_at)
Index("ix_task_reminder_task", REMINDER_TABLE.c.task_id)


# --- rows to dicts ------------------------------------------------------------------

TASK_TABLE: Any = Task.__table__  # type: ignore[attr-defined]
LIST_TABLE: Any = _lists
_t = TASK_TABLE
_sub = TASK_TABLE.alias("sub")
_rem = REMINDER_TABLE

TASK_COLUMNS = (
    # What a TaskDict is read from, timestamps already formatted by the database.
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
    # Scalar subqueries rather than joins, so INSERT/UPDATE ... RETURNING can read them too.
    select(_lists.c.name).where(_lists.c.id == _t.c.list_id).correlate(_t).scalar_subquery()
    .label("list"),
    _t.c.list_id,
    _t.c.parent_id,
    select(func.count()).select_from(_sub)
    .where(and_(_sub.c.parent_id == _t.c.id, _sub.c.completed == False))  # noqa: E712
    .correlate(_t).scalar_subquery().label("open_subtasks"),
    _t.c.repeat,
    _t.c.repeat_from,
    _t.c.timezone,
    select(reminder_specs(cast_text(_rem.c.position) + ":" + _rem.c.spec))
    .where(_rem.c.task_id == _t.c.id).correlate(_t).scalar_subquery().label("reminders"),
    _t.c.user_id.label("owner"),
    _t.c.assignee,
    _t.c.changed_by,
)  # fmt: skip


def task_dict(row: Row[Any]) -> TaskDict:
    """A row selected with TASK_COLUMNS as the contract's TaskDict."""
    (task_id, title, description, completed, completed_at, priority, tags, due, due_is_date,
     recurrence, created_at, updated_at, list_name, list_id, parent_id, open_subtasks, repeat,
     repeat_from, zone, reminders, owner, assignee, changed_by) = cast(
         tuple[Any, ...], row)[:23]  # fmt: skip
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
        "list": list_name,
        "list_id": list_id,
        "parent_id": parent_id,
        "open_subtasks": open_subtasks,
        "repeat": repeat,
        "repeat_from": repeat_from,
        "repeat_text": in_words(repeat),
        "timezone": zone,
        "reminders": reminder_list(reminders),
        "owner": owner,
        "assignee": assignee,
        "changed_by": changed_by,
    }


# --- the deployment's own secrets -----------------------------------------------------

CURSOR_SECRET_NAME = "cursor"


class DeploymentSecret(SQLModel, table=True):
    """A random secret a deployment made for itself, the first time a process needed it.

    Every instance and worker reads the same row, so what one signs another accepts;
    deleting the row (and restarting) makes a new one.
    """

    __tablename__ = "deployment_secret"

    name: str = Field(max_length=40, primary_key=True)
    value: str = Field(max_length=100)  # URL-safe base64 of the secret's bytes
