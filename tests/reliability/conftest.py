"""Fixtures of the reliability suite: one PostgreSQL-backed stack (JWT mode) shared by its tests.

Starting both servers costs seconds, so the suite starts them once and stops them when it
ends (package scope); tests keep apart by using fresh user ids, and every test leaves the
stack running with the database reachable (the `stack` fixture restarts a process a test
killed, and lets both roles back in).
"""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from testbed.servers import Server, free_port, start_server
from tests.conftest import POSTGRES_URL, _postgres_or_fail
from tests.reliability.harness import HTTP_TIMEOUT, JWT_ENV, SplitStack
from tests.reliability.pg import PgSandbox, create_sandbox

# Load tests send hundreds of requests a minute per user; the limits themselves are tested
# elsewhere.
STACK_ENV = {
    **JWT_ENV,
    "TASKCHAT_MODEL": "offline",
    "TASKCHAT_TIMEZONE": "UTC",
    "RATE_LIMIT": "100000/minute",
    "MCP_RATE_LIMIT": "100000/minute",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "reliability: fault, load, isolation and abuse tests against real servers"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="package")
def pg_sandbox() -> Iterator[PgSandbox]:
    """Our schema on the real PostgreSQL, with one login role per server."""
    _postgres_or_fail()
    sandbox = create_sandbox(POSTGRES_URL)
    try:
        yield sandbox
    finally:
        sandbox.come_back()
        sandbox.drop()


@pytest.fixture(scope="package")
def pg_stack(pg_sandbox: PgSandbox) -> Iterator[SplitStack]:
    """Both servers on PostgreSQL in JWT mode, each as its own database role."""
    stack = SplitStack(
        pg_sandbox.url("mcp"), dict(STACK_ENV), chat_database_url=pg_sandbox.url("chat")
    )
    try:
        stack.start_mcp()
        stack.start_chat()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def stack(pg_stack: SplitStack, pg_sandbox: PgSandbox) -> Iterator[SplitStack]:
    """The shared stack, whole and connected, however the previous test left it."""
    pg_sandbox.come_back()
    pg_stack.ensure_running()
    yield pg_stack
    pg_sandbox.come_back()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An async HTTP client with bounded timeouts and room for hundreds of connections."""
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits) as client:
        yield client


@pytest.fixture(scope="package")
def slow_stack(pg_stack: SplitStack, pg_sandbox: PgSandbox) -> Iterator[tuple[Server, Server]]:
    """A second chat server on the same database and task server, whose model talks slowly."""
    model_port = free_port()
    model = start_server("tests.reliability.slow_openai", {}, model_port, args=(str(model_port),))
    chat_port = free_port()
    env = {
        **pg_stack.env,
        "DATABASE_URL": pg_sandbox.url("chat"),
        "CHAT_PORT": str(chat_port),
        "MCP_SERVER_URL": pg_stack.mcp_url,
        "TASKCHAT_MODEL": "slow",
        "OPENAI_BASE_URL": f"{model.base_url}/v1",
        "OPENAI_API_KEY": "sk-test",
    }
    try:
        chat = start_server("chat_server", env, chat_port)
        try:
            yield chat, model
        finally:
            chat.stop()
    finally:
        model.stop()


@dataclass
class LoggedServer:
    """A server process whose stdout and stderr go to a file."""

    server: Server
    log_path: Path

    def stop_and_read_log(self) -> str:
        """Stop the server, which first finishes what it was handling, and return its log."""
        self.server.stop()
        return self.log_path.read_text()


@pytest.fixture
def logged_chat(stack: SplitStack, pg_sandbox: PgSandbox, tmp_path: Path) -> Iterator[LoggedServer]:
    """A chat server of its own on the shared database and task server, logging to a file."""
    port = free_port()
    env = {
        **stack.env,
        "DATABASE_URL": pg_sandbox.url("chat"),
        "CHAT_PORT": str(port),
        "MCP_SERVER_URL": stack.mcp_url,
    }
    log_path = tmp_path / "chat_server.log"
    with log_path.open("wb") as log:
        server = start_server("chat_server", env, port, log=log)
    try:
        yield LoggedServer(server, log_path)
    finally:
        server.stop()
