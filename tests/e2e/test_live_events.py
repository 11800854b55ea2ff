"""Live task events end to end: a direct MCP call shows up on a chat server's /api/events.

Both servers run as real processes on SQLite and on PostgreSQL, in JWT mode so that two
users exist; the tools are called with the official MCP client, as another agent would.
"""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from shared.auth import mint_jwt
from shared.settings import Settings
from tests.e2e.stack import SECRET, SERVICE_TOKEN, Stack, running_stack

pytestmark = pytest.mark.e2e

SETTINGS = Settings(_env_file=None, jwt_secret=SECRET)
DEADLINE_SECONDS = 1.0


def token(user_id: str, ttl_seconds: int = 3600) -> str:
    return mint_jwt(user_id, SETTINGS, ttl_seconds=ttl_seconds)


@asynccontextmanager
async def agent(stack: Stack, user_id: str) -> AsyncIterator[Client]:
    """Another agent: the official MCP client straight to the MCP server, as `user_id`."""
    assert stack.mcp is not None
    headers = {"Authorization": f"Bearer {token(user_id)}"}
    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(f"{stack.mcp.base_url}/mcp", http_client=http)
        async with Client(transport) as client:  # type: ignore[arg-type]
            yield client


class Stream:
    """A user's /api/events stream, read in the background into a queue of (event, data)."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def read(self, response: httpx.Response) -> None:
        name, data = "message", ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and data:
                await self.events.put((name, json.loads(data)))
                name, data = "message", ""

    async def next(self, within: float) -> tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), within)


@asynccontextmanager
async def stream_of(stack: Stack, user_id: str) -> AsyncIterator[Stream]:
    """An open event stream for `user_id`, once the server says it is live."""
    assert stack.chat is not None
    stream = Stream()
    headers = {"Authorization": f"Bearer {token(user_id)}"}
    async with (
        httpx.AsyncClient(base_url=stack.chat.base_url, headers=headers, timeout=None) as http,
        http.stream("GET", "/api/events") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.create_task(stream.read(response))
        try:
            assert (await stream.next(within=10))[0] == "ready"
            yield stream
        finally:
            reader.cancel()


async def called(client: Client, tool: str, **args: Any) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    return result.structured_content


async def test_a_direct_mcp_call_reaches_only_its_users_stream_within_a_second(
    database_url: str,
) -> None:
    ann, bob = f"ann-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    env = {"JWT_SECRET": SECRET, "MCP_SERVICE_TOKEN": SERVICE_TOKEN}
    with running_stack(database_url, **env) as stack:
        async with (
            stream_of(stack, ann) as anns,
            stream_of(stack, bob) as bobs,
            agent(stack, ann) as client,
        ):
            latencies = []
            added = await called(client, "add_task", title="Buy milk", recurrence="daily")
            task_id = added["task_id"]
            steps: list[tuple[str, dict[str, Any], list[dict[str, Any]]]] = [
                ("update_task", {"task_id": task_id, "priority": "high"},
                 [{"task_id": task_id, "status": "updated"}]),
                ("complete_task", {"task_id": task_id},
                 [{"task_id": task_id, "status": "completed"}]),
                ("complete_task", {"task_id": task_id, "completed": False},
                 [{"task_id": task_id, "status": "reopened"}]),
                ("delete_task", {"task_id": task_id},
                 [{"task_id": task_id, "status": "deleted"}]),
            ]
            assert await anns.next(DEADLINE_SECONDS) == (
                "task", {"task_id": task_id, "status": "created"}
            )
            for tool, args, expected in steps:
                started = time.monotonic()
                result = await called(client, tool, **args)
                heard = list(expected)
                if result["next_task"] is not None:  # completing a daily task makes the next
                    heard.append({"task_id": result["next_task"]["id"], "status": "created"})
                for event in heard:
                    assert await anns.next(DEADLINE_SECONDS) == ("task", event)
                latencies.append(time.monotonic() - started)
            assert max(latencies) < DEADLINE_SECONDS
            print(f"event latency: max {max(latencies) * 1000:.0f} ms")
            # Bob's stream heard nothing of all that.
            with pytest.raises(TimeoutError):
                await bobs.next(within=DEADLINE_SECONDS)


async def test_the_event_stream_needs_a_signed_in_user(sqlite_url: str) -> None:
    env = {"JWT_SECRET": SECRET, "MCP_SERVICE_TOKEN": SERVICE_TOKEN}
    with running_stack(sqlite_url, **env) as stack:
        assert stack.chat is not None
        async with httpx.AsyncClient(base_url=stack.chat.base_url) as http:
            response = await http.get("/api/events")
        assert response.status_code == 401


async def test_a_stream_that_outlives_its_token_is_told_so_and_ended(sqlite_url: str) -> None:
    env = {"JWT_SECRET": SECRET, "MCP_SERVICE_TOKEN": SERVICE_TOKEN}
    with running_stack(sqlite_url, **env) as stack:
        assert stack.chat is not None
        headers = {"Authorization": f"Bearer {token('ann', ttl_seconds=3)}"}
        stream = Stream()
        async with (
            httpx.AsyncClient(base_url=stack.chat.base_url, headers=headers, timeout=10) as http,
            http.stream("GET", "/api/events") as response,
        ):
            assert response.status_code == 200
            # Read to the end: the server, not the client, closes the stream.
            await asyncio.wait_for(stream.read(response), timeout=10)
        assert stream.events.get_nowait() == ("ready", {})
        name, data = stream.events.get_nowait()
        assert (name, data["error"]) == ("expired", "token_expired")
        # The same token cannot open a new one.
        async with httpx.AsyncClient(base_url=stack.chat.base_url, headers=headers) as http:
            assert (await http.get("/api/events")).status_code == 401
