"""Schema migrations (Alembic): each process brings its own tables up to date at start-up.

The MCP server owns the task table and the chat server owns the chat tables, so each has
its own migration environment and its own version table; one database can hold both.
"""

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from shared.db import make_engine
from shared.settings import get_common_settings
from shared.startup import StartupError, check_database, connect_args, not_ours, refusing

# pg_advisory_xact_lock key shared by every taskchat process: "taskchat" in ASCII.
LOCK_KEY = 0x7461736B63686174


class SchemaError(StartupError):
    """The database schema cannot be used by this version of taskchat."""

    def __init__(self, message: str) -> None:
        super().__init__("DATABASE_URL", message)


@dataclass(frozen=True)
class Environment:
    """One process's migrations: where its scripts live and which version table it uses."""

    name: str
    package: str
    version_table: str
    # A table the releases before migrations created with create_all: if it exists
    # without a version table, the database is adopted at the first revision.
    marker_table: str
    # Columns that table had then: a table of that name without them is someone else's.
    marker_columns: frozenset[str]

    def config(self, connection: Connection | None = None) -> Config:
        """The Alembic config for this environment, bound to `connection` if given."""
        config = Config()
        config.set_main_option("script_location", str(files(self.package) / "migrations"))
        config.set_main_option("version_table", self.version_table)
        config.attributes["connection"] = connection
        return config

    def scripts(self) -> ScriptDirectory:
        """The revision scripts shipped with this code."""
        return ScriptDirectory.from_config(self.config())


TASKS = Environment(
    "tasks", "mcp_server", "alembic_version_tasks", "task",
    frozenset({"id", "user_id", "title", "completed", "priority", "tags", "due_at", "recurrence"}),
)  # fmt: skip
CHAT = Environment(
    "chat", "chat_server", "alembic_version_chat", "chat_thread",
    frozenset({"seq", "id", "user_id", "created_at", "data"}),
)  # fmt: skip
ENVIRONMENTS = (TASKS, CHAT)


def run_env() -> None:
    """The body of every env.py: run the migrations on the connection the caller locked."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise SchemaError("migrations run only through shared.migrate (taskchat-db)")
    context.configure(
        connection=connection, version_table=context.config.get_main_option("version_table")
    )
    with context.begin_transaction():
        context.run_migrations()


def upgrade(engine: Engine, env: Environment) -> tuple[str, ...]:
    """Bring `env`'s tables to the newest revision under a database-wide lock.

    Returns the revisions the database was at: empty for an empty database.
    """
    scripts = env.scripts()
    with locked(engine) as conn:
        _refuse_unusable(conn, env, engine.url.render_as_string(hide_password=True))
        before = _current(conn, env)
        _refuse_unknown(scripts, before, env)
        config = env.config(conn)
        if not before and inspect(conn).has_table(env.marker_table):
            # Made by a release before migrations: its tables are the first revision as is.
            before = (scripts.get_base() or "base",)
            command.stamp(config, before[0])
        command.upgrade(config, "head")
    return before


def upgrade_all(engine: Engine) -> None:
    """Bring both processes' tables up to date (one database, as tests and benchmarks use)."""
    for env in ENVIRONMENTS:
        upgrade(engine, env)


def current(engine: Engine, env: Environment) -> tuple[str, ...]:
    """The revisions `env`'s version table records (empty before the first upgrade)."""
    with engine.connect() as conn:
        return _current(conn, env)


def heads(env: Environment) -> tuple[str, ...]:
    """The newest revisions this code knows for `env`."""
    return tuple(env.scripts().get_heads())


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the schema lock until it ends.

    Several instances starting at once on an empty database must not all create the
    tables: the first upgrades, the others wait, then find the schema up to date.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            with conn.begin():
                # The transaction-scoped lock is released even if the process dies mid-way.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
                yield conn
            return
        # pysqlite opens transactions lazily and never before DDL, so it would not lock;
        # take SQLite's write lock ourselves (other writers wait out the busy timeout).
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")


def _current(conn: Connection, env: Environment) -> tuple[str, ...]:
    context = MigrationContext.configure(conn, opts={"version_table": env.version_table})
    return tuple(context.get_current_heads())


def _refuse_unknown(scripts: ScriptDirectory, current: tuple[str, ...], env: Environment) -> None:
    known = {script.revision for script in scripts.walk_revisions()}
    for revision in current:
        if revision not in known:
            raise SchemaError(
                f"The database's {env.name} schema is at revision {revision!r}, which this "
                "version of taskchat does not know (a newer release upgraded it): run that "
                "release or a newer one, or restore a backup made before the upgrade."
            )


def main(argv: list[str] | None = None) -> None:
    """`taskchat-db upgrade|current|history|downgrade REV|backup PATH|restore PATH`."""
    parser = argparse.ArgumentParser(
        prog="taskchat-db",
        description="Schema migrations of the task server and the chat server (DATABASE_URL).",
    )
    parser.add_argument(
        "command",
        choices=["upgrade", "current", "history", "downgrade", "backup", "restore"],
    )
    parser.add_argument("target", nargs="?", help="downgrade: a revision; backup, restore: a file")
    parser.add_argument("--replace", action="store_true", help="restore over taskchat's tables")
    # Intermixed: `restore --replace FILE` as well as `restore FILE --replace`.
    args = parser.parse_intermixed_args(argv)
    if args.command in ("downgrade", "backup", "restore"):
        if args.target is None:
            wanted = "a revision" if args.command == "downgrade" else "a file"
            parser.error(f"{args.command} needs {wanted}")
        with refusing("db"):
            _maintain(args.command, args.target, replace=args.replace)
        return
    if args.command == "history":
        for env in ENVIRONMENTS:
            print(f"{env.name}:")
            for script in env.scripts().walk_revisions():
                head = " (head)" if script.is_head else ""
                print(f"  {script.revision}{head}  {script.doc.splitlines()[0]}")
        return
    with refusing("db"):
        database_url = get_common_settings().database_url
        check_database(database_url)
        check_ours(database_url)
        engine = make_engine(database_url)
        try:
            for env in ENVIRONMENTS:
                if args.command == "upgrade":
                    before = upgrade(engine, env)
                    print(f"{env.name}: {_describe(before, current(engine, env), heads(env))}")
                    continue
                now = current(engine, env)
                if not now and inspect(engine).has_table(env.marker_table):
                    now = ("unversioned tables of a release before migrations",)
                print(f"{env.name}: {_describe(now, now, heads(env))}")
        finally:
            engine.dispose()


def downgrade(engine: Engine, revision: str) -> tuple[Environment, tuple[str, ...]]:
    """Take the environment that owns `revision` back down to it; returns the revisions before."""
    env = next((e for e in ENVIRONMENTS if _knows(e.scripts(), revision)), None)
    if env is None:
        known = ", ".join(s.revision for e in ENVIRONMENTS for s in e.scripts().walk_revisions())
        raise SchemaError(f"no revision {revision!r} in this release (it has {known})")
    with locked(engine) as conn:
        before = _current(conn, env)
        _refuse_unknown(env.scripts(), before, env)
        command.downgrade(env.config(conn), revision)
    return env, before


def _knows(scripts: ScriptDirectory, revision: str) -> bool:
    return any(script.revision == revision for script in scripts.walk_revisions())


def _maintain(action: str, target: str, *, replace: bool) -> None:
    """The commands that change or copy the database: downgrade, backup, restore."""
    from shared import backup  # noqa: PLC0415  (only these commands need it)

    database_url = get_common_settings().database_url
    match action:
        case "backup":
            backup.backup(database_url, Path(target))
            print(f"backed up {_shown(database_url)} to {target}")
        case "restore":
            backup.restore(database_url, Path(target), replace=replace)
            print(f"restored {target} into {_shown(database_url)}")
        case "downgrade":
            engine = make_engine(database_url)
            try:
                env, before = downgrade(engine, target)
                print(
                    f"{env.name}: downgraded {', '.join(before) or 'nothing'} -> "
                    f"{', '.join(current(engine, env)) or 'no tables'}"
                )
            finally:
                engine.dispose()


def _shown(database_url: str) -> str:
    return make_url(database_url).render_as_string(hide_password=True)


def check_ours(database_url: str) -> None:
    """Refuse, before anything writes to it, a database taskchat did not make or cannot upgrade.

    A SQLite file holding only others' tables is refused (a PostgreSQL schema may be shared
    with other applications), and so is one holding a table of ours in a state taskchat never
    leaves. Through a plain connection: make_engine's would switch a SQLite file to WAL,
    which rewrites its header.
    """
    url = make_url(database_url)
    shown = url.render_as_string(hide_password=True)
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(url))
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            ours = {name for env in ENVIRONMENTS for name in (env.version_table, env.marker_table)}
            if conn.dialect.name == "sqlite" and tables and not tables & ours:
                shown_tables = sorted(tables)
                listed = ", ".join(shown_tables[:3]) + (", ..." if shown_tables[3:] else "")
                raise not_ours(shown, f"it holds tables {listed} and none of taskchat's")
            for env in ENVIRONMENTS:
                _refuse_unusable(conn, env, shown)
    finally:
        engine.dispose()


def _refuse_unusable(conn: Connection, env: Environment, shown: str) -> None:
    """Refuse `env`'s tables in a state no taskchat release leaves them in."""
    schema = inspect(conn)
    if not schema.has_table(env.marker_table):
        return
    if schema.has_table(env.version_table):
        if not _current(conn, env):
            # Upgrading from the first revision would run migrations it may have had.
            raise SchemaError(
                f"{shown} has taskchat's {env.name} tables but {env.version_table} names no "
                "revision, so which migrations it has had is unknown: restore a backup, or "
                "move it aside and point DATABASE_URL elsewhere"
            )
        return
    columns = {column["name"] for column in schema.get_columns(env.marker_table)}
    if not env.marker_columns <= columns:
        raise not_ours(shown, f"its table {env.marker_table} is not the one taskchat makes")


def upgrade_at_start(database_url: str, env: Environment) -> str:
    """Bring `env`'s tables up to date before a process serves; say where they now stand.

    "chat_0002", or "chat_0001->chat_0002" after an upgrade (raises SchemaError if the
    database is newer than this code), for the process's start-up line.
    """
    # Alembic says a line per step; the start-up line says what changed.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    check_ours(database_url)
    engine = make_engine(database_url)
    try:
        before = upgrade(engine, env)
        after = current(engine, env)
    finally:
        engine.dispose()
    now = ",".join(after)
    return now if before == after else f"{','.join(before) or 'empty'}->{now}"


def _describe(before: tuple[str, ...], now: tuple[str, ...], newest: tuple[str, ...]) -> str:
    shown = ", ".join(now) or "no tables yet"
    if before != now:
        return f"upgraded {', '.join(before) or 'an empty database'} -> {shown}"
    if now == newest:
        return f"{shown} (up to date)"
    return f"{shown} (newest is {', '.join(newest)}: run taskchat-db upgrade)"
