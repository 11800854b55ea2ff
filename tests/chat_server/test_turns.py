"""Turn locks across processes: each lock object below stands for one process's view."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from chat_server.conversation.turns import ThreadTurns, TurnLocks, turn_locks_for


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_processes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[
    tuple[TurnLocks, TurnLocks]
]:
    """Two independent turn-lock holders on one database, as two chat servers would have."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'taskchat.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    first, second = turn_locks_for(url), turn_locks_for(url)
    assert first is not None and second is not None
    yield first, second
    await first.close()
    await second.close()


async def test_a_turn_waits_for_another_process_turn_in_the_same_thread(
    two_processes: tuple[TurnLocks, TurnLocks],
) -> None:
    first, second = two_processes
    order: list[str] = []

    async def turn(locks: TurnLocks, name: str, seconds: float) -> None:
        async with ThreadTurns(locks).hold("thr_shared"):
            order.append(f"{name} starts")
            await asyncio.sleep(seconds)
            order.append(f"{name} ends")

    running = asyncio.create_task(turn(first, "first", 0.3))
    await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(running, turn(second, "second", 0)), 10)
    assert order == ["first starts", "first ends", "second starts", "second ends"]


async def test_turns_in_different_threads_do_not_wait_for_each_other(
    two_processes: tuple[TurnLocks, TurnLocks],
) -> None:
    first, second = two_processes
    async with first.hold("thr_one"):
        await asyncio.wait_for(_enter(second, "thr_two"), 2)


async def test_a_lost_lock_session_frees_the_thread_and_the_next_turn_reconnects(
    postgres_url: str,
) -> None:
    first, second = turn_locks_for(postgres_url), turn_locks_for(postgres_url)
    assert first is not None and second is not None
    try:
        holding = first.hold("thr_crash")
        await holding.__aenter__()
        # As if the process died: PostgreSQL ends its session and drops its locks.
        admin = create_engine(postgres_url)
        with admin.begin() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
                " AND objid = hashtext('thr_crash')::oid"
            ))
        admin.dispose()
        await asyncio.wait_for(_enter(second, "thr_crash"), 5)
        await holding.__aexit__(None, None, None)  # nothing left to release: no error
        await asyncio.wait_for(_enter(first, "thr_crash"), 5)
    finally:
        await first.close()
        await second.close()


async def _enter(locks: TurnLocks, thread_id: str) -> None:
    async with locks.hold(thread_id):
        pass
