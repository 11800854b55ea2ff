"""Shared lists: the list_member table; task.assignee and task.changed_by.

list_member holds who a list is shared with and as what (editor or viewer); a list's owner
is never a row there. Both new task columns are nullable, so existing rows need no value
(unassigned; who last changed them unknown) and SQLite adds them in place.

Revision ID: tasks_0012
Revises: tasks_0011
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0012"
down_revision = "tasks_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create list_member and add the two task columns."""
    op.create_table(
        "list_member",
        sa.Column(
            "list_id",
            sa.Integer(),
            sa.ForeignKey("task_list.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_list_member_user", "list_member", ["user_id"])
    op.add_column("task", sa.Column("assignee", sa.String(200), nullable=True))
    op.add_column("task", sa.Column("changed_by", sa.String(200), nullable=True))


def downgrade() -> None:
    """Drop them (memberships, assignments and who changed what are lost)."""
    # In place, also on SQLite (3.35+: neither column is indexed): batch mode would rebuild
    # the task table and lose its expression index on lower(title).
    op.drop_column("task", "changed_by")
    op.drop_column("task", "assignee")
    op.drop_table("list_member")
