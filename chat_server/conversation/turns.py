"""One turn at a time per thread, across every worker and instance that shares the database.

Two requests streaming into one thread at once would each answer "the latest user
message", which is the other's as often as its own: one adds a task twice, the other
never. So a thread takes one turn at a time and the next waits. An asyncio lock per thread
is the first gate (cheap, first come first served, within one process); a lock in the
database's own terms then keeps out other processes:

- PostgreSQL: a session-level advisory lock keyed by the thread id. One connection per
  process holds the locks of all its running turns and takes them with
  `pg_try_advisory_lock`, polling, so a waiting turn holds no connection or thread.
- SQLite (one machine): an OS file lock (`flock`) per bucket of thread ids, in a folder next
  to the database file. The OS drops it when its process dies, so a crash never leaves a
  thread locked. Two threads in one bucket wait for each other now and then, which is
  harmless.

Neither lock has a timeout, like the in-process one: a turn waits for the turn before it.
"""

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import anyio
from filelock import Timeout, UnixFileLock
from sqlalchemy.engine import make_url

from chat_server.conversation.errors import DatabaseUnavailable
from shared.events import libpq_url

log = logging.getLogger(__name__)

# Advisory locks live in one keyspace per database; this first key keeps ours apart from
# any other application's (and from one-key locks such as a migration lock).
ADVISORY_CLASS = 0x7A5C
FILE_BUCKETS = 1024
FIRST_POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.1
RELEASE_SECONDS = 5
TRY_LOCK = "pg_try_advisory_lock"
UNLOCK = "pg_advisory_unlock"


class TurnLocks(Protocol):
    """A lock per thread id that holds across processes."""

    def hold(self, thread_id: str) -> AbstractAsyncContextManager[None]:
        """Wait until no other process runs a turn in `thread_id`, and hold it meanwhile."""
        ...

    async def close(self) -> None:
        """Let go of whatever the locks keep open."""
        ...


class ThreadTurns:
    """One lock per thread that has a turn running or waiting; none kept for idle threads."""

    def __init__(self, across: TurnLocks | None = None) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._across = across

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        """Wait until no other turn runs in `thread_id`, here or elsewhere, and run this one."""
        lock, holders = self._locks.get(thread_id, (asyncio.Lock(), 0))
        self._locks[thread_id] = (lock, holders + 1)
        try:
            async with lock:
                if self._across is None:
                    yield
                else:
                    async with self._across.hold(thread_id):
                        yield
        finally:
            lock, holders = self._locks[thread_id]
            if holders == 1:
                del self._locks[thread_id]
            else:
                self._locks[thread_id] = (lock, holders - 1)

    def __len__(self) -> int:
        return len(self._locks)


def turn_locks_for(database_url: str) -> TurnLocks | None:
    """The cross-process locks for this database; None for in-memory SQLite (one process)."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryTurnLocks(database_url)
    if url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    return FileTurnLocks(path.with_name(path.name + ".turns"))


async def _poll_until(take: Any) -> None:
    """Call `take()` until it returns True, backing off to MAX_POLL_SECONDS between tries."""
    delay = FIRST_POLL_SECONDS
    while True:
        # Shielded: a caller cancelled between taking a lock and learning it did would
        # leave the lock held by nobody.
        with anyio.CancelScope(shield=True):
            if await take():
                return
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_POLL_SECONDS)


class AdvisoryTurnLocks:
    """PostgreSQL advisory locks keyed by `hashtext(thread_id)`, on one connection of ours."""

    def __init__(self, database_url: str) -> None:
        self._url = libpq_url(database_url)
        self._conn: Any = None
        # One statement at a time on the shared connection.
        self._using = asyncio.Lock()

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        """Hold the thread's advisory lock for the block."""
        await _poll_until(lambda: self._ask(TRY_LOCK, thread_id))
        try:
            yield
        finally:
            with anyio.move_on_after(RELEASE_SECONDS, shield=True):
                await self._ask(UNLOCK, thread_id)

    async def _ask(self, function: str, thread_id: str) -> bool:
        # Only PostgreSQL deployments hold these locks, and only they need psycopg loaded.
        import psycopg  # noqa: PLC0415

        async with self._using:
            if self._conn is not None and not self._conn.closed:
                try:
                    return await self._select(function, thread_id)
                except (psycopg.Error, OSError) as exc:
                    # A killed backend or a restart: every lock the session held is gone
                    # with it, and a new session can take locks again at once.
                    log.warning("turn lock session lost (%r); running turns are unguarded", exc)
                    await self._drop()
            if function == UNLOCK:
                return False  # the session that held it is gone, and the lock with it
            try:
                self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
                return await self._select(function, thread_id)
            except (psycopg.Error, OSError) as exc:
                await self._drop()
                raise DatabaseUnavailable() from exc

    async def _select(self, function: str, thread_id: str) -> bool:
        cursor = await self._conn.execute(
            f"SELECT {function}(%s, hashtext(%s))", (ADVISORY_CLASS, thread_id)
        )
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def close(self) -> None:
        """Close the lock session (PostgreSQL lets go of any lock it still held)."""
        async with self._using:
            await self._drop()


class FileTurnLocks:
    """`flock` on one of FILE_BUCKETS files in `folder`, chosen by the thread id."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(exist_ok=True)

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        """Hold the thread's bucket lock for the block."""
        bucket = int.from_bytes(hashlib.blake2b(thread_id.encode(), digest_size=4).digest())
        lock = UnixFileLock(
            self.folder / f"{bucket % FILE_BUCKETS:04d}.lock", thread_local=False, blocking=False
        )

        async def take() -> bool:
            try:
                lock.acquire()  # a non-blocking flock: microseconds, fine on the event loop
            except Timeout:
                return False
            return True

        await _poll_until(take)
        try:
            yield
        finally:
            lock.release()

    async def close(self) -> None:
        """Nothing stays open between turns."""
