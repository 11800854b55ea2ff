"""The reliability suite's tools: a stack with one database role per server, async ChatKit
and MCP clients, and the checks every fault test makes on what a user was told."""

import asyncio
import json
import os
import signal
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from shared.auth import mint_jwt
from shared.contract import USER_META_KEY
from shared.settings import Settings
from testbed.servers import free_port, start_server
from testbed.sse import sse_json
from tests.e2e.stack import SECRET, SERVICE_TOKEN, Stack, Turn, user_input

T = TypeVar("T")

JWT_ENV = {"JWT_SECRET": SECRET, "MCP_SERVICE_TOKEN": SERVICE_TOKEN}
# Every request of the suite is bounded; a turn on a loaded 2-core machine takes well under this.
HTTP_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
_settings = Settings(_env_file=None, jwt_secret=SECRET)  # type: ignore[call-arg]


def token(user_id: str) -> str:
    """A user JWT the stack accepts."""
    return mint_jwt(user_id, _settings)


def fresh_user(name: str) -> str:
    """A user id no earlier test or example has used, so data never carries over."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


@dataclass
class SplitStack(Stack):
    """A Stack whose chat server may use a database URL of its own (another role)."""

    chat_database_url: str | None = None

    def start_chat(self) -> None:
        assert self.mcp is not None
        port = self.chat.port if self.chat else free_port()
        env = {
            **self.env,
            "DATABASE_URL": self.chat_database_url or self.database_url,
            "CHAT_PORT": str(port),
            "MCP_SERVER_URL": f"http://127.0.0.1:{self.mcp.port}/mcp",
        }
        self.chat = start_server("chat_server", env, port)

    def kill_mcp(self) -> None:
        """SIGKILL the MCP server: no shutdown, no goodbye to its clients or the database."""
        assert self.mcp is not None
        os.kill(self.mcp.process.pid, signal.SIGKILL)
        self.mcp.process.wait(timeout=10)

    def ensure_running(self) -> None:
        """Restart whichever process a previous test left dead."""
        if self.mcp is None or self.mcp.process.poll() is not None:
            self.start_mcp()
        if self.chat is None or self.chat.process.poll() is not None:
            self.start_chat()

    @property
    def mcp_url(self) -> str:
        assert self.mcp is not None
        return f"{self.mcp.base_url}/mcp"


# --- ChatKit over HTTP, async -------------------------------------------------------


def sse_events(body: str) -> list[dict[str, Any]]:
    """The JSON events of a whole SSE body."""
    return sse_json(body)


class AsyncChat:
    """Speaks ChatKit JSON to the chat server for one user, without asserting anything."""

    def __init__(self, base_url: str, user_token: str | None, http: httpx.AsyncClient) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {user_token}"} if user_token else {}
        self.http = http

    async def post(self, request: dict[str, Any] | bytes) -> httpx.Response:
        content = request if isinstance(request, bytes) else json.dumps(request).encode()
        return await self.http.post(
            f"{self.base_url}/chatkit",
            content=content,
            headers={**self.headers, "Content-Type": "application/json"},
        )

    async def turn(self, request: dict[str, Any]) -> httpx.Response:
        """A streaming request, read to its end."""
        return await self.post(request)

    async def create(self, text: str) -> httpx.Response:
        return await self.post({"type": "threads.create", "params": {"input": user_input(text)}})

    async def say(self, thread_id: str, text: str) -> httpx.Response:
        return await self.post(
            {
                "type": "threads.add_user_message",
                "params": {"thread_id": thread_id, "input": user_input(text)},
            }
        )

    async def items(self, thread_id: str) -> list[dict[str, Any]]:
        response = await self.post(
            {"type": "items.list", "params": {"thread_id": thread_id, "order": "asc", "limit": 100}}
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]


def ok_turn(response: httpx.Response) -> Turn:
    """A streamed turn that worked: HTTP 200, SSE, and no error event."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream"), response.headers
    events = sse_events(response.text)
    assert not [e for e in events if e["type"] == "error"], events
    return Turn(events)


def readable_failure(response: httpx.Response) -> str:
    """What the user was told when a request could not be carried out; fails on a bad shape.

    Acceptable: a JSON error body with a message (4xx/503), or a stream whose error event
    carries a message, or a stream that ends in an assistant message. Never a 500, never a
    bare stream error, never a stream cut short.
    """
    assert response.status_code != 500, response.text
    if response.status_code != 200:
        body = response.json()
        assert isinstance(body.get("message"), str) and body["message"], body
        return body["message"]
    events = sse_events(response.text)
    assert events, f"empty stream: {response.text!r}"
    errors = [e for e in events if e["type"] == "error"]
    for error in errors:
        assert error.get("message"), f"bare stream error: {error}"
    if errors:
        return errors[-1]["message"]
    turn = Turn(events)
    assert turn.reply, f"stream ended without an answer: {events}"
    return turn.reply


def conversation(items: list[dict[str, Any]]) -> list[str]:
    """The user and assistant messages of a thread as "user: text" / "assistant: text" lines."""
    lines = []
    for item in items:
        if item["type"] == "user_message":
            lines.append("user: " + "".join(part["text"] for part in item["content"]))
        elif item["type"] == "assistant_message":
            lines.append("assistant: " + "".join(part["text"] for part in item["content"]))
    return lines


def assert_answered(items: list[dict[str, Any]]) -> None:
    """Each user message is followed by exactly one assistant message before the next one."""
    roles = [line.split(":", 1)[0] for line in conversation(items)]
    assert roles == ["user", "assistant"] * (len(roles) // 2) and len(roles) % 2 == 0, roles


# --- MCP over HTTP --------------------------------------------------------------------


@asynccontextmanager
async def mcp_client(url: str, bearer: str, seconds: float = 30.0) -> AsyncIterator[Client]:
    """The official MCP client on streamable HTTP with a bearer token."""
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {bearer}"}, timeout=httpx2.Timeout(seconds + 5)
    )
    transport = streamable_http_client(url, http_client=http)
    async with http, Client(transport, cache=None, read_timeout_seconds=seconds) as client:
        yield client


async def call(
    client: Client, tool: str, args: dict[str, Any], as_user: str | None = None
) -> CallToolResult:
    """Call a tool, naming the acting user in `_meta` when `as_user` is given."""
    meta: Any = {USER_META_KEY: as_user} if as_user is not None else None
    return await client.call_tool(tool, args, meta=meta)


def tool_text(result: CallToolResult) -> str:
    """The single text block of a tool result."""
    return "".join(getattr(block, "text", "") for block in result.content)


class BackgroundLoop:
    """An event loop in a thread of its own, for async clients inside synchronous code
    (hypothesis state machines); every run is bounded by a timeout."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> "BackgroundLoop":
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    def run(self, coro: Coroutine[Any, Any, T], seconds: float = 60) -> T:
        """Run `coro` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(seconds)
