"""The chat app in-process (real SQLite store, scripted model, fake MCP server) and a
small ChatKit client for it, shared by the in-process test modules."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from agents.testing import ScriptedModel

from chat_server.app import create_app
from shared.settings import Settings
from testbed.sse import sse_json
from tests.chat_server.fakes import FakeTaskServer


@dataclass
class Harness:
    client: httpx.AsyncClient
    mcp: FakeTaskServer
    model: ScriptedModel
    settings: Settings


@asynccontextmanager
async def harness(tmp_path: Any, steps: list[Any] = (), **overrides: Any) -> AsyncIterator[Harness]:
    settings = Settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'chat.db'}", **overrides
    )
    mcp = FakeTaskServer()
    model = ScriptedModel(list(steps))
    app = create_app(settings, model=model, mcp_server=mcp)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield Harness(client, mcp, model, settings)


def user_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    return sse_json(response.text)


async def post(client: httpx.AsyncClient, request: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return await client.post("/chatkit", json=request, **kwargs)


async def create_thread(client: httpx.AsyncClient, text: str, **kwargs: Any) -> list[dict]:
    response = await post(
        client, {"type": "threads.create", "params": {"input": user_input(text)}}, **kwargs
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    return sse_events(response)


def done_items(events: list[dict]) -> list[dict]:
    return [e["item"] for e in events if e["type"] == "thread.item.done"]


def assistant_texts(events: list[dict]) -> list[str]:
    return [
        part["text"]
        for item in done_items(events)
        if item["type"] == "assistant_message"
        for part in item["content"]
    ]


async def items_of(client: httpx.AsyncClient, thread_id: str, **kwargs: Any) -> list[dict]:
    response = await post(
        client, {"type": "items.list", "params": {"thread_id": thread_id, "order": "asc"}}, **kwargs
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]
