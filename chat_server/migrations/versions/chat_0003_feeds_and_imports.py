"""Calendar feeds (a digest of each user's feed secret) and imported items (import keys).

Revision ID: chat_0003
Revises: chat_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "chat_0003"
down_revision = "chat_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create calendar_feed and imported_item."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "calendar_feed",
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("secret_digest"),
    )
    op.create_table(
        "imported_item",
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "item_key"),
    )


def downgrade() -> None:
    """Drop both tables (feeds stop working; a later import may add tasks again)."""
    op.drop_table("imported_item")
    op.drop_table("calendar_feed")
