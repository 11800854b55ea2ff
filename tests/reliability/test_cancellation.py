"""A client that leaves while its turn is still streaming."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from testbed.servers import Server
from tests.e2e.stack import user_input
from tests.reliability.harness import (
    AsyncChat,
    SplitStack,
    conversation,
    fresh_user,
    ok_turn,
    readable_failure,
    token,
)
from tests.reliability.pg import PgSandbox
from tests.reliability.waits import until

pytestmark = pytest.mark.timeout(150)

Event = dict[str, Any]


async def leave_after(
    http: httpx.AsyncClient,
    chat: AsyncChat,
    request: dict[str, Any],
    seen: Callable[[Event], bool],
    before_leaving: Callable[[], Awaitable[Any]] | None = None,
) -> list[Event]:
    """Stream `request`, and hang up once an event satisfies `seen` (and `before_leaving`)."""
    events: list[Event] = []
    async with http.stream(
        "POST", f"{chat.base_url}/chatkit", json=request, headers=chat.headers
    ) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if seen(events[-1]):
                    if before_leaving is not None:
                        await before_leaving()
                    return events
    raise AssertionError(f"the stream ended before the awaited event: {events}")


def say(thread_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": user_input(text)},
    }


def tool_started(event: Event) -> bool:
    return event["type"] == "thread.item.added" and event["item"]["type"] == "workflow"


async def test_leaving_during_tool_calls_keeps_the_thread_usable_and_frees_the_pool(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    alice = fresh_user("alice")
    chat = AsyncChat(stack.chat_url, token(alice), http)
    thread = ok_turn(await chat.create("add water the plants")).thread_id

    async def in_flight() -> None:
        await until(lambda: pg_sandbox.waiting_for_locks("mcp"), within=20)

    # More departures than the chat server has MCP connections (4): none may stay taken.
    for n in range(6):
        with pg_sandbox.locked("task"):
            # Hang up while add_task is running inside the task server.
            await leave_after(http, chat, say(thread, f"add chore {n}"), tool_started, in_flight)

    listing = ok_turn(await chat.say(thread, "show my tasks"))
    assert listing.tools == ["list_tasks"]
    stored = [title for _, title, _ in pg_sandbox.tasks(alice)]
    # Each abandoned add ran at most once, and the listing shows exactly what is stored.
    assert stored[0] == "Water the plants" and len(stored) == len(set(stored))
    assert set(stored[1:]) <= {f"Chore {n}" for n in range(6)}
    for title in stored:
        assert title in listing.reply

    # Each departure left chatkit's note for the next turn's model: the user cancelled.
    notes = pg_sandbox.sql(
        f'SELECT count(*) FROM "{pg_sandbox.schema}".chat_thread_item '
        "WHERE thread_id = :thread AND data LIKE '%The user cancelled the stream%'",
        thread=thread,
    )
    assert notes[0][0] == 6

    lines = conversation(await chat.items(thread))
    assert lines[0] == "user: add water the plants"
    assert lines[1].startswith("assistant: Added task")
    assert lines[2:8] == [f"user: add chore {n}" for n in range(6)]
    assert lines[8] == "user: show my tasks"
    assert lines[9].startswith("assistant: ") and len(lines) == 10


async def test_leaving_mid_reply_stops_the_model_keeps_what_was_said_and_the_thread_works(
    stack: SplitStack, slow_stack: tuple[Server, Server], http: httpx.AsyncClient
) -> None:
    slow_chat, model = slow_stack
    alice = fresh_user("alice")
    chat = AsyncChat(slow_chat.base_url, token(alice), http)
    thread = ok_turn(await chat.create("hello")).thread_id

    def third_word(event: Event) -> bool:
        update = event.get("update", {})
        return update.get("type") == "assistant_message.content_part.text_delta" and (
            "word2" in update.get("delta", "")
        )

    await leave_after(http, chat, say(thread, "tell me a story, slowly"), third_word)

    async def model_stopped() -> dict[str, int] | None:
        activity = (await http.get(f"{model.base_url}/_activity")).json()
        return activity if activity["streaming"] == 0 else None

    # The run is cancelled with the stream: the model is not left talking to nobody.
    activity = await until(model_stopped, within=5)
    assert activity["words"] < 20

    async def partial_reply_saved() -> list[str]:
        lines = conversation(await chat.items(thread))
        return lines if lines[-1].startswith("assistant: word0 word1 word2") else []

    lines = await until(partial_reply_saved, within=20)
    assert lines[:3] == ["user: hello", "assistant: Done: hello", "user: tell me a story, slowly"]
    assert "word99" not in lines[3]

    after = ok_turn(await chat.say(thread, "thanks"))
    assert after.reply == "Done: thanks"
    assert conversation(await chat.items(thread))[4:] == ["user: thanks", "assistant: Done: thanks"]


async def test_a_thread_deleted_mid_turn_ends_the_turn_with_a_message(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    alice = fresh_user("alice")
    chat = AsyncChat(stack.chat_url, token(alice), http)
    thread = ok_turn(await chat.create("add water the plants")).thread_id
    with pg_sandbox.locked("task"):
        turn = asyncio.create_task(chat.say(thread, "add feed the cat"))
        await until(lambda: pg_sandbox.waiting_for_locks("mcp"), within=20)
        # From another tab: the thread goes while its turn waits for the task server.
        deleted = await chat.post({"type": "threads.delete", "params": {"thread_id": thread}})
        assert deleted.status_code == 200, deleted.text
    told = readable_failure(await asyncio.wait_for(turn, 30))
    assert (
        told == "This conversation no longer exists (it was deleted), so the reply was not saved."
    )
    gone = await chat.post({"type": "items.list", "params": {"thread_id": thread}})
    assert gone.status_code == 404
    assert ok_turn(await chat.create("show my tasks")).tools == ["list_tasks"]
