"""Reminder delivery per channel: the reminder_delivery outbox, and each channel's health.

reminder_delivery holds one row per (occurrence, channel): a reminder's firing or a day's
digest, to one of the user's channels. The unique key is what keeps a delivery single
across processes; the row says whether it went, how often it was tried and why it failed.
notify_channel gains web push keys and what the page shows about a failing channel.

Revision ID: tasks_0010
Revises: tasks_0008
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0010"
down_revision = "tasks_0008"
branch_labels = None
depends_on = None


OLD_COLUMNS = "id, user_id, kind, target, secret, created_at"


def _new_columns() -> list[sa.Column[object]]:
    timestamp = sa.DateTime(timezone=True)
    return [
        # A web push subscription's p256dh and auth keys ("<p256dh> <auth>").
        sa.Column("push_keys", sa.String(200), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("last_error_at", timestamp, nullable=True),
        sa.Column("paused_at", timestamp, nullable=True),
    ]


def _rebuild_sqlite_channel_table(bind: sa.Connection) -> None:
    """SQLite: the table made anew with the columns, as create_all writes it (ADD COLUMN
    would leave its CREATE statement spaced differently, which test_migrations compares).
    AUTOINCREMENT stays, and so does the highest id ever given (sqlite_sequence)."""
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "notify_channel_rebuilt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=True),
        sa.Column("created_at", timestamp, nullable=False),
        *_new_columns(),
        sqlite_autoincrement=True,
    )
    bind.exec_driver_sql(f"INSERT INTO notify_channel_rebuilt ({OLD_COLUMNS}) "
                         f"SELECT {OLD_COLUMNS} FROM notify_channel")  # fmt: skip
    bind.exec_driver_sql(
        "UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence WHERE name IN "
        "('notify_channel', 'notify_channel_rebuilt')) WHERE name = 'notify_channel_rebuilt'"
    )
    bind.exec_driver_sql("DROP TABLE notify_channel")  # and its index
    bind.exec_driver_sql("ALTER TABLE notify_channel_rebuilt RENAME TO notify_channel")
    op.create_index("ix_notify_channel_user", "notify_channel", ["user_id"])


def upgrade() -> None:
    """Add the channel columns and the reminder_delivery table."""
    timestamp = sa.DateTime(timezone=True)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite_channel_table(bind)
    else:
        for column in _new_columns():
            op.add_column("notify_channel", column)
    op.create_table(
        "reminder_delivery",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("occurrence", sa.String(120), nullable=False),
        sa.Column(
            "channel_id", sa.Integer(),
            sa.ForeignKey("notify_channel.id", ondelete="CASCADE"), nullable=False,
        ),  # fmt: skip
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("due_at", timestamp, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", timestamp, nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", timestamp, nullable=False),
        sa.Column("sent_at", timestamp, nullable=True),
        sa.UniqueConstraint("occurrence", "channel_id", name="uq_reminder_delivery_once"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reminder_delivery_pending", "reminder_delivery", ["status", "next_at"])
    op.create_index("ix_reminder_delivery_channel", "reminder_delivery", ["channel_id"])


def downgrade() -> None:
    """Drop the outbox and the channel columns."""
    op.drop_table("reminder_delivery")
    with op.batch_alter_table("notify_channel") as batch:
        for name in ("paused_at", "last_error_at", "last_error", "failures", "push_keys"):
            batch.drop_column(name)
