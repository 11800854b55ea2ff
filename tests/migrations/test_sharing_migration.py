"""tasks_0011 and tasks_0012: deleted tasks kept for restore_task, and shared lists, added to
a database in use (SQLite and PostgreSQL), and taken away again by a downgrade."""

from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import calls, lists, tasks, trash
from shared.db import make_engine
from shared.migrate import CHAT, ENVIRONMENTS, TASKS, current, locked, upgrade
from tests.migrations.test_migrations import schema_of

NOW = datetime(2025, 3, 12, 8, 0, 0, tzinfo=UTC)
BEFORE = "tasks_0010"
KEPT_COLUMNS = "id, user_id, title, completed, list_id, parent_id, repeat"


def task_rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        query = text(f"SELECT {KEPT_COLUMNS} FROM task ORDER BY id")
        return [tuple(row) for row in conn.execute(query)]


def write(engine: Engine, fn: Any, user_id: str, **kwargs: Any) -> Any:
    with Session(engine) as session:
        return calls.apply(session, fn, user_id=user_id, call_id=None, **kwargs)


def test_an_existing_database_gains_sharing_and_restore_in_place_and_a_downgrade_keeps_its_tasks(
    release_database: str, engine: Engine, other_database_url: str
) -> None:
    with locked(engine) as conn:
        # A release before migrations is its first revision as is (shared.migrate.upgrade).
        command.stamp(TASKS.config(conn), TASKS.scripts().get_base() or "base")
        command.upgrade(TASKS.config(conn), BEFORE)
    before = task_rows(engine)

    for env in ENVIRONMENTS:
        upgrade(engine, env)

    assert task_rows(engine) == before
    with Session(engine) as session:
        ann = tasks.list_tasks(session, user_id="ann")["tasks"]
    assert {(t["owner"], t["assignee"], t["changed_by"]) for t in ann} == {("ann", None, None)}
    milk = next(t for t in ann if t["title"] == "Buy milk")
    write(engine, tasks.update_task, "ann", task_id=milk["id"], changes={"list": "groceries"},
          now=NOW)  # fmt: skip
    write(engine, lists.share_list, "ann", name="groceries", member="bob", role="editor", now=NOW)
    done = write(engine, tasks.set_completed, "bob", task_id=milk["id"], now=NOW)["task"]
    assert (done["owner"], done["changed_by"]) == ("ann", "bob")
    write(engine, tasks.delete_task, "bob", task_id=milk["id"])
    back = write(engine, trash.restore_task, "bob", task_id=milk["id"])["task"]
    assert (back["id"], back["list"], back["completed"]) == (milk["id"], "groceries", True)
    write(engine, tasks.delete_task, "ann", task_id=milk["id"])  # kept for restore_task
    after = task_rows(engine)

    with locked(engine) as conn:
        command.downgrade(TASKS.config(conn), BEFORE)

    assert current(engine, TASKS) == (BEFORE,)
    assert task_rows(engine) == after
    assert not {"list_member", "deleted_task"} & set(inspect(engine).get_table_names())
    # Exactly the schema tasks_0010 makes: no column lost or left, every index kept.
    fresh = make_engine(other_database_url)
    with locked(fresh) as conn:
        command.upgrade(TASKS.config(conn), BEFORE)
    upgrade(fresh, CHAT)
    assert schema_of(engine) == schema_of(fresh)
    fresh.dispose()
    upgrade(engine, TASKS)  # and forward again
    with Session(engine) as session:
        assert [t["title"] for t in tasks.list_tasks(session, user_id="bob")["tasks"]] == [
            "Bob's task"
        ]
