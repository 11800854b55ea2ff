"""Task change events for live pages: the task_event table (the SQLite transport).

The MCP server appends a row after each write and chat servers poll for rows past the
last id they saw (shared/events.py); on PostgreSQL they use NOTIFY and the table stays
empty. AUTOINCREMENT so an id never goes back, even after pruning empties the table.

Revision ID: tasks_0003
Revises: tasks_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0003"
down_revision = "tasks_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the task_event table."""
    op.create_table(
        "task_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_task_event_created_at", "task_event", ["created_at"])


def downgrade() -> None:
    """Drop the task_event table."""
    op.drop_table("task_event")
