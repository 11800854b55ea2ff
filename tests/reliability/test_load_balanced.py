"""The multi-instance deployment: 2 chat + 2 MCP instances behind HAProxy (deploy/haproxy.cfg),
one PostgreSQL schema, one Redis. The chat instances reach the MCP instances through HAProxy too.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from testbed.servers import Server, free_port, start_haproxy, start_server
from tests.conftest import postgres_schema, redis_or_fail
from tests.e2e.stack import user_input
from tests.reliability.conftest import STACK_ENV
from tests.reliability.harness import (
    AsyncChat,
    assert_answered,
    fresh_user,
    ok_turn,
    sse_events,
    token,
)

pytestmark = pytest.mark.timeout(180)

RATE = 40
POOL_SIZE = 4  # each chat instance's MCP_POOL_SIZE
ADDED = re.compile(r"Added task (\d+): (Lb task \d+)\.")


@dataclass
class Balanced:
    """The running topology: the load balancer's chat frontend and every instance."""

    url: str
    database_url: str
    instances: dict[str, Server]
    haproxy: Server
    # The load balancer's MCP front end.
    mcp_url: str = ""

    def stop(self) -> None:
        for server in [self.haproxy, *self.instances.values()]:
            server.stop()

    def kill(self, name: str) -> None:
        """SIGKILL one instance: no shutdown, no goodbye to its clients."""
        process = self.instances[name].process
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def tasks(self, users: list[str]) -> list[str]:
        """The titles of every task these users own, straight from the table."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT title FROM task WHERE user_id = ANY(:users)"), {"users": users}
                )
                return [row[0] for row in rows]
        finally:
            engine.dispose()


def wait_for_both(url: str, names: set[str], log: Path, timeout: float = 30) -> None:
    """Poll through the load balancer until every instance behind it has answered.

    An instance HAProxy marked down (a slow check on a busy machine) is back after two
    passing checks, about 2 s, so this waits by the clock rather than counting polls.
    """
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.add(httpx.get(f"{url}/healthz", timeout=5).headers.get("x-served-by", ""))
        if names <= seen:
            return
        time.sleep(0.05)
    raise AssertionError(f"only {seen} answered through HAProxy; its log:\n{log.read_text()}")


METRICS_TOKEN = "metrics-token-for-the-load-balanced-tests"


@pytest.fixture
def balanced(tmp_path: Path) -> Iterator[Balanced]:
    """2 MCP and 2 chat instances on one fresh schema and Redis, HAProxy in front."""
    if shutil.which("haproxy") is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is missing in CI (.ci/run installs Debian's package)")
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    redis = redis_or_fail()
    ports = {name: free_port() for name in ("chat_lb", "mcp_lb", "chat1", "chat2", "mcp1", "mcp2")}
    env = {
        **STACK_ENV,
        "RATE_LIMIT": f"{RATE}/minute",
        "RATE_LIMIT_STORAGE_URL": redis,
        "MCP_POOL_SIZE": str(POOL_SIZE),
        "MCP_SERVER_URL": f"http://127.0.0.1:{ports['mcp_lb']}/mcp",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    with postgres_schema("lb") as database_url:
        env["DATABASE_URL"] = database_url
        instances: dict[str, Server] = {}
        logs = {name: (tmp_path / f"{name}.log").open("wb") for name in [*ports, "haproxy"]}
        try:
            # One after the other: each creates the tables it needs if missing.
            for name in ("mcp1", "mcp2", "chat1", "chat2"):
                module = "mcp_server" if name.startswith("mcp") else "chat_server"
                port_env = {"MCP_PORT" if module == "mcp_server" else "CHAT_PORT": str(ports[name])}
                instances[name] = start_server(
                    module, {**env, **port_env}, ports[name], log=logs[name]
                )
            addresses = {
                "CHAT_BIND": f"127.0.0.1:{ports['chat_lb']}",
                "MCP_BIND": f"127.0.0.1:{ports['mcp_lb']}",
                **{name.upper(): f"127.0.0.1:{ports[name]}" for name in instances},
            }
            haproxy = start_haproxy(addresses, logs["haproxy"])
            mcp_url = f"http://127.0.0.1:{ports['mcp_lb']}"
            topology = Balanced(haproxy.base_url, database_url, instances, haproxy, mcp_url)
            try:
                haproxy_log = tmp_path / "haproxy.log"
                wait_for_both(haproxy.base_url, {"chat1", "chat2"}, haproxy_log)
                wait_for_both(f"http://127.0.0.1:{ports['mcp_lb']}", {"mcp1", "mcp2"}, haproxy_log)
                yield topology
            finally:
                topology.stop()
        finally:
            for server in instances.values():
                server.stop()
            for log in logs.values():
                log.close()


@dataclass
class Outcome:
    """What one streamed turn through the load balancer came to."""

    served_by: str | None
    status: int | None = None
    events: list[dict] = field(default_factory=list)
    broken: str | None = None

    @property
    def added(self) -> str | None:
        """The title of the task the reply says it added, if it says so."""
        if self.status != 200 or self.broken or any(e["type"] == "error" for e in self.events):
            return None
        texts = [
            part["text"]
            for e in self.events
            if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
            for part in e["item"]["content"]
        ]
        match = ADDED.search("\n".join(texts))
        return match[2] if match else None


async def streamed_turn(http: httpx.AsyncClient, url: str, user: str, text: str) -> Outcome:
    """A new thread with one message, read as a stream so a cut-off answer still says who."""
    request = {"type": "threads.create", "params": {"input": user_input(text)}}
    headers = {"Authorization": f"Bearer {token(user)}", "Content-Type": "application/json"}
    try:
        async with http.stream(
            "POST", f"{url}/chatkit", content=json.dumps(request), headers=headers
        ) as response:
            outcome = Outcome(response.headers.get("x-served-by"), response.status_code)
            try:
                outcome.events = sse_events((await response.aread()).decode())
            except httpx.HTTPError as exc:
                outcome.broken = repr(exc)
            return outcome
    except httpx.HTTPError as exc:
        return Outcome(None, broken=repr(exc))


async def test_two_hundred_turns_from_eight_users_through_the_load_balancer_all_succeed(
    balanced: Balanced, http: httpx.AsyncClient
) -> None:
    users = [fresh_user(f"lb{n}") for n in range(8)]
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *(
                streamed_turn(http, balanced.url, users[n % 8], f"add lb task {n}")
                for n in range(200)
            )
        ),
        timeout=150,
    )
    assert [o for o in outcomes if o.added is None] == []
    assert sorted(o.added for o in outcomes) == sorted(f"Lb task {n}" for n in range(200))
    assert sorted(balanced.tasks(users)) == sorted(f"Lb task {n}" for n in range(200))
    assert {o.served_by for o in outcomes} == {"chat1", "chat2"}


async def test_messages_sent_at_once_into_one_thread_through_two_instances_are_answered_in_turn(
    balanced: Balanced, http: httpx.AsyncClient
) -> None:
    alice = fresh_user("alice")
    chats = [
        AsyncChat(balanced.instances[name].base_url, token(alice), http)
        for name in ("chat1", "chat2")
    ]
    thread = ok_turn(await chats[0].create("add first thing")).thread_id
    responses = await asyncio.gather(
        *(chats[n % 2].say(thread, f"add errand {n}") for n in range(8))
    )
    for n, response in enumerate(responses):
        assert re.search(rf"Added task \d+: Errand {n}\.", ok_turn(response).reply)
    assert sorted(balanced.tasks([alice])) == sorted(
        ["First thing", *(f"Errand {n}" for n in range(8))]
    )
    assert_answered(await chats[1].items(thread))


async def test_the_rate_limit_is_counted_across_chat_instances(
    balanced: Balanced, http: httpx.AsyncClient
) -> None:
    bob = fresh_user("bob")
    chats = [
        AsyncChat(balanced.instances[name].base_url, token(bob), http)
        for name in ("chat1", "chat2")
    ]
    listing = {"type": "threads.list", "params": {"limit": 1}}
    statuses = [(await chats[n % 2].post(listing)).status_code for n in range(RATE)]
    assert statuses == [200] * RATE
    for chat in chats:
        refused = await chat.post(listing)
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1


async def test_killing_a_chat_and_an_mcp_instance_mid_load_fails_only_the_chat_ones(
    balanced: Balanced, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    users = [fresh_user(f"kill{n}") for n in range(8)]
    outcomes: list[Outcome] = []
    killed_at: list[int] = []
    mid_load = asyncio.Event()

    async def keep_adding(user: str, first: int) -> None:
        for n in range(first, first + 20):
            outcomes.append(await streamed_turn(http, balanced.url, user, f"add lb task {n}"))
            if len(outcomes) >= 40:
                mid_load.set()

    async def kill_mid_load() -> None:
        await mid_load.wait()
        # Off the loop, so the load goes on meanwhile.
        await asyncio.to_thread(
            kill_with_calls_in_flight, balanced, lambda: killed_at.append(len(outcomes))
        )

    await asyncio.wait_for(
        asyncio.gather(
            kill_mid_load(), *(keep_adding(user, 20 * n) for n, user in enumerate(users))
        ),
        timeout=150,
    )
    failed = [o for o in outcomes if o.added is None]
    # Only turns that chat1 was answering (a stream cut off, or HAProxy's 502 for a request
    # it had passed to chat1 before the answer began) fail, at most one per user.
    assert all(o.served_by in ("chat1", None) for o in failed), failed
    assert len(failed) <= len(users), failed
    after = outcomes[killed_at[0] + len(users) :]
    assert len(after) >= 100 and all(o.added for o in after), [o for o in after if not o.added]
    added = [o.added for o in outcomes if o.added]
    stored = balanced.tasks(users)
    assert len(stored) == len(set(stored)), "a task was added twice"
    assert set(added) <= set(stored)
    # mcp1 died with calls of chat2 in flight: HAProxy answered 502 for them, and the turns
    # still succeeded because chat2's pool sent those calls again, to mcp2.
    log = (tmp_path / "chat2.log").read_text()
    cut_off = re.findall(r"the call to add_task was cut off \(.*\); sending it again", log)
    assert cut_off, "no call was in flight on mcp1 when it was killed"
    print(f"{len(failed)} of {len(outcomes)} turns failed, each on the killed chat instance; "
          f"{len(cut_off)} calls cut off on mcp1 were sent again")  # fmt: skip


def kill_with_calls_in_flight(balanced: Balanced, killing: Callable[[], None]) -> None:
    """SIGKILL chat1, then mcp1 while chat2's tool calls wait inside both MCP instances.

    A lock on the task table holds every add_task in the database until all of chat2's
    pooled calls wait on it; HAProxy spreads them over both MCP instances, so mcp1 surely
    dies in the middle of some of them.
    """
    killing()
    balanced.kill("chat1")
    engine = create_engine(balanced.database_url)
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("LOCK TABLE task IN ACCESS EXCLUSIVE MODE"))
            with engine.connect() as probe:
                for _ in range(400):
                    if probe.execute(waiting).scalar_one() >= POOL_SIZE:
                        break
                    time.sleep(0.05)
                else:
                    raise AssertionError("chat2's calls never reached the database")
            balanced.kill("mcp1")
    finally:
        engine.dispose()


async def test_metrics_are_scraped_from_each_instance_never_through_the_load_balancer(
    balanced: Balanced, http: httpx.AsyncClient
) -> None:
    scrape = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    for path in ("/metrics", "/metrics?x=1", "/metrics/"):
        through = await http.get(f"{balanced.url}{path}", headers=scrape)
        assert through.status_code == 404, (path, through.text)
    through_mcp = await http.get(f"{balanced.mcp_url}/metrics", headers=scrape)
    assert through_mcp.status_code == 404, through_mcp.text
    for name, instance in balanced.instances.items():
        direct = await http.get(f"{instance.base_url}/metrics", headers=scrape)
        assert direct.status_code == 200, name
        assert (await http.get(f"{instance.base_url}/metrics")).status_code == 401, name
