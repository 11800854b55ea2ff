"""The chat tables exactly as create_all made them before migrations (release 7278ce5).

Revision ID: chat_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "chat_0001"
down_revision = None
branch_labels = None
depends_on = None


def _seq() -> sa.Column[int]:
    # BIGSERIAL on PostgreSQL; SQLite autoincrements only a column declared exactly INTEGER.
    return sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


def upgrade() -> None:
    """Create the thread, item and attachment tables with their indexes."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "chat_thread",
        _seq(),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.UniqueConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_chat_thread_user_seq", "chat_thread", ["user_id", "seq"])
    op.create_table(
        "chat_thread_item",
        _seq(),
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("thread_id", sa.String(), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.UniqueConstraint("thread_id", "id", name="uq_chat_thread_item_thread_id_id"),
        sa.ForeignKeyConstraint(["thread_id"], ["chat_thread.id"], ondelete="CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_chat_thread_item_user_thread_seq", "chat_thread_item", ["user_id", "thread_id", "seq"]
    )
    op.create_table(
        "chat_attachment",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("thread_id", sa.String(), nullable=True),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["thread_id"], ["chat_thread.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_chat_attachment_thread_id", "chat_attachment", ["thread_id"])
    op.create_index("ix_chat_attachment_user_thread", "chat_attachment", ["user_id", "thread_id"])


def downgrade() -> None:
    """Drop the chat tables."""
    op.drop_table("chat_attachment")
    op.drop_table("chat_thread_item")
    op.drop_table("chat_thread")
