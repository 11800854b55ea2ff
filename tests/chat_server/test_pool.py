"""The pooled MCP client against a real MCP server over real HTTP on 127.0.0.1."""

import asyncio
import json
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from agents import Agent, Runner
from agents.exceptions import AgentsException
from agents.mcp import MCPToolMetaContext
from agents.testing import ScriptedModel, assistant_message, function_call

from chat_server.agent.pool import MCPPool, MCPPoolError, MCPTimeout, MCPUnavailable
from testbed.servers import Server, free_port, start_server

TOY = "tests.chat_server.toy_mcp"
# Generous bounds for CI machines; the pool's own retry budget is 2 s.
FAIL_FAST_DEADLINE = 5.0
POLL_DEADLINE = 10.0
TOOL_NAMES = ["echo", "sleep", "fail", "whoami", "header"]


@dataclass
class Toy:
    """A running toy MCP server and where to reach it."""

    port: int
    server: Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        self.server = start_server(TOY, {"TOY_MCP_PORT": str(self.port)}, self.port)

    def kill(self) -> None:
        """SIGKILL, so nothing is closed politely: the way a crash looks to clients."""
        assert self.server is not None
        self.server.process.kill()
        self.server.process.wait()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    async def stats(self) -> dict[str, int]:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{self.port}/stats")
            return response.json()


@pytest.fixture(scope="module")
def shared_toy() -> Iterator[Toy]:
    """One toy server for the tests that never stop it."""
    toy = Toy(free_port())
    toy.start()
    yield toy
    toy.stop()


@pytest.fixture
def own_toy() -> Iterator[Toy]:
    """A toy server of the test's own, which it may kill and restart (not started yet)."""
    toy = Toy(free_port())
    yield toy
    toy.stop()


@pytest.fixture
async def pool(shared_toy: Toy) -> AsyncIterator[MCPPool]:
    """A connected pool of four to the shared toy server."""
    async with MCPPool(shared_toy.url, size=4) as pool:
        yield pool


async def wait_until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll `check` until it holds, failing after POLL_DEADLINE seconds."""
    deadline = time.monotonic() + POLL_DEADLINE
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def text_of(result: object) -> str:
    content = result.content  # type: ignore[attr-defined]
    assert len(content) == 1
    return content[0].text


async def timed_sleeps(pool: MCPPool, calls: int, seconds: float) -> float:
    """Run `calls` concurrent sleep calls and return the wall time they took."""
    await pool.call_tool("echo", {"text": "warm-up"})  # first call pays one-off imports
    started = time.perf_counter()
    results = await asyncio.gather(
        *(pool.call_tool("sleep", {"seconds": seconds}) for _ in range(calls))
    )
    elapsed = time.perf_counter() - started
    assert [text_of(r) for r in results] == [f"slept {seconds}"] * calls
    return elapsed


async def test_four_connections_run_four_slow_calls_at_once(pool: MCPPool) -> None:
    elapsed = await timed_sleeps(pool, calls=4, seconds=0.3)
    assert 0.3 <= elapsed < 0.55


async def test_one_connection_runs_calls_one_after_another(shared_toy: Toy) -> None:
    async with MCPPool(shared_toy.url, size=1) as pool:
        elapsed = await timed_sleeps(pool, calls=4, seconds=0.3)
    assert elapsed >= 1.2


async def test_many_concurrent_callers_each_get_their_own_answer(pool: MCPPool) -> None:
    async def caller(n: int) -> list[str]:
        return [text_of(await pool.call_tool("echo", {"text": f"{n}-{i}"})) for i in range(10)]

    answers = await asyncio.gather(*(caller(n) for n in range(32)))
    assert answers == [[f"{n}-{i}" for i in range(10)] for n in range(32)]


async def test_a_caller_asking_again_at_once_queues_behind_callers_already_waiting(
    shared_toy: Toy,
) -> None:
    finished: list[str] = []
    async with MCPPool(shared_toy.url, size=1) as pool:

        async def busy() -> None:
            for i in range(3):
                await pool.call_tool("echo", {"text": "busy"})
                finished.append(f"busy {i}")

        async def patient() -> None:
            # Starts while busy's first call holds the only connection.
            await pool.call_tool("echo", {"text": "patient"})
            finished.append("patient")

        await asyncio.gather(busy(), patient())
    assert finished == ["busy 0", "patient", "busy 1", "busy 2"]


async def test_tool_list_is_fetched_once_for_the_whole_pool(shared_toy: Toy) -> None:
    before = (await shared_toy.stats())["list_tools"]
    async with MCPPool(shared_toy.url, size=4) as pool:
        listings = [await pool.list_tools() for _ in range(3)]
        # Calls on every connection: mcp would otherwise list tools once per session.
        await asyncio.gather(*(pool.call_tool("echo", {"text": "x"}) for _ in range(8)))
        after = (await shared_toy.stats())["list_tools"]
        assert pool.cached_tools is not None
    assert after - before == 1
    assert [[tool.name for tool in listing] for listing in listings] == [TOOL_NAMES] * 3


async def test_first_listings_racing_without_connect_fetch_once(shared_toy: Toy) -> None:
    before = (await shared_toy.stats())["list_tools"]
    pool = MCPPool(shared_toy.url, size=2)
    try:
        assert pool.cached_tools is None
        listings = await asyncio.gather(*(pool.list_tools() for _ in range(5)))
    finally:
        await pool.cleanup()
    assert (await shared_toy.stats())["list_tools"] - before == 1
    assert [[tool.name for tool in listing] for listing in listings] == [TOOL_NAMES] * 5


async def test_meta_reaches_the_server_with_a_new_call_id_for_each_call(pool: MCPPool) -> None:
    seen = []
    for _ in range(2):
        result = await pool.call_tool("whoami", {}, meta={"taskchat/user_id": "alice"})
        seen.append(json.loads(text_of(result)))
    call_ids = [sent.pop("taskchat/call_id") for sent in seen]
    assert seen == [{"taskchat/user_id": "alice"}] * 2
    assert all(re.fullmatch("[0-9a-f]{32}", call_id) for call_id in call_ids)
    assert call_ids[0] != call_ids[1]


async def test_configured_headers_reach_the_server(shared_toy: Toy) -> None:
    headers = {"Authorization": "Bearer service-token"}
    async with MCPPool(shared_toy.url, size=1, headers=headers) as pool:
        result = await pool.call_tool("header", {"name": "authorization"})
    assert text_of(result) == "Bearer service-token"


async def test_cancelled_call_gives_its_connection_back_in_working_order(shared_toy: Toy) -> None:
    async with MCPPool(shared_toy.url, size=1) as pool:
        call = asyncio.create_task(pool.call_tool("sleep", {"seconds": 30}))

        async def call_is_running() -> bool:
            return (await shared_toy.stats())["sleeping"] >= 1

        await wait_until(call_is_running, "the sleep call to reach the server")
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert text_of(await pool.call_tool("echo", {"text": "next"})) == "next"


async def test_tool_error_comes_back_as_an_error_result(pool: MCPPool) -> None:
    result = await pool.call_tool("fail", {"message": "Task 999 not found"})
    assert result.is_error is True
    # The toy server sends no code: the text our agents read says so, in the contract's form.
    assert json.loads(text_of(result)) == {
        "error": {"code": "refused", "message": "Task 999 not found"}
    }


async def test_killed_server_fails_fast_then_restarted_server_is_used_again(own_toy: Toy) -> None:
    own_toy.start()
    async with MCPPool(own_toy.url, size=2) as pool:
        assert text_of(await pool.call_tool("echo", {"text": "before"})) == "before"
        own_toy.kill()

        started = time.monotonic()
        with pytest.raises(MCPUnavailable) as caught:
            await pool.call_tool("echo", {"text": "while down"})
        assert time.monotonic() - started < FAIL_FAST_DEADLINE
        assert str(caught.value) == (
            f"The task server at {own_toy.url} is not reachable (connection refused)."
        )

        own_toy.start()
        # Same pool object; four calls keep both connections busy, so both must have healed.
        calls = [pool.call_tool("echo", {"text": "after"}) for _ in range(4)]
        results = await asyncio.gather(*calls)
        assert [text_of(r) for r in results] == ["after"] * 4


async def test_callers_queued_behind_an_outage_fail_fast_too(own_toy: Toy) -> None:
    async with MCPPool(own_toy.url, size=1) as pool:  # nothing listens on the port yet
        started = time.monotonic()
        calls = [pool.call_tool("echo", {"text": str(n)}) for n in range(5)]
        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        elapsed = time.monotonic() - started
    assert [type(outcome) for outcome in outcomes] == [MCPUnavailable] * 5
    # One connection: spending the 2 s budget once per caller would take 10 s.
    assert elapsed < FAIL_FAST_DEADLINE


async def test_pool_connected_while_server_is_down_works_once_it_starts(own_toy: Toy) -> None:
    pool = MCPPool(own_toy.url, size=2)
    started = time.monotonic()
    await pool.connect()  # must not raise, and must not spend the retry budget
    assert time.monotonic() - started < 1.0
    try:
        with pytest.raises(MCPUnavailable):
            await pool.list_tools()
        own_toy.start()
        assert text_of(await pool.call_tool("echo", {"text": "hello"})) == "hello"
        assert [tool.name for tool in await pool.list_tools()] == TOOL_NAMES
    finally:
        await pool.cleanup()


async def test_call_cut_off_by_a_crash_is_resent_and_reported_when_the_server_stays_down(
    own_toy: Toy,
) -> None:
    own_toy.start()
    async with MCPPool(own_toy.url, size=1) as pool:
        call = asyncio.create_task(pool.call_tool("sleep", {"seconds": 30}))

        async def call_is_running() -> bool:
            return (await own_toy.stats())["sleeping"] == 1

        await wait_until(call_is_running, "the sleep call to reach the server")
        own_toy.kill()
        with pytest.raises(MCPUnavailable) as caught:
            await call
        # The resends met a dead server; the message is about the call that was cut off.
        message = str(caught.value)
        assert message.startswith(
            f"The connection to the task server at {own_toy.url} broke during the call to sleep ("
        )
        assert message.endswith("); it may or may not have run.")


async def test_call_cut_off_by_a_crash_is_resent_to_the_restarted_server(own_toy: Toy) -> None:
    own_toy.start()
    async with MCPPool(own_toy.url, size=1, retry_for=20) as pool:
        call = asyncio.create_task(pool.call_tool("sleep", {"seconds": 1}))

        async def call_is_running() -> bool:
            return (await own_toy.stats())["sleeping"] == 1

        await wait_until(call_is_running, "the sleep call to reach the server")
        own_toy.kill()
        own_toy.start()
        assert text_of(await call) == "slept 1.0"


@dataclass
class Gateway:
    """The real task server (local mode, SQLite) behind tests/chat_server/gateway_proxy.py."""

    url: str
    proxy: Server

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.proxy.base_url}/proxy-stats").json()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    mcp_port, proxy_port = free_port(), free_port()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}", "MCP_PORT": str(mcp_port)}
    mcp = start_server("mcp_server", env, mcp_port)
    proxy_env = {"GATEWAY_UPSTREAM": mcp.base_url, "GATEWAY_PORT": str(proxy_port)}
    try:
        proxy = start_server("tests.chat_server.gateway_proxy", proxy_env, proxy_port)
        yield Gateway(f"{proxy.base_url}/mcp", proxy)
        proxy.stop()
    finally:
        mcp.stop()


async def test_a_write_answered_502_after_it_ran_is_resent_and_applied_once(
    gateway: Gateway,
) -> None:
    async with MCPPool(gateway.url, size=1) as pool:
        added = await pool.call_tool("add_task", {"title": "Buy milk"})
        listing = await pool.call_tool("list_tasks", {})

    assert not added.is_error and added.structured_content["title"] == "Buy milk"  # type: ignore[index]
    assert [t["title"] for t in listing.structured_content["tasks"]] == ["Buy milk"]  # type: ignore[index]
    # The add was sent twice under one id; the listing is a call of its own.
    first, resent, listed = gateway.stats()["call_ids"]
    assert first == resent and listed != first


async def test_slow_answer_raises_timeout_and_the_connection_stays_usable(
    shared_toy: Toy,
) -> None:
    async with MCPPool(shared_toy.url, size=1, timeout=0.5) as pool:
        with pytest.raises(MCPTimeout) as caught:
            await pool.call_tool("sleep", {"seconds": 3})
        assert str(caught.value) == (
            f"The task server at {shared_toy.url} did not answer the call to sleep within 0.5 s."
        )
        assert text_of(await pool.call_tool("echo", {"text": "still here"})) == "still here"


async def test_wrong_path_is_reported_as_a_rejection_not_an_outage(shared_toy: Toy) -> None:
    url = shared_toy.url.replace("/mcp", "/nope")
    async with MCPPool(url, size=1) as pool:
        started = time.monotonic()
        with pytest.raises(MCPPoolError) as caught:
            await pool.call_tool("echo", {"text": "x"})
        assert time.monotonic() - started < 1.0  # a refusal is final: no retries
    assert not isinstance(caught.value, MCPUnavailable)
    assert str(caught.value) == (
        f"The task server at {url} rejected the call to echo (HTTP 404): Not Found"
    )


async def test_cleanup_is_idempotent_and_closes_the_pool(shared_toy: Toy) -> None:
    pool = MCPPool(shared_toy.url, size=2)
    await pool.connect()
    await pool.cleanup()
    await pool.cleanup()
    with pytest.raises(MCPPoolError, match="pool is closed; call connect"):
        await pool.call_tool("echo", {"text": "x"})
    await pool.connect()
    assert text_of(await pool.call_tool("echo", {"text": "reopened"})) == "reopened"
    await pool.cleanup()


async def test_cleanup_of_a_never_connected_pool_does_nothing(shared_toy: Toy) -> None:
    pool = MCPPool(shared_toy.url)
    await pool.cleanup()
    await pool.cleanup()


async def test_ping_answers_true_when_the_server_is_up(pool: MCPPool) -> None:
    assert await pool.ping() is True


async def test_ping_answers_false_when_nothing_listens() -> None:
    pool = MCPPool(f"http://127.0.0.1:{free_port()}/mcp")
    assert await pool.ping() is False


async def test_ping_answers_false_within_its_limit_when_the_server_hangs() -> None:
    with socket.socket() as silent:  # accepts TCP connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        pool = MCPPool(f"http://127.0.0.1:{silent.getsockname()[1]}/mcp")
        started = time.monotonic()
        assert await pool.ping(within=0.3) is False
        assert time.monotonic() - started < 2.0


def test_bad_settings_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="pool size must be at least 1, got 0"):
        MCPPool("http://127.0.0.1:1/mcp", size=0)
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds, got 0"):
        MCPPool("http://127.0.0.1:1/mcp", timeout=0)


async def test_the_pool_offers_no_prompts(pool: MCPPool) -> None:
    assert (await pool.list_prompts()).prompts == []
    with pytest.raises(MCPPoolError, match="no prompt 'summary'"):
        await pool.get_prompt("summary")


def user_meta(ctx: MCPToolMetaContext) -> dict[str, str]:
    """What the chat server sends: the run context's user as tool-call `_meta`."""
    return {"taskchat/user_id": ctx.run_context.context["user_id"]}


async def test_agent_calls_a_tool_through_the_pool_with_the_users_meta(shared_toy: Toy) -> None:
    model = ScriptedModel(
        [
            [function_call("whoami", {}, call_id="call_1")],
            [assistant_message("You are bob.", item_id="msg_1")],
        ]
    )
    async with MCPPool(shared_toy.url, size=2, tool_meta_resolver=user_meta) as pool:
        agent = Agent(name="tasks", model=model, mcp_servers=[pool])
        result = await Runner.run(agent, "who am I?", context={"user_id": "bob"})
    outputs = [item.output for item in result.new_items if item.type == "tool_call_output_item"]
    # The model is handed the structured content (the toy wraps its string result).
    [output] = [json.loads(output) for output in outputs]
    sent = json.loads(output["result"])
    assert sent.pop("taskchat/call_id") and sent == {"taskchat/user_id": "bob"}
    assert result.final_output == "You are bob."


async def test_agent_run_fails_with_mcp_unavailable_when_the_server_dies(own_toy: Toy) -> None:
    own_toy.start()
    model = ScriptedModel([[function_call("echo", {"text": "x"}, call_id="call_1")]])
    async with MCPPool(own_toy.url, size=1, tool_meta_resolver=user_meta) as pool:
        agent = Agent(name="tasks", model=model, mcp_servers=[pool])
        own_toy.kill()  # after connect, so the agent still sees the cached tools
        with pytest.raises(AgentsException) as caught:
            await Runner.run(agent, "echo x", context={"user_id": "bob"})
    # The SDK wraps tool exceptions; the pool's own error is the cause.
    assert isinstance(caught.value.__cause__, MCPUnavailable)
