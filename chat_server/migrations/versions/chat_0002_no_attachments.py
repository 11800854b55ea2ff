"""Drop chat_attachment: the HTTP edge refuses attachments, so the table was never written.

Revision ID: chat_0002
Revises: chat_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "chat_0002"
down_revision = "chat_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Drop the attachment table and its indexes."""
    op.drop_table("chat_attachment")


def downgrade() -> None:
    """Recreate the attachment table as chat_0001 made it."""
    op.create_table(
        "chat_attachment",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("thread_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["thread_id"], ["chat_thread.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_chat_attachment_thread_id", "chat_attachment", ["thread_id"])
    op.create_index("ix_chat_attachment_user_thread", "chat_attachment", ["user_id", "thread_id"])
