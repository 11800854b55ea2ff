"""Lists, subtasks and repeat rules: the task_list table; task.list_id, parent_id, repeat,
repeat_from, timezone.

Every user with tasks gets an Inbox holding all of them, and each old recurrence becomes
its rule: daily is FREQ=DAILY and so on, except that monthly from the 29th-31st becomes
FREQ=MONTHLY;BYMONTHDAY=<day>,-1;BYSETPOS=1 and yearly from Feb 29
FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29,-1;BYSETPOS=1, keeping the old fall-back to the
month's last day (RFC 5545's plain FREQ=MONTHLY would skip the shorter months). The rule is
written out here rather than imported, so this revision means the same forever. Existing
columns keep every value; SQLite's task table is rebuilt (still AUTOINCREMENT) for the new
NOT NULL column and the foreign keys.

Revision ID: tasks_0007
Revises: tasks_0006
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "tasks_0007"
down_revision = "tasks_0006"
branch_labels = None
depends_on = None

INBOX = "Inbox"
SHORTEST_MONTH = 28  # days


def _task_list_table(metadata: sa.MetaData) -> sa.Table:
    table = sa.Table(
        "task_list",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("color", sa.String(7), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    sa.Index("ix_task_list_user_name", table.c.user_id, sa.func.lower(table.c.name), unique=True)
    return table


def _task_table(metadata: sa.MetaData, name: str = "task") -> sa.Table:
    # The task table as of this revision, written out (see tasks_0002 for why).
    timestamp = sa.DateTime(timezone=True)
    table = sa.Table(
        name,
        metadata,
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
        sa.Column("list_id", sa.Integer(), sa.ForeignKey("task_list.id"), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("task.id"), nullable=True),
        sa.Column("repeat", sa.String(300), nullable=True),
        sa.Column("repeat_from", sa.String(10), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sqlite_autoincrement=True,
    )
    if name != "task":
        return table
    c = table.c
    sa.Index("ix_task_user_created", c.user_id, c.created_at, c.id)
    sa.Index("ix_task_user_due", c.user_id, c.due_at, c.id)
    sa.Index("ix_task_user_title", c.user_id, sa.func.lower(c.title), c.id)
    sa.Index("ix_task_user_priority", c.user_id, c.priority, c.id)
    sa.Index("ix_task_parent", c.parent_id)
    sa.Index("ix_task_list", c.list_id)
    return table


def rule_of(recurrence: str, due_at: datetime | None, due_is_date: bool) -> str | None:
    """The repeat rule an old recurrence meant for a task with this due (its UTC day)."""
    if recurrence == "none":
        return None
    day = None if due_at is None else due_at.astimezone(UTC) if due_at.tzinfo else due_at
    if recurrence == "monthly" and day is not None and day.day > SHORTEST_MONTH:
        return f"FREQ=MONTHLY;BYMONTHDAY={day.day},-1;BYSETPOS=1"
    if recurrence == "yearly" and day is not None and (day.month, day.day) == (2, 29):
        return "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29,-1;BYSETPOS=1"
    return f"FREQ={recurrence.upper()}"


def upgrade() -> None:
    """Create task_list, give every user an Inbox with their tasks, and add the columns."""
    bind = op.get_bind()
    metadata = sa.MetaData()
    lists = _task_list_table(metadata)
    lists.create(bind)
    for name, kind in (("list_id", sa.Integer()), ("parent_id", sa.Integer()),
                       ("repeat", sa.String(300)), ("repeat_from", sa.String(10)),
                       ("timezone", sa.String(64))):  # fmt: skip
        op.add_column("task", sa.Column(name, kind, nullable=True))
    task = sa.table(
        "task",
        sa.column("id", sa.Integer()),
        sa.column("user_id", sa.String()),
        sa.column("list_id", sa.Integer()),
        sa.column("recurrence", sa.String()),
        sa.column("due_at", sa.DateTime(timezone=True)),
        sa.column("due_is_date", sa.Boolean()),
        sa.column("repeat", sa.String()),
        sa.column("repeat_from", sa.String()),
    )
    now = datetime.now(UTC).replace(microsecond=0)
    users = bind.execute(sa.select(task.c.user_id).distinct().order_by(task.c.user_id)).all()
    if users:
        bind.execute(
            sa.insert(lists),
            [{"user_id": user, "name": INBOX, "position": 0, "created_at": now}
             for (user,) in users],
        )  # fmt: skip
    inbox = sa.select(lists.c.id).where(lists.c.user_id == task.c.user_id).scalar_subquery()
    bind.execute(sa.update(task).values(list_id=inbox, repeat_from="due"))
    repeating = bind.execute(
        sa.select(task.c.id, task.c.recurrence, task.c.due_at, task.c.due_is_date).where(
            task.c.recurrence != "none"
        )
    ).all()
    for row in repeating:
        rule = rule_of(row.recurrence, row.due_at, row.due_is_date)
        bind.execute(sa.update(task).where(task.c.id == row.id).values(repeat=rule))
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite_task_table(bind)
        return
    op.alter_column("task", "list_id", nullable=False)
    op.alter_column("task", "repeat_from", nullable=False)
    op.create_foreign_key("task_list_id_fkey", "task", "task_list", ["list_id"], ["id"])
    op.create_foreign_key("task_parent_id_fkey", "task", "task", ["parent_id"], ["id"])
    op.create_index("ix_task_parent", "task", ["parent_id"])
    op.create_index("ix_task_list", "task", ["list_id"])


def _rebuild_sqlite_task_table(bind: sa.Connection) -> None:
    """Rebuild SQLite's task table with the NOT NULL columns and foreign keys, by hand.

    Alembic's batch mode orders the two foreign keys as it iterates a set, so the table's
    CREATE statement would not always be the one create_all writes (test_migrations compares
    them). AUTOINCREMENT stays, and so does the highest id ever given (sqlite_sequence).
    """
    final = sa.MetaData()
    _task_list_table(final)
    task = _task_table(final)
    new = _task_table(final, "task_rebuilt")  # its parent_id still REFERENCES task (id)
    new.create(bind)
    columns = ", ".join(column.name for column in task.columns)
    bind.exec_driver_sql(f"INSERT INTO task_rebuilt ({columns}) SELECT {columns} FROM task")
    bind.exec_driver_sql(
        "UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence WHERE name IN "
        "('task', 'task_rebuilt')) WHERE name = 'task_rebuilt'"
    )
    bind.exec_driver_sql("DROP TABLE task")  # and its indexes
    bind.exec_driver_sql("ALTER TABLE task_rebuilt RENAME TO task")
    for index in task.indexes:
        index.create(bind)


def downgrade() -> None:
    """Drop the new columns and task_list; subtasks become top-level tasks, rules are lost
    (a custom rule's task keeps recurrence "custom", which older code cannot read: set it to
    none first)."""
    with op.batch_alter_table("task") as batch:
        batch.drop_index("ix_task_parent")
        batch.drop_index("ix_task_list")
        if op.get_bind().dialect.name != "sqlite":
            batch.drop_constraint("task_list_id_fkey", type_="foreignkey")
            batch.drop_constraint("task_parent_id_fkey", type_="foreignkey")
        for name in ("list_id", "parent_id", "repeat", "repeat_from", "timezone"):
            batch.drop_column(name)
    op.drop_table("task_list")
