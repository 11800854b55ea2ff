"""The task table exactly as create_all made it before migrations (release 7278ce5).

Revision ID: tasks_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the task table and its keyset-pagination indexes."""
    op.create_table(
        "task",
        # Integer primary key: SERIAL on PostgreSQL, rowid alias on SQLite.
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("tags", sa.String(661), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_is_date", sa.Boolean(), nullable=False),
        sa.Column("recurrence", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_task_user_created", "task", ["user_id", "created_at", "id"])
    op.create_index("ix_task_user_due", "task", ["user_id", "due_at", "id"])
    op.create_index("ix_task_user_title", "task", ["user_id", sa.text("lower(title)"), "id"])
    op.create_index("ix_task_user_priority", "task", ["user_id", "priority", "id"])


def downgrade() -> None:
    """Drop the task table."""
    op.drop_table("task")
