"""Reminders and where they go: task_reminder, notify_channel and digest_setting.

task_reminder holds one row per reminder of a task, with the moment it fires (UTC) and,
once a scheduler has claimed it, when and how it went (sent_at, late, outcome).
notify_channel (a user's webhooks and email addresses) and digest_setting (the time of a
user's daily digest) are written by the chat server and read by the scheduler in the task
server, in this one shared database. AUTOINCREMENT for the reason the task table has it.

Revision ID: tasks_0008
Revises: tasks_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0008"
down_revision = "tasks_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "task_reminder",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "task_id", sa.Integer(), sa.ForeignKey("task.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("spec", sa.String(80), nullable=False),
        sa.Column("fire_at", timestamp, nullable=False),
        sa.Column("sent_at", timestamp, nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_task_reminder_fire_at", "task_reminder", ["fire_at"])
    op.create_index("ix_task_reminder_task", "task_reminder", ["task_id"])
    op.create_table(
        "notify_channel",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=True),
        sa.Column("created_at", timestamp, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_notify_channel_user", "notify_channel", ["user_id"])
    op.create_table(
        "digest_setting",
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("time", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("next_at", timestamp, nullable=False),
        sa.Column("last_sent_at", timestamp, nullable=True),
    )
    op.create_index("ix_digest_setting_next_at", "digest_setting", ["next_at"])


def downgrade() -> None:
    """Drop the three tables (reminders, channels and digest times are lost)."""
    op.drop_table("digest_setting")
    op.drop_table("notify_channel")
    op.drop_table("task_reminder")
