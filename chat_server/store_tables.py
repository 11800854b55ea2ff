"""Tables behind the ChatKit store: threads, their items and attachments, each row owned by a user.

Each row keeps the chatkit model as JSON text (`data`) plus the few columns queries need.
`seq` is an autoincrementing key that orders rows by insertion: created_at can tie, and
chatkit's naive local timestamps repeat an hour each autumn, so they cannot order a page.
"""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

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


class ChatAttachment(SQLModel, table=True):
    """One attachment's metadata as Attachment JSON; thread_id is set once a message uses it."""

    __tablename__ = "chat_attachment"
    __table_args__ = (Index("ix_chat_attachment_user_thread", "user_id", "thread_id"),)

    id: str = Field(primary_key=True)
    user_id: str = Field(max_length=MAX_USER_ID_CHARS)
    thread_id: str | None = Field(
        default=None, foreign_key="chat_thread.id", ondelete="CASCADE", index=True
    )
    # When the upload was recorded: lets a cleanup job find attachments no message ever used.
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    data: str = Field(sa_type=Text)
