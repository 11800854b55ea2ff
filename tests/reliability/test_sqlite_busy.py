"""SQLite busy: another connection holds the write lock while turns want to write."""

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from testbed.servers import Server
from tests.e2e.stack import Stack, running_stack
from tests.reliability.harness import (
    AsyncChat,
    assert_answered,
    call,
    mcp_client,
    ok_turn,
    readable_failure,
    tool_text,
)

pytestmark = pytest.mark.timeout(150)

BUSY_SECONDS = 3


@dataclass
class SqliteStack:
    stack: Stack
    path: Path

    @property
    def chat(self) -> Server:
        assert self.stack.chat is not None
        return self.stack.chat

    @property
    def mcp(self) -> Server:
        assert self.stack.mcp is not None
        return self.stack.mcp


@pytest.fixture(scope="module")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteStack]:
    """Both servers on one SQLite file (local mode)."""
    path = tmp_path_factory.mktemp("busy") / "taskchat.db"
    # Writers give up on a held lock after BUSY_SECONDS instead of the default 30.
    with running_stack(f"sqlite:///{path}?timeout={BUSY_SECONDS}") as stack:
        yield SqliteStack(stack, path)


@contextmanager
def write_locked(path) -> Iterator[None]:
    """Another process-like writer: BEGIN IMMEDIATE holds SQLite's write lock until rollback."""
    conn = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def titles(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT title FROM task ORDER BY id")]


async def test_turns_wait_out_a_held_write_lock_and_then_complete(
    sqlite_stack: SqliteStack, http: httpx.AsyncClient
) -> None:
    chat = AsyncChat(sqlite_stack.chat.base_url, None, http)
    thread = ok_turn(await chat.create("add water the plants")).thread_id
    held_for = 2.0
    with write_locked(sqlite_stack.path):
        started = time.monotonic()
        turns = [asyncio.create_task(chat.say(thread, f"add chore {n}")) for n in range(3)]
        await asyncio.sleep(held_for)
        assert not any(turn.done() for turn in turns)
    replies = [ok_turn(await asyncio.wait_for(turn, 60)) for turn in turns]
    assert time.monotonic() - started >= held_for
    assert sorted(turn.tools[0] for turn in replies) == ["add_task"] * 3
    # Each turn answered its own message: three different tasks, none twice.
    first, *chores = titles(sqlite_stack.path)
    assert (first, sorted(chores)) == ("Water the plants", ["Chore 0", "Chore 1", "Chore 2"])
    assert_answered(await chat.items(thread))


async def test_a_lock_held_past_the_busy_timeout_is_explained_and_nothing_is_half_saved(
    sqlite_stack: SqliteStack, http: httpx.AsyncClient
) -> None:
    chat = AsyncChat(sqlite_stack.chat.base_url, None, http)
    thread = ok_turn(await chat.create("add water the plants")).thread_id
    before_items = await chat.items(thread)
    before_tasks = titles(sqlite_stack.path)
    with write_locked(sqlite_stack.path):
        started = time.monotonic()
        told = readable_failure(await chat.say(thread, "add feed the cat"))
        assert BUSY_SECONDS <= time.monotonic() - started < BUSY_SECONDS + 10
        assert "database is unavailable" in told, told
        async with mcp_client(f"{sqlite_stack.mcp.base_url}/mcp", "unused") as mcp:
            result = await call(mcp, "add_task", {"title": "feed the cat"})
        assert result.is_error
        assert "task database is unavailable" in tool_text(result), tool_text(result)
    # Nothing of the refused turn was kept, and the next one works at once.
    assert await chat.items(thread) == before_items
    assert titles(sqlite_stack.path) == before_tasks
    assert ok_turn(await chat.say(thread, "add feed the cat")).tools == ["add_task"]
    assert titles(sqlite_stack.path) == [*before_tasks, "Feed the cat"]
    assert_answered(await chat.items(thread))
