"""A ReDoS message sent to a real chat server does not hold up anyone else's turn.

Before the fix, "add a , , , , , , , , , , , x" (29 characters) kept the offline model's
regular expressions busy for 16 s, and Python's `re` holds the GIL: every user of the
process waited. Here attackers send that message, a run of dots and the slowest message the
ReDoS tests know, up to the size limit, all at once, while another user adds a task.
"""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import Stack, running_stack
from tests.reliability.harness import (
    JWT_ENV,
    AsyncChat,
    fresh_user,
    ok_turn,
    readable_failure,
    token,
)

pytestmark = pytest.mark.timeout(120)

ATTACKS = (
    "add a , , , , , , , , , , , x",  # the report: 16 s before the fix
    "add a " + "." * 3990 + "x",
    "add a " + ", " * 1995 + "!x",
    "mark " + "1 " * 1995 + "!x",
)
# A turn with a tool call takes tens of milliseconds here; a frozen event loop, seconds.
VICTIM_SECONDS = 1.0


@pytest.fixture(scope="module")
def redos_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers on one SQLite file, JWT mode, one worker: one event loop for all users."""
    path: Path = tmp_path_factory.mktemp("redos") / "taskchat.db"
    with running_stack(f"sqlite:///{path}", **JWT_ENV, RATE_LIMIT="1000/minute") as stack:
        yield stack


async def test_another_user_is_answered_within_a_second_while_redos_messages_arrive(
    redos_stack: Stack, http: httpx.AsyncClient
) -> None:
    assert redos_stack.chat is not None
    base = redos_stack.chat.base_url
    victim = AsyncChat(base, token(fresh_user("victim")), http)
    thread_id = ok_turn(await victim.create("hello")).thread_id  # warm: the victim's thread
    attackers = [AsyncChat(base, token(fresh_user("mallory")), http) for _ in ATTACKS]

    attacks = [
        asyncio.create_task(attacker.create(message))
        for attacker, message in zip(attackers, ATTACKS, strict=True)
    ]
    await asyncio.sleep(0.05)  # the attack requests are on the wire first
    start = time.perf_counter()
    turn = ok_turn(await victim.say(thread_id, "add buy milk tomorrow"))
    took = time.perf_counter() - start

    assert "Buy milk" in turn.reply, turn.reply
    assert took < VICTIM_SECONDS, f"the victim waited {took:.2f} s"
    for response in await asyncio.gather(*attacks):
        assert readable_failure(response)  # each attack got an answer of its own
