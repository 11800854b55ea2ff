"""A Chat Completions model (any OPENAI_BASE_URL server) through a whole conversation."""

import httpx
import pytest

from testbed.servers import Server
from tests.reliability.harness import (
    AsyncChat,
    SplitStack,
    conversation,
    fresh_user,
    ok_turn,
    token,
)

pytestmark = pytest.mark.timeout(120)


async def test_every_reply_of_a_chat_completions_model_is_kept_in_the_thread(
    stack: SplitStack, slow_stack: tuple[Server, Server], http: httpx.AsyncClient
) -> None:
    slow_chat, _model = slow_stack
    chat = AsyncChat(slow_chat.base_url, token(fresh_user("alice")), http)
    thread = ok_turn(await chat.create("hello")).thread_id
    assert ok_turn(await chat.say(thread, "how are you")).reply == "Done: how are you"
    assert ok_turn(await chat.say(thread, "thanks")).reply == "Done: thanks"
    assert conversation(await chat.items(thread)) == [
        "user: hello",
        "assistant: Done: hello",
        "user: how are you",
        "assistant: Done: how are you",
        "user: thanks",
        "assistant: Done: thanks",
    ]
