"""Fixtures for the task rules, the MCP tools and the MCP server process."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import tasks
from shared.db import make_engine
from shared.migrate import upgrade_all

T = TypeVar("T")

# A fixed clock for rules that depend on "now".
NOW = datetime(2025, 3, 10, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A fresh in-memory SQLite database with the task table."""
    engine = make_engine("sqlite://")
    upgrade_all(engine)
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


@asynccontextmanager
async def in_own_task(manager: AbstractAsyncContextManager[T]) -> AsyncIterator[T]:
    """Enter and exit `manager` in one background task.

    pytest-asyncio runs an async fixture's setup and teardown in different tasks, and
    anyio cancel scopes (inside every MCP client) must be left in the task that entered them.
    """
    entered: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    async def hold() -> None:
        async with manager as value:
            entered.set_result(value)
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.wait([entered, holder], return_when=asyncio.FIRST_COMPLETED)
    if not entered.done():
        await holder  # raises why entering failed
    try:
        yield entered.result()
    finally:
        release.set()
        await holder
