"""Task ids are never reused: SQLite's task table becomes AUTOINCREMENT.

Without AUTOINCREMENT SQLite hands the id of a deleted newest task to the next new one,
so an old widget's button or "delete task 7" would act on a different task. PostgreSQL's
SERIAL sequence never goes back, so there is nothing to change there.

Revision ID: tasks_0002
Revises: tasks_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0002"
down_revision = "tasks_0001"
branch_labels = None
depends_on = None


def _task_table() -> sa.Table:
    # The table as of tasks_0001, given to batch mode instead of reflecting it: SQLite's
    # reflection skips the lower(title) expression index, which the rebuild must keep.
    timestamp = sa.DateTime(timezone=True)
    table = sa.Table(
        "task",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("completed_at", timestamp, nullable=True),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("tags", sa.String(661), nullable=False),
        sa.Column("due_at", timestamp, nullable=True),
        sa.Column("due_is_date", sa.Boolean(), nullable=False),
        sa.Column("recurrence", sa.String(10), nullable=False),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("updated_at", timestamp, nullable=False),
    )
    c = table.c
    sa.Index("ix_task_user_created", c.user_id, c.created_at, c.id)
    sa.Index("ix_task_user_due", c.user_id, c.due_at, c.id)
    sa.Index("ix_task_user_title", c.user_id, sa.func.lower(c.title), c.id)
    sa.Index("ix_task_user_priority", c.user_id, c.priority, c.id)
    return table


def upgrade() -> None:
    """Rebuild SQLite's task table as AUTOINCREMENT, keeping every row and id."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "task",
        copy_from=_task_table(),
        recreate="always",
        table_kwargs={"sqlite_autoincrement": True},
    ):
        pass
    # Copying the rows with their ids records the highest in sqlite_sequence (SQLite
    # keeps the largest rowid ever inserted there), so new ids start above all of them.


def downgrade() -> None:
    """Rebuild SQLite's task table without AUTOINCREMENT."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("task", copy_from=_task_table(), recreate="always"):
        pass
