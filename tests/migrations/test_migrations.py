"""Schema migrations on SQLite and PostgreSQL: adoption of old databases, ids, locking, refusal."""

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel

import chat_server.caldav.tables  # noqa: F401  (registers the app password and CalDAV tables)
import chat_server.conversation.store_tables  # noqa: F401  (registers the chat tables for create_all)
import chat_server.transfer.tables  # noqa: F401  (registers the feed and import tables)
import mcp_server.calls  # noqa: F401  (registers the tool_call table for create_all)
import mcp_server.models  # noqa: F401  (registers the task table for create_all)
import shared.channels  # noqa: F401  (registers the channel and digest tables for create_all)
import shared.events  # noqa: F401  (registers the task_event table for create_all)
from chat_server.conversation.store import SQLStore
from mcp_server import tasks
from shared.auth import Principal
from shared.db import make_engine
from shared.migrate import CHAT, ENVIRONMENTS, TASKS, SchemaError, current, heads, locked, upgrade

NOW = datetime(2025, 3, 12, 8, 0, 0, tzinfo=UTC)
TABLES = ("task", "task_event", "tool_call", "deployment_secret", "chat_thread", "chat_thread_item")
# What the last release before migrations had; the upgrade keeps these rows.
RELEASE_TABLES = ("task", "chat_thread", "chat_thread_item")
# The release dump deleted its newest task, id 6, before it was taken.
RELEASE_MAX_TASK_ID = 5
TASKCHAT_DB = str(Path(sys.executable).with_name("taskchat-db"))
# The newest task revision, so a new migration does not change every expected line.
TASKS_HEAD = heads(TASKS)[0]
CHAT_HEAD = heads(CHAT)[0]


def upgrade_all(engine: Engine) -> None:
    for env in ENVIRONMENTS:
        upgrade(engine, env)


def add_task(engine: Engine, title: str, user_id: str = "ann") -> int:
    with Session(engine) as session:
        data = tasks.NewTask(title=title)
        change = tasks.add_task(session, user_id=user_id, data=data, now=NOW)
        session.commit()
        return change["task"]["id"]


def delete_task(engine: Engine, task_id: int, user_id: str = "ann") -> None:
    with Session(engine) as session:
        tasks.delete_task(session, user_id=user_id, task_id=task_id)
        session.commit()


# The release's own columns; later revisions add columns (task.list_id, ...) beside them.
RELEASE_COLUMNS = {
    "task": "id, user_id, title, description, completed, completed_at, priority, tags, due_at, "
    "due_is_date, recurrence, created_at, updated_at",
}


def rows(engine: Engine) -> dict[str, list[Any]]:
    """Every row of the release's tables (their release columns), as the database returns
    them, in key order."""
    with engine.connect() as conn:
        return {
            table: [
                tuple(row)
                for row in conn.execute(
                    text(f"SELECT {RELEASE_COLUMNS.get(table, '*')} FROM {table} ORDER BY 1")
                )
            ]
            for table in RELEASE_TABLES
        }


def schema_of(engine: Engine) -> set[tuple[Any, ...]]:
    """Every table, column, constraint, index and sequence, as the database describes them."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT type, name, sql FROM sqlite_master WHERE tbl_name NOT LIKE 'alembic%'"
            # A table rebuilt by a migration is renamed into place, which quotes its name.
            return {
                (kind, name, " ".join((sql or "").replace('"', "").split()))
                for kind, name, sql in conn.exec_driver_sql(query)
            }
        return _postgres_schema(conn)


def _postgres_schema(conn: Connection) -> set[tuple[Any, ...]]:
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    queries = [
        "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable,"
        " column_default FROM information_schema.columns WHERE table_schema = current_schema()",
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = current_schema()::regnamespace",
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()",
        "SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences"
        " WHERE sequence_schema = current_schema()",
    ]
    found = set()
    for query in queries:
        for row in conn.execute(text(query)):
            described = tuple(str(value).replace(f"{schema}.", "") for value in row)
            if not described[0].startswith("alembic_version"):
                found.add(described)
    return found


def run_taskchat_db(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [TASKCHAT_DB, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


# -- task ids ------------------------------------------------------------------------------


def test_deleting_the_newest_task_never_gives_its_id_to_the_next_task(engine: Engine) -> None:
    upgrade_all(engine)
    add_task(engine, "first")
    newest = add_task(engine, "second")
    delete_task(engine, newest)

    assert add_task(engine, "third") > newest


def test_an_in_memory_database_is_migrated_and_usable() -> None:
    engine = make_engine("sqlite://")
    upgrade_all(engine)
    newest = add_task(engine, "first")
    delete_task(engine, newest)

    assert add_task(engine, "second") > newest
    assert current(engine, TASKS) == heads(TASKS)
    assert current(engine, CHAT) == heads(CHAT)
    engine.dispose()


# -- databases made by the last release before migrations ---------------------------------


async def test_a_release_database_is_upgraded_with_every_row_intact(
    release_database: str, engine: Engine
) -> None:
    before = rows(engine)

    upgrade_all(engine)

    assert rows(engine) == before
    # Attachments were refused at the edge, so their table held nothing real; it is gone.
    assert "chat_attachment" not in inspect(engine).get_table_names()
    assert current(engine, TASKS) == heads(TASKS)
    assert current(engine, CHAT) == heads(CHAT)
    with Session(engine) as session:
        page = tasks.list_tasks(session, user_id="ann")
    assert [task["title"] for task in page["tasks"]] == [
        "Buy milk",
        "Call mom",
        "Pay rent",
        "Water plants",
    ]
    store = SQLStore(engine)
    ann = Principal("ann")
    thread = await store.load_thread("thr_ann", ann)
    assert thread.title == "Groceries"
    items = await store.load_thread_items("thr_ann", None, 10, "asc", ann)
    assert [item.id for item in items.data] == ["msg_ann_1", "msg_ann_2"]
    reply = AssistantMessageItem(
        id="msg_ann_3",
        thread_id="thr_ann",
        created_at=datetime(2025, 3, 12, 8, 0),
        content=[AssistantMessageContent(text="Done.")],
    )
    await store.add_thread_item("thr_ann", reply, ann)
    await store.save_thread(ThreadMetadata(id="thr_new", created_at=datetime.now()), ann)
    assert [thread.id for thread in (await store.load_threads(10, None, "desc", ann)).data] == [
        "thr_new",
        "thr_ann",
    ]


def test_task_ids_are_not_reused_after_a_release_database_is_upgraded(
    release_database: str, engine: Engine
) -> None:
    upgrade_all(engine)

    new = add_task(engine, "after the upgrade")
    delete_task(engine, new)
    newer = add_task(engine, "after the delete")

    assert RELEASE_MAX_TASK_ID < new < newer


def test_the_first_revisions_rebuild_the_release_schema_exactly(
    release_database: str, engine: Engine, other_database_url: str
) -> None:
    migrated = make_engine(other_database_url)
    for env in ENVIRONMENTS:
        with locked(migrated) as conn:
            command.upgrade(env.config(conn), env.scripts().get_base() or "base")

    assert schema_of(migrated) == schema_of(engine)
    migrated.dispose()


def test_a_database_made_by_the_migrations_matches_the_models(
    engine: Engine, other_database_url: str
) -> None:
    upgrade_all(engine)
    created = make_engine(other_database_url)
    SQLModel.metadata.create_all(created)

    assert schema_of(engine) == schema_of(created)
    created.dispose()


# -- start-up safety -------------------------------------------------------------------------


def test_concurrent_upgrades_of_an_empty_database_all_succeed(database_url: str) -> None:
    starters = 6
    barrier = threading.Barrier(starters)
    failures: list[BaseException] = []

    def start() -> None:
        engine = make_engine(database_url)
        try:
            barrier.wait()
            upgrade_all(engine)
        except BaseException as exc:
            failures.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    engine = make_engine(database_url)
    assert current(engine, TASKS) == heads(TASKS)
    assert set(TABLES) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_new_sqlite_file_another_process_is_writing_is_switched_to_wal_once_it_may_be(
    tmp_path: Path,
) -> None:
    # SQLite refuses the switch at once, without its busy timeout, while another connection
    # holds the write lock of a file still in rollback mode: the first start-up of two
    # processes on one new file.
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE early (x)")
    other.execute("BEGIN IMMEDIATE")
    done = threading.Timer(0.3, other.execute, ["COMMIT"])
    done.start()
    engine = make_engine(f"sqlite:///{path}")
    try:
        started = time.monotonic()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert time.monotonic() - started >= 0.25  # it waited for the other's commit
    finally:
        done.join()
        engine.dispose()
        other.close()


def test_a_database_stamped_with_a_newer_revision_is_refused_with_a_clear_message(
    engine: Engine,
) -> None:
    upgrade_all(engine)
    task_id = add_task(engine, "kept")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version_tasks SET version_num = 'tasks_9999'"))

    with pytest.raises(SchemaError) as refused:
        upgrade(engine, TASKS)

    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        "DATABASE_URL: The database's tasks schema is at revision 'tasks_9999', which this "
        "version of taskchat does not know (a newer release upgraded it)"
    )
    assert current(engine, TASKS) == ("tasks_9999",)
    with Session(engine) as session:
        assert tasks.get_task(session, user_id="ann", task_id=task_id)["title"] == "kept"


# -- taskchat-db -------------------------------------------------------------------------------


def test_taskchat_db_current_upgrade_and_history_work_as_commands(
    release_database: str, tmp_path: Path
) -> None:
    def db(*args: str) -> str:
        done = run_taskchat_db(release_database, *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert db("current") == (
        "tasks: unversioned tables of a release before migrations "
        f"(newest is {TASKS_HEAD}: run taskchat-db upgrade)\n"
        "chat: unversioned tables of a release before migrations "
        f"(newest is {CHAT_HEAD}: run taskchat-db upgrade)\n"
    )
    assert db("upgrade") == (
        f"tasks: upgraded tasks_0001 -> {TASKS_HEAD}\nchat: upgraded chat_0001 -> {CHAT_HEAD}\n"
    )
    up_to_date = f"tasks: {TASKS_HEAD} (up to date)\nchat: {CHAT_HEAD} (up to date)\n"
    assert db("current") == up_to_date
    assert db("upgrade") == up_to_date
    history = db("history")
    assert history.startswith(f"tasks:\n  {TASKS_HEAD} (head)  ")
    assert re.search(r"^  tasks_0005( \(head\))?  The deployment's own secrets", history, re.M)
    assert "  tasks_0004  Writes applied once per call id" in history
    assert "  tasks_0003  Task change events for live pages" in history
    assert "  tasks_0002  Task ids are never reused" in history
    assert "  tasks_0001  The task table exactly as create_all made it" in history
    assert history.split("chat:\n", 1)[1].startswith(f"  {CHAT_HEAD} (head)  ")
    assert re.search(r"^  chat_0002( \(head\))?  Drop chat_attachment", history, re.M)
    assert "  chat_0001  The chat tables exactly as create_all made them" in history


def test_several_taskchat_db_upgrades_at_once_on_an_empty_database_all_succeed(
    database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    starters = [
        subprocess.Popen(
            [TASKCHAT_DB, "upgrade"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [starter.communicate(timeout=60)[0] for starter in starters]

    assert [starter.returncode for starter in starters] == [0, 0, 0]
    # Whoever took the lock first created the tables; the others found them up to date.
    lines = sorted("".join(outputs).splitlines())
    assert lines == [
        f"chat: {CHAT_HEAD} (up to date)",
        f"chat: {CHAT_HEAD} (up to date)",
        f"chat: upgraded an empty database -> {CHAT_HEAD}",
        f"tasks: {TASKS_HEAD} (up to date)",
        f"tasks: {TASKS_HEAD} (up to date)",
        f"tasks: upgraded an empty database -> {TASKS_HEAD}",
    ]


def test_taskchat_db_refuses_a_newer_database_with_one_line(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    upgrade_all(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version_chat SET version_num = 'chat_9999'"))
    engine.dispose()

    done = run_taskchat_db(database_url, "upgrade", cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr.startswith(
        "taskchat-db: DATABASE_URL: The database's chat schema is at revision"
    )
    assert done.stderr.count("\n") == 1


def test_tables_whose_version_table_names_no_revision_are_refused_untouched(engine: Engine) -> None:
    upgrade_all(engine)
    task_id = add_task(engine, "kept")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version_tasks"))

    with pytest.raises(SchemaError) as refused:
        upgrade(engine, TASKS)

    assert "tasks tables but alembic_version_tasks names no revision" in str(refused.value)
    assert current(engine, TASKS) == ()
    with Session(engine) as session:
        assert tasks.get_task(session, user_id="ann", task_id=task_id)["title"] == "kept"
