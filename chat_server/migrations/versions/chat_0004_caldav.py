"""CalDAV: app passwords (digests), the hrefs and UIDs of tasks clients made, sync states.

Revision ID: chat_0004
Revises: chat_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "chat_0004"
down_revision = "chat_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create app_password, caldav_item and caldav_sync."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "app_password",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("password_digest", sa.String(64), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("password_digest"),
        # A revoked password's id is never handed out again.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_app_password_user_id", "app_password", ["user_id"])
    op.create_table(
        "caldav_item",
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("href", sa.String(300), nullable=False),
        sa.Column("uid", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "task_id"),
    )
    op.create_table(
        "caldav_sync",
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("collection", sa.String(100), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.PrimaryKeyConstraint("user_id", "collection", "token"),
    )


def downgrade() -> None:
    """Drop the three tables (every app password stops working; clients resync in full)."""
    op.drop_table("caldav_sync")
    op.drop_table("caldav_item")
    op.drop_index("ix_app_password_user_id", table_name="app_password")
    op.drop_table("app_password")
