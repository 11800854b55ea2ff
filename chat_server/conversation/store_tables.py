"""Tables behind the ChatKit store (threads and items) and the statements over them.

Each row keeps the chatkit model as JSON text (`data`), which is all a load reads, plus the
few columns queries need.
`seq` is an autoincrementing key that orders rows by insertion: created_at can tie, and
chatkit's naive local timestamps repeat an hour each autumn, so they cannot order a page.
"""

from datetime import datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

from shared.auth import MAX_USER_ID_CHARS


def _seq_column() -> Column[int]:
    # SQLite autoincrements only a column declared exactly INTEGER PRIMARY KEY.
    return Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)


class ChatThread(SQLModel, table=True):
    """One thread's metadata (title, status, metadata) as ThreadMetadata JSON."""

    __tablename__ = "chat_thread"
    __table_args__ = (
        Index("ix_chat_thread_user_seq", "user_id", "seq"),
        # AUTOINCREMENT: never reuse the seq of a deleted newest row.
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, sa_column=_seq_column())
    id: str = Field(unique=True)
    user_id: str = Field(max_length=MAX_USER_ID_CHARS)
    created_at: datetime
    data: str = Field(sa_type=Text)


class ChatThreadItem(SQLModel, table=True):
    """One thread item (any ThreadItem variant) as JSON; ids are unique within a thread."""

    __tablename__ = "chat_thread_item"
    __table_args__ = (
        UniqueConstraint("thread_id", "id", name="uq_chat_thread_item_thread_id_id"),
        Index("ix_chat_thread_item_user_thread_seq", "user_id", "thread_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, sa_column=_seq_column())
    # Not globally unique: assistant message ids come from the model, which may reuse them.
    id: str
    user_id: str = Field(max_length=MAX_USER_ID_CHARS)
    thread_id: str = Field(foreign_key="chat_thread.id", ondelete="CASCADE")
    created_at: datetime
    data: str = Field(sa_type=Text)


threads_table: Table = ChatThread.metadata.tables["chat_thread"]
items_table: Table = ChatThreadItem.metadata.tables["chat_thread_item"]

Order = Literal["asc", "desc"]


class Statements:
    """Every statement the store runs, built once per dialect so SQLAlchemy's cache always hits."""

    def __init__(self, dialect: str) -> None:
        match dialect:
            case "sqlite":
                insert: Any = sqlite.insert
            case "postgresql":
                insert = postgresql.insert
            case _:
                raise ValueError(f"SQLStore supports SQLite and PostgreSQL, not {dialect}")
        user = bindparam("user_id", type_=String())
        thread_id = bindparam("thread_id", type_=String())
        row_id = bindparam("id", type_=String())
        created_at = bindparam("created_at", type_=UTCDateTime())
        data = bindparam("data", type_=Text())
        limit = bindparam("limit", type_=Integer())
        t, i = threads_table.c, items_table.c

        self.thread_exists = select(t.seq).where(t.user_id == user, t.id == thread_id)
        self.item_exists = select(i.seq).where(
            i.user_id == user, i.thread_id == thread_id, i.id == row_id
        )

        self.load_thread = select(t.data).where(t.user_id == user, t.id == row_id)
        ins = insert(threads_table).values(
            id=row_id, user_id=user, created_at=created_at, data=data
        )
        self.upsert_thread = ins.on_conflict_do_update(
            index_elements=[t.id],
            set_={"created_at": ins.excluded.created_at, "data": ins.excluded.data},
            where=t.user_id == ins.excluded.user_id,
        ).returning(t.seq)
        self.delete_thread = (
            delete(threads_table).where(t.user_id == user, t.id == thread_id).returning(t.seq)
        )
        self.delete_thread_items = delete(items_table).where(
            i.user_id == user, i.thread_id == thread_id
        )

        after_thread = (
            select(t.seq).where(t.user_id == user, t.id == bindparam("after")).scalar_subquery()
        )
        self.list_threads = {
            (direction, cursor): _keyset(
                select(t.data).where(t.user_id == user),
                t.seq,
                after_thread if cursor else None,
                direction,
                limit,
            )
            for direction in ("asc", "desc")
            for cursor in (False, True)
        }

        # Insert-from-select: the row is written only if the caller owns the thread, and a
        # conflicting id is updated only if it is the caller's, in one statement.
        owned_thread = select(row_id, user, t.id, created_at, data).where(
            t.user_id == user, t.id == thread_id
        )
        ins = insert(items_table).from_select(
            ["id", "user_id", "thread_id", "created_at", "data"], owned_thread
        )
        self.upsert_item = ins.on_conflict_do_update(
            index_elements=[i.thread_id, i.id],
            set_={"created_at": ins.excluded.created_at, "data": ins.excluded.data},
            where=i.user_id == ins.excluded.user_id,
        ).returning(i.seq)
        self.load_item = select(i.data).where(
            i.user_id == user, i.thread_id == thread_id, i.id == row_id
        )
        self.delete_item = (
            delete(items_table)
            .where(i.user_id == user, i.thread_id == thread_id, i.id == row_id)
            .returning(i.seq)
        )
        after_item = (
            select(i.seq)
            .where(i.user_id == user, i.thread_id == thread_id, i.id == bindparam("after"))
            .scalar_subquery()
        )
        self.list_items = {
            (direction, cursor): _keyset(
                select(i.data).where(i.user_id == user, i.thread_id == thread_id),
                i.seq,
                after_item if cursor else None,
                direction,
                limit,
            )
            for direction in ("asc", "desc")
            for cursor in (False, True)
        }


def _keyset(query: Any, seq: Any, after_seq: Any, direction: Order, limit: Any) -> Any:
    # Keyset, not OFFSET: cost stays flat however deep the page. (SQLAlchemy's SQLite
    # dialect still appends "OFFSET 0" to every LIMIT; it skips nothing.)
    if after_seq is not None:
        query = query.where(seq > after_seq if direction == "asc" else seq < after_seq)
    return query.order_by(seq.asc() if direction == "asc" else seq.desc()).limit(limit)


@cache
def statements_for(dialect: str) -> Statements:
    """The statements for one SQLAlchemy dialect name, built on first use."""
    return Statements(dialect)
