"""Fixtures for the task rules, the MCP tools and the MCP server process."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from shared import tasks
from shared.db import create_tables, make_engine

# A fixed clock for rules that depend on "now".
NOW = datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A fresh in-memory SQLite database with the task table."""
    engine = make_engine("sqlite://")
    create_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the in-memory database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def add(
    session: Session, user_id: str = "ann", now: datetime = NOW, **fields: object
) -> tasks.TaskDict:
    """Add a task (title defaults to "task") and return it."""
    data = tasks.NewTask(**{"title": "task", **fields})  # type: ignore[arg-type]
    return tasks.add_task(session, user_id=user_id, data=data, now=now)["task"]
