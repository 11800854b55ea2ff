"""More than one process: worker processes per server, and chat servers sharing one database."""

import asyncio
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from mcp_server.tasks import TaskQuery, list_tasks
from shared.db import make_engine
from testbed.servers import Server, free_port, start_server
from tests.e2e.stack import Stack, running_stack
from tests.reliability.harness import AsyncChat, assert_answered, ok_turn

pytestmark = pytest.mark.e2e

ERRANDS = 10


def titles_of(database_url: str, user_id: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            page = list_tasks(session, user_id=user_id, query=TaskQuery(limit=100))
            return sorted(task["title"] for task in page["tasks"])
    finally:
        engine.dispose()


def worker_pids(server: Server) -> list[int]:
    """The worker processes uvicorn started under `server`'s process."""
    found = subprocess.run(
        ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
    )
    # multiprocessing also starts a resource tracker there; workers run spawn_main.
    return [
        int(pid)
        for pid in found.stdout.split()
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


@pytest.fixture
def second_chat() -> Iterator[Any]:
    """Starts another chat server next to a stack's, on the same database and task server."""
    started: list[Server] = []

    def start(stack: Stack) -> Server:
        assert stack.mcp is not None
        port = free_port()
        env = {
            **stack.mcp_env,
            "CHAT_PORT": str(port),
            "MCP_SERVER_URL": f"http://127.0.0.1:{stack.mcp.port}/mcp",
        }
        started.append(start_server("chat_server", env, port))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def test_both_servers_run_the_worker_processes_asked_for(sqlite_url: str) -> None:
    with running_stack(sqlite_url, WEB_CONCURRENCY="2", MCP_WORKERS="2") as stack:
        assert stack.chat is not None and stack.mcp is not None
        assert (len(worker_pids(stack.chat)), len(worker_pids(stack.mcp))) == (2, 2)
        # Every series is listed from the start, at 0, though no worker has counted yet.
        chat_metrics = httpx.get(f"{stack.chat.base_url}/metrics").text
        mcp_metrics = httpx.get(f"{stack.mcp.base_url}/metrics").text
        for line in ('taskchat_chat_turns_total{outcome="ok"} 0.0',
                     'taskchat_tool_calls_total{outcome="failed",tool="add_task"} 0.0',
                     'taskchat_rate_limit_refusals_total{scope="chat"} 0.0'):  # fmt: skip
            assert line in chat_metrics.splitlines(), line
        for line in ('taskchat_mcp_tool_calls_total{outcome="crash",tool="delete_task"} 0.0',
                     'taskchat_mcp_tool_seconds_count{tool="list_tasks"} 0.0',
                     'taskchat_rate_limit_refusals_total{scope="mcp"} 0.0'):  # fmt: skip
            assert line in mcp_metrics.splitlines(), line
        chat = stack.client()
        for n in range(6):
            assert chat.create(f"add worker task {n}").tools == ["add_task"]
        assert titles_of(sqlite_url, "local") == [f"Worker task {n}" for n in range(6)]


async def test_messages_sent_at_once_into_one_thread_through_two_chat_servers_are_answered_in_turn(
    database_url: str, second_chat: Any
) -> None:
    with running_stack(database_url) as stack:
        assert stack.chat is not None
        other = second_chat(stack)
        async with httpx.AsyncClient(timeout=60) as http:
            chats = [AsyncChat(s.base_url, None, http) for s in (stack.chat, other)]
            thread = ok_turn(await chats[0].create("add first thing")).thread_id
            responses = await asyncio.gather(
                *(chats[n % 2].say(thread, f"add errand {n}") for n in range(ERRANDS))
            )
            items = await chats[1].items(thread)
    for n, response in enumerate(responses):
        # Each reply names the task its own message asked for, not the other's.
        assert re.search(rf"Added task \d+: Errand {n}\.", ok_turn(response).reply)
    assert titles_of(database_url, "local") == sorted(
        ["First thing", *(f"Errand {n}" for n in range(ERRANDS))]
    )
    assert_answered(items)
    assert len([i for i in items if i["type"] == "user_message"]) == ERRANDS + 1


def test_a_worker_that_dies_is_replaced_and_the_log_says_why(
    sqlite_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {"DATABASE_URL": sqlite_url, "MCP_PORT": str(port), "MCP_WORKERS": "2"}
    log_path = tmp_path / "mcp_server.log"
    with log_path.open("wb") as log:
        server = start_server("mcp_server", env, port, log=log)
    try:
        victim = worker_pids(server)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while victim in (pids := worker_pids(server)) or len(pids) < 2:
            assert time.monotonic() < deadline, f"no replacement for worker {victim}: {pids}"
            time.sleep(0.2)
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    finally:
        server.stop()
    assert f"worker process [{victim}] was killed by SIGKILL" in log_path.read_text()
