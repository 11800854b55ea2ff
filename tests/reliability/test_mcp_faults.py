"""The MCP task server dies (SIGKILL) in the middle of a turn, then comes back."""

import asyncio

import httpx
import pytest

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


async def test_a_task_server_killed_mid_turn_is_reported_and_the_thread_works_after_restart(
    stack: SplitStack, pg_sandbox: PgSandbox, http: httpx.AsyncClient
) -> None:
    alice = fresh_user("alice")
    chat = AsyncChat(stack.chat_url, token(alice), http)
    thread = ok_turn(await chat.create("add water the plants")).thread_id

    # The lock holds add_task inside the MCP server until the process is dead.
    with pg_sandbox.locked("task"):
        turn = asyncio.create_task(chat.say(thread, "add feed the cat"))
        await until(lambda: pg_sandbox.waiting_for_locks("mcp"), within=20)
        stack.kill_mcp()
    told = readable_failure(await asyncio.wait_for(turn, 30))
    assert "task server" in told, told
    assert "may or may not have run" in told, told

    # The killed server's transaction never committed: no half-written task.
    await until(lambda: pg_sandbox.sessions("mcp") == 0, within=20)
    assert [title for _, title, _ in pg_sandbox.tasks(alice)] == ["Water the plants"]

    # While it is down, every turn says so, and nothing is restarted but the task server.
    down = readable_failure(await chat.say(thread, "show my tasks"))
    assert "couldn't reach the task server" in down, down
    # A widget's button too: its action goes through the same pool.
    widget = next(i for i in await chat.items(thread) if i["type"] == "widget")
    task_id = pg_sandbox.tasks(alice)[0][0]
    pressed = await chat.post(
        {
            "type": "threads.custom_action",
            "params": {
                "thread_id": thread,
                "item_id": widget["id"],
                "action": {"type": "task.complete", "payload": {"task_id": task_id}},
            },
        }
    )
    assert "task server" in readable_failure(pressed)
    assert pg_sandbox.tasks(alice)[0][2] is False

    stack.start_mcp()
    # Every pooled connection (4) was left pointing at the dead process; all of them heal.
    others = [AsyncChat(stack.chat_url, token(fresh_user("bob")), http) for _ in range(8)]
    turns = await asyncio.gather(*(other.create("show my tasks") for other in others))
    assert [ok_turn(turn).tools for turn in turns] == [["list_tasks"]] * 8
    again = ok_turn(await chat.say(thread, "add feed the cat"))
    assert again.tools == ["add_task"]
    assert [t for _, t, _ in pg_sandbox.tasks(alice)] == ["Water the plants", "Feed the cat"]
    listing = ok_turn(await chat.say(thread, "show my tasks"))
    assert "Water the plants" in listing.reply and "Feed the cat" in listing.reply

    roles = [line.split(":")[0] for line in conversation(await chat.items(thread))]
    # Every message answered once; the button's failure is an answer of its own.
    assert roles == ["user", "assistant"] * 3 + ["assistant"] + ["user", "assistant"] * 2
