"""Load: hundreds of chat turns in flight at once against both servers on PostgreSQL."""

import asyncio
import re
import time

import httpx
import pytest

from tests.reliability.harness import (
    AsyncChat,
    SplitStack,
    assert_answered,
    fresh_user,
    ok_turn,
    readable_failure,
    token,
)
from tests.reliability.pg import PgSandbox

pytestmark = pytest.mark.timeout(240)

TURNS = 200
USERS = 8
ADDED = re.compile(r"Added task (\d+): (Load task \d+)\.")


async def test_two_hundred_concurrent_turns_each_add_exactly_one_task(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    users = [fresh_user(f"load{n}") for n in range(USERS)]
    chats = [AsyncChat(stack.chat_url, token(user), http) for user in users]
    started = time.monotonic()
    responses = await asyncio.wait_for(
        asyncio.gather(
            *(chats[n % USERS].create(f"add load task {n}") for n in range(TURNS)),
            return_exceptions=True,
        ),
        timeout=180,
    )
    elapsed = time.monotonic() - started
    failures = [r for r in responses if isinstance(r, BaseException)]
    assert failures == [], failures[:3]

    replies = [ok_turn(response).reply for response in responses]  # type: ignore[arg-type]
    added = [ADDED.search(reply) for reply in replies]
    assert all(added), [r for r, m in zip(replies, added, strict=True) if not m][:3]
    assert sorted(m[2] for m in added if m) == sorted(f"Load task {n}" for n in range(TURNS))

    stored: dict[int, str] = {}
    for n, user in enumerate(users):
        tasks = pg_sandbox.tasks(user)
        assert sorted(title for _, title, _ in tasks) == sorted(
            f"Load task {k}" for k in range(n, TURNS, USERS)
        )
        stored.update((task_id, title) for task_id, title, _ in tasks)
    # Each reply names the task its own turn created.
    assert {int(m[1]): m[2] for m in added if m} == stored
    print(f"{TURNS} turns in {elapsed:.1f} s")


async def test_messages_sent_at_once_into_one_thread_are_answered_in_turn(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    alice = fresh_user("alice")
    chat = AsyncChat(stack.chat_url, token(alice), http)
    thread = ok_turn(await chat.create("add first thing")).thread_id
    responses = await asyncio.wait_for(
        asyncio.gather(*(chat.say(thread, f"add errand {n}") for n in range(10))), timeout=120
    )
    assert [ok_turn(r).tools for r in responses] == [["add_task"]] * 10
    titles = sorted(title for _, title, _ in pg_sandbox.tasks(alice))
    assert titles == sorted(["First thing", *(f"Errand {n}" for n in range(10))])
    items = await chat.items(thread)
    assert_answered(items)
    assert len([i for i in items if i["type"] == "user_message"]) == 11


async def test_sessions_killed_again_and_again_under_load_lose_and_duplicate_nothing(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    users = [fresh_user(f"chaos{n}") for n in range(4)]
    chats = [AsyncChat(stack.chat_url, token(user), http) for user in users]
    turns = 100
    done = asyncio.Event()

    async def kill_sessions_until_done() -> int:
        kills = 0
        while not done.is_set():
            kills += await asyncio.to_thread(pg_sandbox.terminate)
            await asyncio.sleep(0.1)
        return kills

    killer = asyncio.create_task(kill_sessions_until_done())
    try:
        responses = await asyncio.wait_for(
            asyncio.gather(*(chats[n % 4].create(f"add chaos task {n}") for n in range(turns))),
            timeout=180,
        )
    finally:
        done.set()
    assert await asyncio.wait_for(killer, 10) > 0

    confirmed = set()
    for response in responses:
        told = readable_failure(response)
        if match := re.search(r"Added task \d+: (Chaos task \d+)\.", told):
            confirmed.add(match[1])
    stored = [title for user in users for _, title, _ in pg_sandbox.tasks(user)]
    assert len(stored) == len(set(stored)), "a task was added twice"
    # Every confirmed task is there; an unconfirmed one may be there only if its turn said
    # that something failed after the task server had answered.
    assert confirmed <= set(stored)
    print(f"{len(confirmed)} of {turns} turns confirmed while sessions were being killed")
