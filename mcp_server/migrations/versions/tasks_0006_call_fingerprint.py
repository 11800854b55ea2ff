"""Call ids bound to their call: tool_call.fingerprint (mcp_server/calls.py).

Revision ID: tasks_0006
Revises: tasks_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "tasks_0006"
down_revision = "tasks_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable fingerprint column: results stored before it keep none."""
    op.add_column("tool_call", sa.Column("fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the fingerprint column."""
    # Batch mode: SQLite before 3.35 cannot drop a column in place.
    with op.batch_alter_table("tool_call") as batch:
        batch.drop_column("fingerprint")
