"""The persistent ChatKit store: threads and items in SQL, scoped to one user.

Contract beyond chatkit's `Store`:
- A missing id and another user's id look the same: `NotFoundError`. Saves never overwrite
  another user's row; a save whose id (or thread) belongs to someone else raises NotFoundError.
- Pages are keyset-paginated by insertion order (`seq`); `after` is the id of the last row of
  the previous page. An `after` id that is missing or foreign raises NotFoundError.
- `created_at` may come naive (local time: what chatkit's `datetime.now()` makes) or aware.
  The `created_at` column holds it as aware UTC for SQL; the JSON keeps it as naive local
  time, and that is what loads return, because chatkit does `datetime.now() - created_at`.
- `delete_thread_item` of an item that is already gone, in a thread the user owns, is a no-op:
  chatkit removes streamed items it may never have saved.
"""

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from uuid import uuid4

import anyio
from chatkit.store import NotFoundError, Store
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata
from pydantic import TypeAdapter
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from chat_server.conversation.errors import DatabaseUnavailable, ThreadGone
from chat_server.conversation.store_tables import Order, items_table, statements_for
from shared.auth import Principal
from shared.db import UNAVAILABLE_ERRORS, make_engine, one_connection

T = TypeVar("T")

# Building a TypeAdapter for these unions costs milliseconds: once per process.
_item_adapter: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)

# The store runs only Core statements, several per chat turn, so it skips the ORM Session
# that shared.db.run_db builds (about 40 us a call) and hops to a worker thread itself,
# with its own cap like run_db's.
_db_threads = anyio.CapacityLimiter(16)
# On SQLite each statement is first tried on the event loop with no busy timeout: a WAL
# reader never waits, and a one-row write takes tens of microseconds, while the hop to a
# worker thread and back costs more than the work (an add-task turn made nine). Only a
# write that meets another connection's write lock goes to a worker thread, which waits
# for it with the usual busy timeout.
INLINE_BUSY_TIMEOUT = "0"


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive value is taken as the machine's local time."""
    return value.astimezone(UTC)


def to_local_naive(value: datetime) -> datetime:
    """Naive local time, as chatkit's own `datetime.now()` values are; naive stays as is."""
    if value.tzinfo is None:
        return value
    return value.astimezone().replace(tzinfo=None)


class SQLStore(Store[Principal]):
    """ChatKit threads and items in the taskchat database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sql = statements_for(engine.dialect.name)
        self._inline = _inline_engine(engine)

    def close(self) -> None:
        """Close the connections the store opened itself (the engine stays its owner's)."""
        if self._inline is not None:
            self._inline.dispose()

    def generate_thread_id(self, context: Principal) -> str:
        """A 128-bit random thread id: thread ids are global, so 32 bits would collide."""
        return f"thr_{uuid4().hex}"

    # -- ownership checks for the HTTP layer (never raise NotFoundError) ----------------

    async def thread_exists(self, thread_id: str, context: Principal) -> bool:
        """True when `thread_id` exists and belongs to the caller; False otherwise."""
        params = {"user_id": context.user_id, "thread_id": thread_id}
        return await self._exists(self._sql.thread_exists, params)

    async def item_exists(self, thread_id: str, item_id: str, context: Principal) -> bool:
        """True when the item exists in a thread the caller owns; False otherwise."""
        params = {"user_id": context.user_id, "thread_id": thread_id, "id": item_id}
        return await self._exists(self._sql.item_exists, params)

    async def item_type(self, thread_id: str, item_id: str, context: Principal) -> str | None:
        """The `type` of one item of the caller's thread, or None when it is not theirs.

        Read without parsing: a task list widget takes milliseconds to validate.
        """
        params = {"user_id": context.user_id, "thread_id": thread_id, "id": item_id}
        data = await self._read(lambda conn: conn.scalar(self._sql.load_item, params))
        return None if data is None else _item_type(data)

    async def missing_items(
        self, thread_id: str, item_ids: Sequence[str], context: Principal
    ) -> list[str]:
        """The ids among `item_ids` that are not items of the caller's thread, in one query."""
        wanted = list(dict.fromkeys(item_ids))
        if not wanted:
            return []
        columns = items_table.c
        query = select(columns.id).where(
            columns.user_id == context.user_id,
            columns.thread_id == thread_id,
            columns.id.in_(wanted),
        )
        found = set(await self._read(lambda conn: conn.scalars(query).all()))
        return [item_id for item_id in wanted if item_id not in found]

    # -- threads ------------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: Principal) -> ThreadMetadata:
        """The caller's thread metadata, or NotFoundError."""
        params = {"user_id": context.user_id, "id": thread_id}
        data = await self._read(lambda conn: conn.scalar(self._sql.load_thread, params))
        if data is None:
            raise NotFoundError(f"thread {thread_id} not found")
        return ThreadMetadata.model_validate_json(data)

    async def save_thread(self, thread: ThreadMetadata, context: Principal) -> None:
        """Insert or update the thread; NotFoundError if its id belongs to another user."""
        params = {
            "id": thread.id,
            "user_id": context.user_id,
            "created_at": to_utc(thread.created_at),
            # chatkit sometimes passes a full Thread; its items live in their own table.
            "data": _local_time(thread).model_dump_json(exclude={"items"}),
        }
        if not await self._upsert(self._sql.upsert_thread, params):
            raise ThreadGone(thread.id)

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: Principal
    ) -> Page[ThreadMetadata]:
        """A page of the caller's threads by creation: oldest first ("asc") or newest ("desc")."""
        direction = _check_page(limit, order)
        user_id = context.user_id
        query = self._sql.list_threads[direction, after is not None]
        params = {"user_id": user_id, "after": after, "limit": limit + 1}

        def work(conn: Connection) -> Sequence[str]:
            rows = conn.scalars(query, params).all()
            if not rows and after is not None:
                cursor = {"user_id": user_id, "thread_id": after}
                if conn.scalar(self._sql.thread_exists, cursor) is None:
                    raise NotFoundError(f"thread {after} not found")
            return rows

        rows = await self._read(work)
        return _page([ThreadMetadata.model_validate_json(data) for data in rows], limit)

    async def delete_thread(self, thread_id: str, context: Principal) -> None:
        """Delete the caller's thread with its items, or NotFoundError."""
        params = {"user_id": context.user_id, "thread_id": thread_id}

        def work(conn: Connection) -> bool:
            if conn.scalar(self._sql.delete_thread, params) is None:
                return False
            # The foreign keys cascade too; these cover an engine without SQLite's
            # foreign_keys pragma.
            conn.execute(self._sql.delete_thread_items, params)
            return True

        if not await self._write(work):
            raise NotFoundError(f"thread {thread_id} not found")

    # -- items --------------------------------------------------------------------------

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: Principal
    ) -> Page[ThreadItem]:
        """A page of the caller's thread's items in insertion order; NotFoundError if not theirs."""
        direction = _check_page(limit, order)
        user_id = context.user_id
        query = self._sql.list_items[direction, after is not None]
        params = {"user_id": user_id, "thread_id": thread_id, "after": after, "limit": limit + 1}

        def work(conn: Connection) -> Sequence[str]:
            rows = conn.scalars(query, params).all()
            if not rows:
                # Only an empty page pays for telling "no items" from "not yours".
                owner = {"user_id": user_id, "thread_id": thread_id}
                if conn.scalar(self._sql.thread_exists, owner) is None:
                    raise NotFoundError(f"thread {thread_id} not found")
                cursor = {**owner, "id": after}
                if after is not None and conn.scalar(self._sql.item_exists, cursor) is None:
                    raise NotFoundError(f"item {after} not found in thread {thread_id}")
            return rows

        rows = await self._read(work)
        return _page([_item_adapter.validate_json(data) for data in rows], limit)

    async def load_history(
        self, thread_id: str, limit: int, context: Principal, *, skip: Collection[str] = ()
    ) -> list[ThreadItem]:
        """The caller's last `limit` items of a thread, oldest first, minus the `skip` types.

        For the agent's input, which leaves widgets and workflows out: skipped items still
        count towards `limit` but are never parsed, and a list widget of 50 tasks takes
        milliseconds to validate. A missing or foreign thread has no items.
        """
        query = self._sql.list_items["desc", False]
        params = {"user_id": context.user_id, "thread_id": thread_id, "after": None}
        rows = await self._read(lambda conn: conn.scalars(query, {**params, "limit": limit}).all())
        return [
            _item_adapter.validate_json(data)
            for data in reversed(rows)
            if _item_type(data) not in skip
        ]

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: Principal) -> None:
        """Append an item to the caller's thread (an existing id is updated in place)."""
        await self.save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: Principal) -> None:
        """Upsert an item by id, keeping its place; NotFoundError unless the thread is theirs."""
        if item.thread_id != thread_id:
            raise ValueError(f"item {item.id} belongs to thread {item.thread_id}, not {thread_id}")
        params = {
            "id": item.id,
            "user_id": context.user_id,
            "thread_id": thread_id,
            "created_at": to_utc(item.created_at),
            "data": _local_time(item).model_dump_json(),
        }
        if not await self._upsert(self._sql.upsert_item, params):
            raise ThreadGone(thread_id)

    async def load_item(self, thread_id: str, item_id: str, context: Principal) -> ThreadItem:
        """One item of the caller's thread, or NotFoundError."""
        params = {"user_id": context.user_id, "thread_id": thread_id, "id": item_id}
        data = await self._read(lambda conn: conn.scalar(self._sql.load_item, params))
        if data is None:
            raise NotFoundError(f"item {item_id} not found in thread {thread_id}")
        return _item_adapter.validate_json(data)

    async def delete_thread_item(self, thread_id: str, item_id: str, context: Principal) -> None:
        """Delete an item (already gone is fine); NotFoundError unless it is the caller's thread."""
        params = {"user_id": context.user_id, "thread_id": thread_id, "id": item_id}

        def work(conn: Connection) -> bool:
            if conn.scalar(self._sql.delete_item, params) is not None:
                return True
            return conn.scalar(self._sql.thread_exists, params) is not None

        if not await self._write(work):
            raise NotFoundError(f"thread {thread_id} not found")

    # -- attachments --------------------------------------------------------------------
    # The HTTP edge refuses attachments, so none is ever stored; chatkit's Store still
    # declares these methods.

    async def save_attachment(self, attachment: Attachment, context: Principal) -> None:
        """Attachments are not supported."""
        raise NotImplementedError("attachments are not supported")

    async def load_attachment(self, attachment_id: str, context: Principal) -> Attachment:
        """No attachment exists."""
        raise NotFoundError(f"attachment {attachment_id} not found")

    async def delete_attachment(self, attachment_id: str, context: Principal) -> None:
        """No attachment exists."""
        raise NotFoundError(f"attachment {attachment_id} not found")

    # -- plumbing: one transaction per call, on the loop (SQLite) or in a worker thread ----

    async def _read(self, fn: Callable[[Connection], T]) -> T:
        def work(engine: Engine) -> T:
            with engine.connect() as conn:
                return fn(conn)

        return await self._run(work)

    async def _write(self, fn: Callable[[Connection], T]) -> T:
        def work(engine: Engine) -> T:
            with engine.begin() as conn:
                return fn(conn)

        return await self._run(work)

    async def _run(self, work: Callable[[Engine], T]) -> T:
        if self._inline is not None:
            try:
                return work(self._inline)
            except UNAVAILABLE_ERRORS:
                # Locked (or worse): rolled back; the worker thread waits, or says why.
                pass
        return await _in_thread(partial(work, self.engine))

    async def _exists(self, statement: Any, params: dict[str, Any]) -> bool:
        return await self._read(lambda conn: conn.scalar(statement, params)) is not None

    async def _upsert(self, statement: Any, params: dict[str, Any]) -> bool:
        """Run one RETURNING write; True if it touched a row.

        A returned row is the test, not rowcount: PostgreSQL's rowcount for an upsert is
        unreliable once SQLAlchemy adds RETURNING of its own.
        """
        try:
            return await self._write(lambda conn: conn.scalar(statement, params) is not None)
        except IntegrityError:
            # The thread was deleted while this write ran: to the caller it is gone.
            return False


def _inline_engine(engine: Engine) -> Engine | None:
    """The same SQLite file with no busy timeout, for statements run on the event loop.

    None for PostgreSQL (a query may wait on the network or a lock) and for an in-memory
    database, whose one connection the engine shares and a second engine would not see.
    """
    if engine.dialect.name != "sqlite" or one_connection(engine):
        return None
    return make_engine(
        engine.url.update_query_dict({"timeout": INLINE_BUSY_TIMEOUT}).render_as_string(
            hide_password=False
        )
    )


async def _in_thread(work: Callable[[], T]) -> T:
    try:
        return await anyio.to_thread.run_sync(work, limiter=_db_threads)
    except UNAVAILABLE_ERRORS as exc:
        # One exception the app answers with 503 and chatkit's stream shows as a message.
        raise DatabaseUnavailable() from exc


def _item_type(data: str) -> str:
    """The `type` of a stored item without parsing it.

    Items are stored as model_dump_json(): id, thread_id and created_at come first and hold
    no quotes, so the first "type" key is the item's own.
    """
    start = data.find('"type":"') + len('"type":"')
    return data[start : data.find('"', start)]


def _local_time(model: Any) -> Any:
    """The model with created_at as naive local time, for its JSON (a copy only if aware)."""
    if model.created_at.tzinfo is None:
        return model
    return model.model_copy(update={"created_at": to_local_naive(model.created_at)})


def _check_page(limit: int, order: str) -> Order:
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    return order  # type: ignore[return-value]


def _page(rows: list[Any], limit: int) -> Page[Any]:
    # chatkit's contract: `after` is the last id shown, and only when there is more.
    has_more = len(rows) > limit
    data = rows[:limit]
    return Page(data=data, has_more=has_more, after=data[-1].id if has_more else None)
