"""PostgreSQL sessions killed under both servers, and the database gone and back."""

import asyncio

import httpx
import pytest

from tests.reliability.harness import (
    AsyncChat,
    SplitStack,
    assert_answered,
    call,
    fresh_user,
    mcp_client,
    ok_turn,
    readable_failure,
    token,
    tool_text,
)
from tests.reliability.pg import PgSandbox
from tests.reliability.waits import until

pytestmark = pytest.mark.timeout(150)


def titles(pg_sandbox, user: str) -> list[str]:
    return [title for _, title, _ in pg_sandbox.tasks(user)]


async def test_killed_database_sessions_under_both_servers_are_replaced_without_an_error(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    users = [fresh_user(name) for name in ("alice", "bob", "carol")]
    chats = [AsyncChat(stack.chat_url, token(user), http) for user in users]
    threads = [ok_turn(await chat.create("add first thing")).thread_id for chat in chats]
    for round_ in range(3):
        assert pg_sandbox.sessions("mcp") > 0 and pg_sandbox.sessions("chat") > 0
        assert pg_sandbox.terminate() > 0
        pairs = zip(chats, threads, strict=True)
        turns = await asyncio.gather(
            *(chat.say(thread, f"add round {round_} thing") for chat, thread in pairs)
        )
        for turn in turns:
            assert ok_turn(turn).tools == ["add_task"]
    for user, chat, thread in zip(users, chats, threads, strict=True):
        assert titles(pg_sandbox, user) == [
            "First thing",
            "Round 0 thing",
            "Round 1 thing",
            "Round 2 thing",
        ]
        items = await chat.items(thread)
        assert_answered(items)
        assert len(items) >= 8


async def test_a_database_outage_is_explained_and_both_servers_recover_on_their_own(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    alice = fresh_user("alice")
    chat = AsyncChat(stack.chat_url, token(alice), http)
    thread = ok_turn(await chat.create("add water the plants")).thread_id
    before = await chat.items(thread)

    pg_sandbox.go_down()
    told = [
        readable_failure(await chat.say(thread, "add buy bread")),
        readable_failure(await chat.create("add call mum")),
        readable_failure(await chat.post({"type": "threads.list", "params": {}})),
        readable_failure(await chat.post({"type": "items.list", "params": {"thread_id": thread}})),
    ]
    for message in told:
        assert "database" in message.lower(), told
    async with mcp_client(stack.mcp_url, token(alice)) as mcp:
        result = await call(mcp, "add_task", {"title": "buy bread"})
        assert result.is_error
        assert "database" in tool_text(result).lower(), tool_text(result)
    ready = await http.get(f"{stack.chat_url}/readyz")
    assert ready.status_code == 503 and ready.json()["database"] == "unavailable"
    health = await http.get(f"{stack.mcp.base_url}/healthz")
    assert health.status_code == 503 and health.json()["database"] == "unreachable"

    pg_sandbox.come_back()
    # Neither process is restarted: their connection pools reconnect on the next request.
    for url in (f"{stack.chat_url}/readyz", f"{stack.mcp.base_url}/healthz"):
        await until(lambda url=url: httpx.get(url, timeout=5).status_code == 200, within=30)
    assert titles(pg_sandbox, alice) == ["Water the plants"]
    assert await chat.items(thread) == before
    again = ok_turn(await chat.say(thread, "add buy bread"))
    assert again.tools == ["add_task"]
    assert titles(pg_sandbox, alice) == ["Water the plants", "Buy bread"]
    assert_answered(await chat.items(thread))


async def test_the_task_database_lost_mid_turn_is_explained_in_the_reply(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    alice = fresh_user("alice")
    chat = AsyncChat(stack.chat_url, token(alice), http)
    thread = ok_turn(await chat.create("add water the plants")).thread_id
    with pg_sandbox.locked("task"):
        turn = asyncio.create_task(chat.say(thread, "add buy bread"))
        await until(lambda: pg_sandbox.waiting_for_locks("mcp"), within=20)
        pg_sandbox.go_down("mcp")
    told = readable_failure(await asyncio.wait_for(turn, 30))
    assert "database" in told.lower(), told
    assert titles(pg_sandbox, alice) == ["Water the plants"]

    pg_sandbox.come_back("mcp")
    assert ok_turn(await chat.say(thread, "add buy bread")).tools == ["add_task"]
    assert titles(pg_sandbox, alice) == ["Water the plants", "Buy bread"]
    assert_answered(await chat.items(thread))


async def test_the_chat_database_lost_mid_turn_ends_the_stream_with_a_readable_error(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    alice = fresh_user("alice")
    chat = AsyncChat(stack.chat_url, token(alice), http)
    thread = ok_turn(await chat.create("add water the plants")).thread_id
    with pg_sandbox.locked("task"):
        turn = asyncio.create_task(chat.say(thread, "add buy bread"))
        await until(lambda: pg_sandbox.waiting_for_locks("mcp"), within=20)
        # The user message is saved; the chat server loses its database before the reply.
        pg_sandbox.go_down("chat")
    told = readable_failure(await asyncio.wait_for(turn, 30))
    assert "database" in told.lower(), told
    # The task server still had its database, so the task was added, exactly once.
    assert titles(pg_sandbox, alice) == ["Water the plants", "Buy bread"]

    pg_sandbox.come_back("chat")
    listing = ok_turn(await chat.say(thread, "show my tasks"))
    assert "Buy bread" in listing.reply
    conversation = [i["type"] for i in await chat.items(thread) if i["type"].endswith("_message")]
    # The reply that could not be saved is missing, and nothing else is.
    assert conversation == [
        "user_message",
        "assistant_message",
        "user_message",
        "user_message",
        "assistant_message",
    ]
