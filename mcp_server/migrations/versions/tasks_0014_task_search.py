"""Search by index: a trigram index over task titles and descriptions.

list_tasks(search=...) matched `%term%` by reading every task of the caller, so a search
among 100,000 tasks cost 26-52x one among 1,000. Trigrams keep substring semantics (a
search for "milk" still finds "milkman", "e_i" still finds "done_ish") and read only the
rows holding the term:
- SQLite: task_search, an FTS5 table with the trigram tokenizer over the task table's own
  rows (external content, nothing stored twice), kept current by three triggers.
- PostgreSQL: a GIN index with pg_trgm's operator class, which ILIKE '%term%' uses as it
  is. pg_trgm is a trusted extension (PostgreSQL 13+), so the database's owner or any role
  with CREATE on it may install it; a role that may not gets a warning and no index, and
  search keeps working as a scan (see mcp_server/search.py).
Both are filled from the existing rows here. A later migration that rebuilds the task table
on SQLite (batch mode) drops the triggers with the old table and must make them again.

Revision ID: tasks_0014
Revises: tasks_0013
"""

import logging

from alembic import op
from sqlalchemy import exc, text
from sqlalchemy.engine import Connection

revision = "tasks_0014"
down_revision = "tasks_0013"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

# new.description may be NULL: FTS5 indexes it as an empty column.
_SQLITE = (
    "CREATE VIRTUAL TABLE task_search USING fts5("
    "title, description, content='task', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER task_search_insert AFTER INSERT ON task BEGIN "
    "INSERT INTO task_search(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER task_search_delete AFTER DELETE ON task BEGIN "
    "INSERT INTO task_search(task_search, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    # Only when the searched text changes: completing or moving a task costs nothing more.
    "CREATE TRIGGER task_search_update AFTER UPDATE OF title, description ON task BEGIN "
    "INSERT INTO task_search(task_search, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO task_search(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "INSERT INTO task_search(task_search) VALUES ('rebuild')",
)
_PG_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_task_search ON task "
    "USING gin (title {schema}.gin_trgm_ops, description {schema}.gin_trgm_ops)"
)


def upgrade() -> None:
    """Create the index and fill it from every task."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)
        return
    schema = trigram_schema(bind) or _install_trigrams(bind)
    if schema is None:
        return
    op.execute(_PG_INDEX.format(schema=schema))


def downgrade() -> None:
    """Drop the index (pg_trgm stays installed: other tables may use it)."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS task_search_{name}")
        op.execute("DROP TABLE IF EXISTS task_search")
        return
    op.execute("DROP INDEX IF EXISTS ix_task_search")


def trigram_schema(conn: Connection) -> str | None:
    """The schema pg_trgm is installed in (quoted as SQL needs it), None when it is not."""
    query = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    return conn.execute(text(query)).scalar()


def _install_trigrams(conn: Connection) -> str | None:
    # In `public` when this role may create there: a schema of the deployment's own could
    # be dropped with everything in it, taking the extension (and every other schema's
    # index on it) along. Otherwise in the schema the tables are in.
    may_use_public = (
        "SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = 'public'"
    )
    where = "public" if conn.execute(text(may_use_public)).scalar() else None
    where = where or conn.execute(text("SELECT current_schema()")).scalar_one()
    quoted = conn.dialect.identifier_preparer.quote(where)
    try:
        with conn.begin_nested():
            conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA {quoted}"))
    except exc.DBAPIError as error:
        # Another process may have installed it at the same moment; else no index.
        if (schema := trigram_schema(conn)) is None:
            log.warning(
                "pg_trgm could not be installed (%s): list_tasks(search=...) will read "
                "every task of the caller. To index it, have a role with CREATE on the "
                "database run `CREATE EXTENSION pg_trgm`, then: %s",
                str(error.orig).strip(),
                _PG_INDEX.format(schema="<its schema>"),
            )
        return schema
    return trigram_schema(conn)
