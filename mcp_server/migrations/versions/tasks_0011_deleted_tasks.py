"""Deleted tasks kept for a while: the deleted_task table (mcp_server/trash.py).

delete_task keeps a JSON snapshot of the rows it removes, so restore_task can bring a task
back under its own id, with its subtasks and reminders, for ten minutes. AUTOINCREMENT for
the reason the task table has it.

Revision ID: tasks_0011
Revises: tasks_0010
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0011"
down_revision = "tasks_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the deleted_task table."""
    op.create_table(
        "deleted_task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.String(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_deleted_task_user_task", "deleted_task", ["user_id", "task_id"])
    op.create_index("ix_deleted_task_deleted_at", "deleted_task", ["deleted_at"])


def downgrade() -> None:
    """Drop the deleted_task table."""
    op.drop_table("deleted_task")
