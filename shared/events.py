"""Task change events: recorded by the MCP server inside each write, heard by chat servers.

Each write tells every user who sees the task's list (its owner and, for a shared list, its
members: mcp_server/access.py `announce`), in the write's own transaction, so an event goes
out exactly when its change commits. Two transports, chosen by the database both processes
already share:

- SQLite (both processes on one machine): an append-only `task_event` table. The MCP
  server inserts a row per user in the write's transaction; chat servers poll for rows past
  the last id they saw. Rows older than KEEP_EVENTS are pruned, at most once every
  PRUNE_EVERY seconds per process (a DELETE on every write cost more than the event).
- PostgreSQL (any number of instances): NOTIFY on a channel named for the schema; every
  chat server LISTENs on one connection of its own. Delivery is immediate and needs no
  table or extra service; a listener that was down misses events, which is fine because
  a page refetches its tasks whenever its stream (re)connects.
"""

import json
import logging
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import anyio
from sqlalchemy import Connection, bindparam, delete, func, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Field, Session, SQLModel
from typing_extensions import TypedDict

from shared.contract import ChangeStatus
from shared.db import run_db

log = logging.getLogger(__name__)

KEEP_EVENTS = timedelta(minutes=5)
PRUNE_EVERY = 60.0
# The channel is per schema, so deployments (or test runs) sharing one database but not
# one schema do not hear each other: NOTIFY channels are per database.
CHANNEL_SQL = "SELECT 'taskchat_tasks_' || left(md5(current_schema()), 12)"


class TaskEventRow(SQLModel, table=True):
    """One change to one user's task, kept for a few minutes (SQLite transport only)."""

    __tablename__ = "task_event"
    # AUTOINCREMENT: ids never go back, even after pruning empties the table, so a poller's
    # "everything after id N" cannot miss a row.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=200)
    task_id: int
    status: str = Field(max_length=10)
    created_at: datetime = Field(index=True)


_table: Any = TaskEventRow.__table__  # type: ignore[attr-defined]
# Built once: SQLAlchemy then reuses the statement's cache key and compiled form.
_insert = insert(_table)
_prune = delete(_table).where(_table.c.created_at < bindparam("before"))


class _Pruning:
    at = 0.0  # time.monotonic() of this process's last pruning


class TaskEvent(TypedDict):
    """What a page is told: which of its tasks changed, and how."""

    task_id: int
    status: ChangeStatus


def publish(session: Session, *, user_id: str, events: Iterable[TaskEvent]) -> None:
    """Tell every chat server about `events` of `user_id`, and commit."""
    record(session.connection(), user_ids=[user_id], events=events)
    session.commit()


def record(conn: Connection, *, user_ids: Iterable[str], events: Iterable[TaskEvent]) -> None:
    """Publish `events` to each of `user_ids` when `conn`'s transaction commits.

    Called inside a write's own transaction, the events go out with the write and never
    without it: NOTIFY is delivered at commit (and dropped by a rollback), and the event
    table's rows commit or roll back with the write.
    """
    events = list(events)  # read once per user
    pairs = [(user_id, event) for user_id in user_ids for event in events]
    if not pairs:
        return
    if conn.dialect.name == "postgresql":
        channel = _channel(conn)
        for user_id, event in pairs:
            payload = json.dumps({"user_id": user_id, **event})
            conn.execute(select(func.pg_notify(channel, payload)))
    else:
        now = datetime.now(UTC)
        rows = [{"user_id": user_id, **event, "created_at": now} for user_id, event in pairs]
        conn.execute(_insert, rows)
        _prune_old(conn, now)


def _channel(conn: Connection) -> str:
    """This connection's channel, asked once per database connection (its schema does not
    change under it) instead of once per write."""
    info = conn.connection.info
    if "taskchat_channel" not in info:
        info["taskchat_channel"] = conn.execute(text(CHANNEL_SQL)).scalar_one()
    return str(info["taskchat_channel"])


def _prune_old(conn: Connection, now: datetime) -> None:
    """Delete events older than KEEP_EVENTS, in the write's transaction, at most once every
    PRUNE_EVERY seconds per process: pollers read only past the last id they saw, so rows a
    minute past KEEP_EVENTS cost nothing but their space."""
    if time.monotonic() - _Pruning.at < PRUNE_EVERY:
        return
    _Pruning.at = time.monotonic()
    conn.execute(_prune, {"before": now - KEEP_EVENTS})


def is_missing_table(exc: BaseException) -> bool:
    """Whether `exc` says the task_event table does not exist (yet) in a SQLite database."""
    return isinstance(exc, OperationalError) and "no such table" in str(exc.orig)


def last_event_id(session: Session) -> int:
    """The id of the newest stored event (0 when there is none)."""
    return int(session.execute(select(func.coalesce(func.max(_table.c.id), 0))).scalar_one())


def events_after(session: Session, last_id: int) -> list[tuple[int, str, TaskEvent]]:
    """(id, user id, event) of every stored event after `last_id`, oldest first."""
    columns = _table.c
    rows = session.execute(
        select(columns.id, columns.user_id, columns.task_id, columns.status)
        .where(columns.id > last_id)
        .order_by(columns.id)
    ).all()
    return [
        (row.id, row.user_id, TaskEvent(task_id=row.task_id, status=cast(Any, row.status)))
        for row in rows
    ]


def libpq_url(database_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as the plain URL psycopg connects with."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False
    )


async def listen(database_url: str) -> AsyncIterator[tuple[str, TaskEvent]]:
    """(user id, event) for every event published on this PostgreSQL schema, as they come.

    Raises when the connection fails or drops; the caller reconnects.
    """
    # Only PostgreSQL deployments need psycopg loaded.
    from psycopg import AsyncConnection, sql  # noqa: PLC0415

    async with await AsyncConnection.connect(
        libpq_url(database_url), autocommit=True
    ) as conn:
        row = await (await conn.execute(CHANNEL_SQL)).fetchone()
        channel = str(row[0]) if row else ""
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        async for note in conn.notifies():
            try:
                data = json.loads(note.payload)
                event = TaskEvent(task_id=int(data["task_id"]), status=data["status"])
                yield str(data["user_id"]), event
            except (ValueError, KeyError, TypeError):
                continue  # not ours: someone else's NOTIFY on the same channel


async def follow(
    engine: Engine, database_url: str, *, poll_seconds: float = 0.25, retry_seconds: float = 2.0
) -> AsyncIterator[tuple[str, TaskEvent]]:
    """(user id, event) for every change published from now on, by any process, forever.

    Polls the event table on SQLite, LISTENs on PostgreSQL; a failure is logged and
    retried, so a caller's loop over it never ends by itself.
    """
    if engine.dialect.name == "postgresql":
        while True:
            try:
                async for item in listen(database_url):
                    yield item
            except Exception as exc:
                log.warning("listening for task events failed, retrying: %r", exc)
            await anyio.sleep(retry_seconds)
    last_id: int | None = None
    while True:
        try:
            if last_id is None:
                last_id = await run_db(engine, last_event_id)
            for event_id, user_id, event in await run_db(engine, events_after, last_id):
                yield user_id, event
                last_id = event_id
        except Exception as exc:
            if not is_missing_table(exc):  # no table yet: no task has changed either
                log.warning("reading task events failed: %r", exc)
        await anyio.sleep(poll_seconds)
