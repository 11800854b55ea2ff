"""The database engine both processes use, and the bridge from async code to it."""

import sqlite3
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

T = TypeVar("T")

# Database work is short and blocking; a dedicated limiter keeps a burst of tool
# calls from starving the default thread pool that other libraries share.
DB_THREADS = 16
_db_threads = anyio.CapacityLimiter(DB_THREADS)

SQLITE_BUSY_SECONDS = 30.0

# The database could not be reached, dropped the connection, or stayed locked: not a wrong
# query, so each edge tells its user to try again in a moment instead of failing blindly.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite gets WAL and a busy timeout."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        connect_args: dict[str, Any] = {"check_same_thread": False}
        # How long a writer waits for another's write lock before "database is locked";
        # SQLAlchemy's `?timeout=SECONDS` in the URL sets it instead.
        if "timeout" not in make_url(url).query:
            connect_args["timeout"] = SQLITE_BUSY_SECONDS
        # Reuse the connection returned last: each SQLite connection keeps its own page
        # cache, which goes stale whenever another connection writes, so cycling through
        # every pooled connection (the default after a burst opened many) re-reads pages.
        # As many pooled connections as worker threads use at once: a connection beyond
        # the pool is closed on return and the next burst opens it again (with its pragmas).
        pooling: dict[str, Any] = {"pool_use_lifo": True, "pool_size": DB_THREADS}
        if in_memory:
            pooling = {"poolclass": StaticPool}
        engine = create_engine(url, connect_args=connect_args, **pooling)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def one_connection(engine: Engine) -> bool:
    """True for an in-memory SQLite database: every thread shares its one connection."""
    return isinstance(engine.pool, StaticPool)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def run_db(engine: Engine, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(session, *args, **kwargs)` in a worker thread with a fresh session."""

    def work() -> T:
        with Session(engine, expire_on_commit=False) as session:
            return fn(session, *args, **kwargs)

    return await anyio.to_thread.run_sync(partial(work), limiter=_db_threads)


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database file in WAL mode (it stays so; a no-op once it is).

    Switching a new file takes a lock that SQLite's busy timeout does not wait for, so a
    process starting beside another (workers, both servers on one file) would fail with
    "database is locked": wait for the other's switch instead, as long as a busy write would.
    """
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
