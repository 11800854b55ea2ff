"""Rolling back: `taskchat-db downgrade REV` keeps the rows; a release refuses a newer schema."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from shared.db import make_engine
from shared.migrate import CHAT, TASKS, Environment, heads
from testbed.servers import ROOT, free_port
from tests.deploy.conftest import every_row, taskchat_db
from tests.e2e.stack import running_stack

# Tables every revision has: what a downgrade must keep row for row.
LASTING_TABLES = ("task", "chat_thread", "chat_thread_item")


def columns(database_url: str) -> dict[str, list[str]]:
    """The column names of each lasting table, in their order."""
    engine = make_engine(database_url)
    try:
        found = inspect(engine)
        return {table: [c["name"] for c in found.get_columns(table)] for table in LASTING_TABLES}
    finally:
        engine.dispose()


def previous(env: Environment) -> str:
    """The revision just before this release's head."""
    (head,) = heads(env)
    down = env.scripts().get_revision(head).down_revision
    assert isinstance(down, str)
    return down


@pytest.mark.e2e
def test_a_downgrade_to_the_previous_revisions_keeps_every_task_and_chat_row(
    database_url: str, tmp_path: Path
) -> None:
    with running_stack(database_url) as stack:
        chat = stack.client()
        turn = chat.create("add buy milk tomorrow #home")
        chat.say(turn.thread_id, "add call the plumber")
    before = every_row(database_url)
    columns_before = columns(database_url)

    for env in (TASKS, CHAT):
        done = taskchat_db(database_url, "downgrade", previous(env), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        (head,) = heads(env)
        assert done.stdout == f"{env.name}: downgraded {head} -> {previous(env)}\n"

    after = every_row(database_url)
    # Every row, with every value of the columns the previous revision has (a column the
    # newest revision added goes with it).
    kept = columns(database_url)

    def as_kept(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
        return {
            table: sorted(
                (tuple(row[columns_before[table].index(name)] for name in kept[table])
                 for row in rows[table]),
                key=repr,
            )
            for table in LASTING_TABLES
        }  # fmt: skip

    assert {table: after[table] for table in LASTING_TABLES} == as_kept(before)
    assert len(before["task"]) == 2
    assert after["alembic_version_tasks"] == [(previous(TASKS),)]
    assert after["alembic_version_chat"] == [(previous(CHAT),)]
    # And forward again, as the next start-up of this release does.
    assert taskchat_db(database_url, "upgrade", cwd=tmp_path).returncode == 0
    assert as_kept(every_row(database_url))["task"] == after["task"]


def test_downgrade_refuses_a_revision_this_release_does_not_have(
    sqlite_url: str, tmp_path: Path
) -> None:
    done = taskchat_db(sqlite_url, "downgrade", "tasks_0000", cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr.startswith(
        "taskchat-db: DATABASE_URL: no revision 'tasks_0000' in this release (it has "
    )
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize(("module", "table"), [("mcp_server", TASKS), ("chat_server", CHAT)])
def test_a_server_refuses_a_database_a_newer_release_migrated_in_one_line(
    module: str, table: Environment, sqlite_url: str, tmp_path: Path
) -> None:
    assert taskchat_db(sqlite_url, "upgrade", cwd=tmp_path).returncode == 0
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {table.version_table} SET version_num = 'future_9999'"))
    engine.dispose()
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_url,
        "MCP_PORT": str(free_port()),
        "CHAT_PORT": str(free_port()),
        "TASKCHAT_MODEL": "offline",
    }

    done = subprocess.run(
        [sys.executable, "-m", module],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    process = module.removesuffix("_server")
    assert done.returncode == 2
    assert done.stderr == (
        f"taskchat-{process}: DATABASE_URL: The database's {table.name} schema is at revision "
        "'future_9999', which this version of taskchat does not know (a newer release "
        "upgraded it): run that release or a newer one, or restore a backup made before the "
        "upgrade.\n"
    )
