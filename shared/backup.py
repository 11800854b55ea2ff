"""Backups of the database both processes share: `taskchat-db backup PATH` and `restore PATH`.

A backup holds every table of taskchat's database (on PostgreSQL: of the schema DATABASE_URL
uses, so keep taskchat in a database or schema of its own), whatever the release made.

SQLite: sqlite3's online backup API copies a consistent snapshot while the servers write,
WAL included, into one self-contained database file. PostgreSQL: `pg_dump` (custom format)
of taskchat's tables, which reads one snapshot without blocking writers, and `pg_restore`.
"""

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from shared.db import make_engine
from shared.startup import StartupError


class BackupError(StartupError):
    """A backup or restore that cannot be done as asked."""

    def __init__(self, message: str) -> None:
        super().__init__("DATABASE_URL", message)


def backup(database_url: str, path: Path) -> None:
    """Write a consistent copy of the database at `database_url` to `path` (a new file)."""
    if path.exists():
        raise BackupError(f"{path} already exists: back up to a new file")
    url = make_url(database_url)
    match url.get_backend_name():
        case "sqlite":
            _copy_sqlite(_sqlite_file(url, must_exist=True), path)
            # The copy is a file of its own: no -wal file to carry along with it.
            with closing(sqlite3.connect(path)) as copy:
                copy.execute("PRAGMA journal_mode=DELETE")
        case "postgresql":
            schema, tables = _tables(database_url)
            if not tables:
                raise BackupError(f"schema {schema} holds no tables: nothing to back up")
            # Table by table, not the schema: a schema dump would drop and recreate the
            # schema itself (`public` too) on restore. A table's sequences come with it.
            names = [arg for table in tables for arg in ("--table", f'"{schema}"."{table}"')]
            _run_pg(
                url,
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={path}",
                *names,
            )
        case other:
            raise BackupError(f"backups of {other} databases are not supported")


def restore(database_url: str, path: Path, *, replace: bool = False) -> None:
    """Put the backup at `path` into the database at `database_url`; stop the servers first.

    The database must hold no taskchat tables, unless `replace`: then the backup replaces
    them (SQLite: the whole file; PostgreSQL: every table the backup holds).
    """
    if not path.is_file():
        raise BackupError(f"{path} is not a backup file")
    url = make_url(database_url)
    if not replace and _tables(database_url)[1]:
        raise BackupError(
            "the database already holds tables: restore into an empty database, "
            "or pass --replace to overwrite them"
        )
    match url.get_backend_name():
        case "sqlite":
            with closing(sqlite3.connect(path)) as check:
                if check.execute("PRAGMA quick_check").fetchone() != ("ok",):
                    raise BackupError(f"{path} is not an intact SQLite database")
            _copy_sqlite(path, _sqlite_file(url, must_exist=False))
        case "postgresql":
            clean = ("--clean", "--if-exists") if replace else ()
            _run_pg(
                url,
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                *clean,
                str(path),
            )
        case other:
            raise BackupError(f"restores of {other} databases are not supported")


def _copy_sqlite(source: Path, target: Path) -> None:
    # The backup API copies page by page under SQLite's own locks: a writer in another
    # process never sees a half-copied file, and pages still in the WAL are included. Into
    # a live database in WAL mode it writes through the target's WAL, so readers stay safe.
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _sqlite_file(url: URL, *, must_exist: bool) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    path = Path(url.database)
    if must_exist and not path.is_file():
        raise BackupError(f"{path} does not exist")
    return path


def _tables(database_url: str) -> tuple[str, list[str]]:
    """The schema DATABASE_URL uses (PostgreSQL's current_schema) and every table in it."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            schema = None
            if engine.dialect.name == "postgresql":
                schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
            return schema or "main", sorted(inspect(conn).get_table_names(schema))
    finally:
        engine.dispose()


def _run_pg(url: URL, program: str, *args: str) -> None:
    if shutil.which(program) is None:
        raise BackupError(
            f"{program} is not installed: install the PostgreSQL client of the server's "
            "major version (Debian: postgresql-client)"
        )
    # libpq reads the same URL (options=-csearch_path... included); the password goes in
    # the environment, where other users cannot read it the way they can read arguments.
    conninfo = url.set(drivername="postgresql", password=None).render_as_string()
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(
        [program, *args, f"--dbname={conninfo}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackupError(f"{program} failed ({done.returncode}): {last}")
