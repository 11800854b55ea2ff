"""The deployment's own secrets: the deployment_secret table (list cursors are signed with one).

Revision ID: tasks_0005
Revises: tasks_0004
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "tasks_0005"
down_revision = "tasks_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the deployment_secret table with a new random cursor secret.

    Made here, under the schema lock, so that the processes starting on this database all
    find it; one that finds it missing later (the row deleted to change it) makes another.
    """
    table = op.create_table(
        "deployment_secret",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(table, [{"name": "cursor", "value": secrets.token_urlsafe(32)}])


def downgrade() -> None:
    """Drop the deployment_secret table."""
    op.drop_table("deployment_secret")
