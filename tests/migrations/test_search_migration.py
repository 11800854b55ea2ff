"""tasks_0014: the search index added to a database in use and filled from its tasks (SQLite
and PostgreSQL), taken away by a downgrade; on PostgreSQL, made by roles that are not
superusers, or left out with a warning where the role may not install pg_trgm."""

import logging
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import tasks
from mcp_server.tasks import NewTask, TaskQuery
from shared.db import make_engine
from shared.migrate import CHAT, ENVIRONMENTS, TASKS, locked, upgrade, upgrade_all
from testbed.databases import POSTGRES_URL
from tests.migrations.test_migrations import schema_of

BEFORE = "tasks_0013"


def found(engine: Engine, term: str, user_id: str = "ann") -> list[str]:
    with Session(engine) as session:
        page = tasks.list_tasks(session, user_id=user_id, query=TaskQuery(search=term))
    return [task["title"] for task in page["tasks"]]


def add(engine: Engine, title: str, user_id: str = "ann") -> None:
    with Session(engine) as session:
        tasks.add_task(session, user_id=user_id, data=NewTask(title=title))
        session.commit()


def has_search_index(engine: Engine) -> bool:
    names = set(inspect(engine).get_table_names())
    if engine.dialect.name == "sqlite":
        return "task_search" in names
    return "ix_task_search" in {index["name"] for index in inspect(engine).get_indexes("task")}


def test_an_existing_database_gains_a_search_index_of_its_tasks_and_a_downgrade_drops_it(
    release_database: str, engine: Engine, other_database_url: str
) -> None:
    with locked(engine) as conn:
        # A release before migrations is its first revision as is (shared.migrate.upgrade).
        command.stamp(TASKS.config(conn), TASKS.scripts().get_base() or "base")
        command.upgrade(TASKS.config(conn), BEFORE)
    assert not has_search_index(engine)

    for env in ENVIRONMENTS:
        upgrade(engine, env)

    assert has_search_index(engine)
    # The tasks the release made are in the index: "ilk" is no word, only part of one.
    assert found(engine, "ilk") == ["Buy milk"]
    assert found(engine, "RENT") == ["Pay rent"]
    assert found(engine, "ilk", user_id="bob") == []
    add(engine, "Oat milk")
    assert found(engine, "ilk") == ["Buy milk", "Oat milk"]

    with locked(engine) as conn:
        command.downgrade(TASKS.config(conn), BEFORE)

    assert not has_search_index(engine)
    # Exactly the schema tasks_0013 makes: nothing of the index is left behind.
    fresh = make_engine(other_database_url)
    with locked(fresh) as conn:
        command.upgrade(TASKS.config(conn), BEFORE)
    upgrade(fresh, CHAT)
    assert schema_of(engine) == schema_of(fresh)
    fresh.dispose()
    add(engine, "Milk the goat")  # while there is no index, as the old code would

    upgrade(engine, TASKS)  # and forward again: the index is filled anew
    assert found(engine, "ilk") == ["Buy milk", "Oat milk", "Milk the goat"]


# -- PostgreSQL roles that are not superusers ----------------------------------------------


@pytest.fixture
def database_and_roles(postgres_server_url: str) -> Iterator[tuple[str, str, str]]:
    """A new database owned by a role that is no superuser, and a second such role that may
    only create in a schema of its own there: (database, owner, other role)."""
    suffix = uuid.uuid4().hex[:10]
    database, owner, other = f"search_{suffix}", f"owner_{suffix}", f"other_{suffix}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {owner} LOGIN"))
        conn.execute(text(f"CREATE ROLE {other} LOGIN"))
        conn.execute(text(f"CREATE DATABASE {database} OWNER {owner}"))
    inside = create_engine(_url(database, "postgres"), isolation_level="AUTOCOMMIT")
    with inside.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {other} AUTHORIZATION {other}"))
    inside.dispose()
    try:
        yield database, owner, other
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {database} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE {owner}"))
            conn.execute(text(f"DROP ROLE {other}"))
        admin.dispose()


def _url(database: str, user: str, schema: str | None = None) -> str:
    url = make_url(POSTGRES_URL).set(database=database, username=user)
    if schema is not None:
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.mark.postgres
def test_without_superuser_the_owner_gets_the_index_and_a_role_without_create_a_warning(
    database_and_roles: tuple[str, str, str], caplog: pytest.LogCaptureFixture
) -> None:
    database, owner, other = database_and_roles
    # A role that may not install pg_trgm (no CREATE on the database): no index, a warning
    # that says how to add it, and search that works by scanning.
    limited = make_engine(_url(database, other, schema=other))
    with caplog.at_level(logging.WARNING):
        upgrade_all(limited)
    assert "pg_trgm could not be installed" in caplog.text
    assert "CREATE INDEX IF NOT EXISTS ix_task_search ON task" in caplog.text
    assert not has_search_index(limited)
    add(limited, "call the plumber")
    assert found(limited, "plumb") == ["call the plumber"]
    assert found(limited, "plumbr") == []  # no similarity without pg_trgm
    limited.dispose()

    # The database's owner installs pg_trgm (a trusted extension) and gets the index.
    owned = make_engine(_url(database, owner))
    upgrade_all(owned)
    assert has_search_index(owned)
    add(owned, "call the plumber")
    assert found(owned, "plumb") == ["call the plumber"]
    assert found(owned, "plumbr") == ["call the plumber"]
    owned.dispose()
