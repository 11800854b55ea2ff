"""A PostgreSQL sandbox for fault tests: one schema, and one login role per server process.

Each server connects as its own role, so a test can cut exactly one process off the
database (NOLOGIN plus pg_terminate_backend of that role's sessions) and let it back in,
without touching any other connection to the shared PostgreSQL server, including other
test runs in other schemas.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

import chat_server.conversation.store_tables  # noqa: F401  (registers the chat tables)
import mcp_server.models  # noqa: F401  (registers the task table)
from shared.migrate import upgrade_all

SERVERS = ("mcp", "chat")


@dataclass
class PgSandbox:
    """A schema with every taskchat table, and the roles `<prefix>_mcp` and `<prefix>_chat`."""

    base_url: URL
    prefix: str
    admin: Engine

    @property
    def schema(self) -> str:
        return self.prefix

    def role(self, server: str) -> str:
        """The login role the given server ("mcp" or "chat") connects as."""
        assert server in SERVERS, server
        return f"{self.prefix}_{server}"

    def url(self, server: str) -> str:
        """DATABASE_URL for one server: its own role, our schema, a recognisable name."""
        url = self.base_url.set(username=self.role(server)).update_query_dict(
            {
                "options": f"-csearch_path={self.schema}",
                "application_name": self.role(server),
            }
        )
        return url.render_as_string(hide_password=False)

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run one statement as the admin (superuser) and return its rows, if any."""
        with self.admin.begin() as conn:
            result = conn.execute(text(statement), params)
            return list(result) if result.returns_rows else []

    def sessions(self, *servers: str) -> int:
        """How many backends the given servers' roles hold right now."""
        roles = [self.role(s) for s in servers or SERVERS]
        rows = self.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = ANY(:roles)", roles=roles
        )
        return int(rows[0][0])

    def waiting_for_locks(self, server: str) -> int:
        """How many of one server's sessions are blocked on a lock right now."""
        rows = self.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = :role "
            "AND wait_event_type = 'Lock'",
            role=self.role(server),
        )
        return int(rows[0][0])

    def terminate(self, *servers: str) -> int:
        """pg_terminate_backend every session of the given servers (default both); how many."""
        roles = [self.role(s) for s in servers or SERVERS]
        rows = self.sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND usename = ANY(:roles) "
            "AND pid <> pg_backend_pid()",
            roles=roles,
        )
        return int(rows[0][0])

    def go_down(self, *servers: str) -> None:
        """The database is gone for these servers: no new logins, every session killed."""
        for server in servers or SERVERS:
            self.sql(f'ALTER ROLE "{self.role(server)}" NOLOGIN')
        self.terminate(*servers)

    def come_back(self, *servers: str) -> None:
        """The database is back for these servers."""
        for server in servers or SERVERS:
            self.sql(f'ALTER ROLE "{self.role(server)}" LOGIN')

    @contextmanager
    def locked(self, table: str) -> Iterator[None]:
        """Hold an exclusive lock on one of our tables: every query on it waits meanwhile."""
        transactional = self.admin.execution_options(isolation_level="READ COMMITTED")
        with transactional.connect() as conn, conn.begin():
            conn.execute(text(f'LOCK TABLE "{self.schema}"."{table}" IN ACCESS EXCLUSIVE MODE'))
            yield

    def tasks(self, user_id: str) -> list[tuple[int, str, bool]]:
        """(id, title, completed) of a user's tasks, straight from the table, by id."""
        rows = self.sql(
            f'SELECT id, title, completed FROM "{self.schema}".task '
            "WHERE user_id = :user ORDER BY id",
            user=user_id,
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def fingerprint(self, user_id: str) -> tuple[str, ...]:
        """A digest of every row the user owns in each table: equal means untouched."""
        digests = ", ".join(
            f"(SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) "
            f'FROM "{self.schema}".{table} r WHERE user_id = :user)'
            for table in ("task", "chat_thread", "chat_thread_item")
        )
        return tuple(self.sql(f"SELECT {digests}", user=user_id)[0])

    def drop(self) -> None:
        """Remove the schema and both roles."""
        self.terminate()
        self.sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        for server in SERVERS:
            self.sql(f'DROP OWNED BY "{self.role(server)}"')
            self.sql(f'DROP ROLE IF EXISTS "{self.role(server)}"')
        self.admin.dispose()


def create_sandbox(postgres_url: str) -> PgSandbox:
    """Make the schema and roles, create every table as the admin, and grant both roles use."""
    base = make_url(postgres_url)
    prefix = f"rel_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    sandbox = PgSandbox(base, prefix, admin)
    sandbox.sql(f'CREATE SCHEMA "{prefix}"')
    for server in SERVERS:
        role = sandbox.role(server)
        sandbox.sql(f'CREATE ROLE "{role}" LOGIN')
        sandbox.sql(f'GRANT USAGE ON SCHEMA "{prefix}" TO "{role}"')
    tables = create_engine(base.update_query_dict({"options": f"-csearch_path={prefix}"}))
    try:
        upgrade_all(tables)
    finally:
        tables.dispose()
    for server in SERVERS:
        role = sandbox.role(server)
        sandbox.sql(f'GRANT ALL ON ALL TABLES IN SCHEMA "{prefix}" TO "{role}"')
        sandbox.sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{prefix}" TO "{role}"')
    return sandbox
