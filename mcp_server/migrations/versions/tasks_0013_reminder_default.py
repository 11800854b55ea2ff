"""A user's default reminders: reminder_default, what a new task with a due time gets when
it is added without reminders of its own. Written by the chat server (PUT
/api/reminders/default), read by the task server's add_task.

Revision ID: tasks_0013
Revises: tasks_0012
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0013"
down_revision = "tasks_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create reminder_default (no rows: nobody has a default until they set one)."""
    op.create_table(
        "reminder_default",
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("reminders", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop reminder_default (the users' defaults are lost; their tasks keep theirs)."""
    op.drop_table("reminder_default")
