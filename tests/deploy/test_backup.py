"""`taskchat-db backup` while the servers run, then a wipe and `taskchat-db restore`."""

from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import make_url, text

from shared.db import make_engine
from tests.deploy.conftest import every_row, taskchat_db
from tests.e2e.stack import running_stack

pytestmark = pytest.mark.e2e


def wipe(database_url: str) -> None:
    """Lose the database: delete the SQLite file, or drop and recreate the PostgreSQL schema."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.database}{suffix}").unlink(missing_ok=True)
        return
    schema = unquote(str(url.query["options"])).removeprefix("-csearch_path=")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()


def task_ids(database_url: str) -> list[int]:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM task ORDER BY id")).scalars())
    engine.dispose()
    return ids


def test_a_backup_taken_while_the_servers_run_restores_every_row(
    database_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "taskchat.backup"
    with running_stack(database_url) as stack:
        chat = stack.client()
        first = chat.create("add buy milk tomorrow high priority #home")
        chat.say(first.thread_id, "add call the plumber")
        chat.say(first.thread_id, "show me all my tasks")
        chat.create("add renew the passport next month")
        before = every_row(database_url)
        if database_url.startswith("sqlite"):
            # The servers hold the database open, so their writes are still in the WAL: the
            # backup has to take them from there, not just copy the main file.
            assert Path(f"{make_url(database_url).database}-wal").stat().st_size > 0

        done = taskchat_db(database_url, "backup", str(backup), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        # Written after the backup: the restore must not bring it back.
        chat.create("add written after the backup")
        assert every_row(database_url) != before

    wipe(database_url)
    done = taskchat_db(database_url, "restore", str(backup), cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"restored {backup} into ")
    assert every_row(database_url) == before
    assert all(before[table] for table in ("task", "chat_thread", "chat_thread_item"))


def test_the_restored_database_serves_and_never_reuses_a_task_id(
    database_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "taskchat.backup"
    with running_stack(database_url) as stack:
        stack.client().create("add water the plants")
        done = taskchat_db(database_url, "backup", str(backup), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    newest = max(task_ids(database_url))

    wipe(database_url)
    assert taskchat_db(database_url, "restore", str(backup), cwd=tmp_path).returncode == 0
    with running_stack(database_url) as stack:
        chat = stack.client()
        assert [thread["title"] for thread in chat.threads()] != []
        chat.create("add feed the cat")

    assert task_ids(database_url) == [newest, newest + 1]


def test_restore_refuses_a_database_that_has_tables_unless_told_to_replace_them(
    sqlite_url: str, tmp_path: Path
) -> None:
    backup = tmp_path / "taskchat.backup"
    assert taskchat_db(sqlite_url, "upgrade", cwd=tmp_path).returncode == 0
    assert taskchat_db(sqlite_url, "backup", str(backup), cwd=tmp_path).returncode == 0

    refused = taskchat_db(sqlite_url, "restore", str(backup), cwd=tmp_path)
    again = taskchat_db(sqlite_url, "backup", str(backup), cwd=tmp_path)
    replaced = taskchat_db(sqlite_url, "restore", "--replace", str(backup), cwd=tmp_path)

    assert (refused.returncode, refused.stderr) == (
        2,
        "taskchat-db: DATABASE_URL: the database already holds tables: restore into an "
        "empty database, or pass --replace to overwrite them\n",
    )
    assert (again.returncode, again.stderr) == (
        2,
        f"taskchat-db: DATABASE_URL: {backup} already exists: back up to a new file\n",
    )
    assert replaced.returncode == 0, replaced.stderr
