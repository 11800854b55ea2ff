"""`GET /api/events` in-process: the per-user stream limit under concurrent opens, chat
changes told to their own user only, and streams that end when the token that opened them
expires.

Driven over raw ASGI rather than httpx's ASGITransport, which waits for the whole
response: an event stream never ends by itself.
"""

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from agents.testing import ScriptedModel
from fastapi import FastAPI

from chat_server.app import create_app
from chat_server.web.events import STREAMS_PER_USER, EventHub
from shared.auth import mint_jwt
from shared.settings import Settings
from tests.chat_server.fakes import FakeTaskServer

SECRET = "events-test-secret-that-is-long-enough-for-hs256"
SERVICE_TOKEN = "events-test-service-token-of-32-characters"


@asynccontextmanager
async def jwt_app(tmp_path: Any) -> AsyncIterator[tuple[FastAPI, Settings]]:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'chat.db'}",
        jwt_secret=SECRET,
        mcp_service_token=SERVICE_TOKEN,
    )
    app = create_app(settings, model=ScriptedModel([]), mcp_server=FakeTaskServer())
    async with app.router.lifespan_context(app):
        yield app, settings


@dataclass
class Call:
    """One request to the app over raw ASGI, running in the background."""

    status: asyncio.Future[int]
    body: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    hang_up: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def text_until(self, marker: str, within: float) -> str:
        """The body read so far, once it holds `marker`."""
        text = ""
        async with asyncio.timeout(within):
            while marker not in text:
                text += (await self.body.get()).decode()
        return text


def start(app: FastAPI, token: str) -> Call:
    """Send `GET /api/events` with `token`; the client stays until `hang_up` is set."""
    call = Call(asyncio.get_running_loop().create_future())
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/events",
        "raw_path": b"/api/events",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"accept", b"text/event-stream"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await call.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            call.status.set_result(message["status"])
        elif message["type"] == "http.response.body":
            call.body.put_nowait(message.get("body", b""))

    call.task = asyncio.create_task(app(scope, receive, send))
    return call


async def finish(calls: list[Call]) -> None:
    for call in calls:
        call.hang_up.set()
    async with asyncio.timeout(10):
        await asyncio.gather(*(call.task for call in calls if call.task))


async def test_300_concurrent_opens_give_exactly_the_limit_and_429_to_the_rest(
    tmp_path: Path,
) -> None:
    async with jwt_app(tmp_path) as (app, settings):
        hub: EventHub = app.state.event_hub
        token = mint_jwt("ann", settings)
        calls = [start(app, token) for _ in range(300)]
        async with asyncio.timeout(30):
            statuses = await asyncio.gather(*(call.status for call in calls))
        assert statuses.count(200) == STREAMS_PER_USER
        assert statuses.count(429) == 300 - STREAMS_PER_USER
        assert hub.stream_count("ann") == STREAMS_PER_USER
        refused = next(call for call, status in zip(calls, statuses, strict=True) if status == 429)
        assert '"error":"too_many_streams"' in await refused.text_until("}", within=5)
        # Another user's room is their own.
        bobs = start(app, mint_jwt("bob", settings))
        assert await bobs.status == 200
        await finish([*calls, bobs])
        # Every slot came back, so a new stream opens again.
        assert hub.stream_count("ann") == 0
        again = start(app, token)
        assert await again.status == 200
        await finish([again])


async def test_a_stream_ends_with_expired_when_its_token_expires(tmp_path: Path) -> None:
    async with jwt_app(tmp_path) as (app, settings):
        call = start(app, mint_jwt("ann", settings, ttl_seconds=2))
        assert await call.status == 200
        assert "event: ready" in await call.text_until("event: ready", within=5)
        text = await call.text_until("event: expired", within=5)
        assert '"error": "token_expired"' in text
        # The server ended the response itself: the client never hung up.
        async with asyncio.timeout(5):
            assert call.task is not None
            await call.task
        assert not call.hang_up.is_set()
        assert app.state.event_hub.stream_count("ann") == 0


async def test_a_stream_with_a_long_lived_token_stays_open(tmp_path: Path) -> None:
    async with jwt_app(tmp_path) as (app, settings):
        call = start(app, mint_jwt("ann", settings, ttl_seconds=3600))
        assert await call.status == 200
        await call.text_until("event: ready", within=5)
        with pytest.raises(TimeoutError):
            await call.text_until("event: expired", within=1.5)
        await finish([call])


async def test_an_expired_token_cannot_open_a_stream(tmp_path: Path) -> None:
    async with jwt_app(tmp_path) as (app, settings):
        call = start(app, mint_jwt("ann", settings, ttl_seconds=-1))
        assert await call.status == 401
        await finish([call])


async def test_clients_that_hang_up_at_once_give_their_stream_slots_back(tmp_path: Path) -> None:
    async with jwt_app(tmp_path) as (app, settings):
        token = mint_jwt("ann", settings)
        for _ in range(2):
            calls = [start(app, token) for _ in range(STREAMS_PER_USER)]
            for call in calls:
                call.hang_up.set()  # gone before the stream's first event
            await finish(calls)
            assert app.state.event_hub.stream_count("ann") == 0


async def test_a_chat_change_reaches_only_its_users_streams_and_reads_change_nothing(
    tmp_path: Path
) -> None:
    async with jwt_app(tmp_path) as (app, settings):
        ann, bob = mint_jwt("ann", settings), mint_jwt("bob", settings)
        calls = {"ann": start(app, ann), "bob": start(app, bob)}
        for call in calls.values():
            await call.text_until("event: ready", within=5)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

            async def chatkit(token: str, body: dict[str, Any]) -> httpx.Response:
                return await client.post("/chatkit", json=body,
                                         headers={"Authorization": f"Bearer {token}"})

            text = {"content": [{"type": "input_text", "text": "hi"}], "attachments": [],
                    "inference_options": {}}
            created = await chatkit(ann, {"type": "threads.create", "params": {"input": text}})
            thread = re.search(r'"thread":\{"id":"(thr_\w+)"', created.text)
            assert thread
            await chatkit(ann, {"type": "items.list", "params": {"thread_id": thread[1]}})
            await chatkit(ann, {"type": "threads.update",
                                "params": {"thread_id": thread[1], "title": "Errands"}})
            await chatkit(bob, {"type": "threads.create", "params": {"input": text}})

        anns = await calls["ann"].text_until(f'"thread_id": "{thread[1]}"', within=5)
        bobs = await calls["bob"].text_until('"thread_id": null', within=5)
        await finish(list(calls.values()))

    # Ann's create (its id not known up front), then her rename; her read told nobody.
    assert anns.count("event: thread") == 2
    assert 'data: {"thread_id": null}' in anns
    assert bobs.count("event: thread") == 1
