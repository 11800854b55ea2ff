"""Writes applied once per call id: the tool_call table (mcp_server/calls.py).

Revision ID: tasks_0004
Revises: tasks_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0004"
down_revision = "tasks_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the tool_call table."""
    op.create_table(
        "tool_call",
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("call_id", sa.String(100), nullable=False),
        sa.Column("result", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "call_id"),
    )
    op.create_index("ix_tool_call_created_at", "tool_call", ["created_at"])


def downgrade() -> None:
    """Drop the tool_call table."""
    op.drop_table("tool_call")
