"""Live task updates for the page: `GET /api/events`, one server-sent event stream per user.

One EventHub per process hears every published change (shared/events.py: polling the
event table on SQLite, LISTEN on PostgreSQL) and hands each one only to the streams of
the user it belongs to.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.engine import Engine
from sse_starlette import EventSourceResponse, ServerSentEvent

from chat_server.deps import CurrentUser
from chat_server.protocol import RequestError
from shared import events
from shared.db import run_db
from shared.events import TaskEvent

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
RETRY_SECONDS = 2.0
HEARTBEAT_SECONDS = 15
STREAMS_PER_USER = 20
QUEUE_SIZE = 256

router = APIRouter()


class EventHub:
    """Fans each task event out to the open streams of the user it belongs to."""

    def __init__(self, engine: Engine, database_url: str) -> None:
        self.engine = engine
        self.database_url = database_url
        self._streams: dict[str, set[asyncio.Queue[TaskEvent]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start hearing events in the background."""
        postgres = self.engine.dialect.name == "postgresql"
        self._task = asyncio.create_task(self._listen() if postgres else self._poll())

    async def stop(self) -> None:
        """Stop hearing events."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    @asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[asyncio.Queue[TaskEvent]]:
        """A queue that receives `user_id`'s events while the block runs."""
        streams = self._streams.setdefault(user_id, set())
        queue: asyncio.Queue[TaskEvent] = asyncio.Queue(QUEUE_SIZE)
        streams.add(queue)
        try:
            yield queue
        finally:
            streams.discard(queue)
            if not streams:
                self._streams.pop(user_id, None)

    def check_room(self, user_id: str) -> None:
        """Refuse a stream beyond STREAMS_PER_USER: each one holds a connection open."""
        if len(self._streams.get(user_id, ())) >= STREAMS_PER_USER:
            raise RequestError(
                429, "too_many_streams",
                f"at most {STREAMS_PER_USER} live update streams per user; close a tab",
            )

    def dispatch(self, user_id: str, event: TaskEvent) -> None:
        """Hand `event` to every open stream of `user_id`, and to no one else's."""
        for queue in self._streams.get(user_id, ()):
            with suppress(asyncio.QueueFull):
                # A page that stopped reading loses events, not the server its memory.
                queue.put_nowait(event)

    async def _poll(self) -> None:
        last_id: int | None = None
        while True:
            try:
                if last_id is None:
                    last_id = await run_db(self.engine, events.last_event_id)
                for event_id, user_id, event in await run_db(
                    self.engine, events.events_after, last_id
                ):
                    self.dispatch(user_id, event)
                    last_id = event_id
            except Exception as exc:
                if events.is_missing_table(exc):
                    # The task server's migrations create it; until it has started, no
                    # task can change, so there is nothing to miss.
                    log.debug("no task events yet: the task server has not made its table")
                else:
                    log.warning("reading task events failed: %r", exc)
            await asyncio.sleep(POLL_SECONDS)

    async def _listen(self) -> None:
        while True:
            try:
                async for user_id, event in events.listen(self.database_url):
                    self.dispatch(user_id, event)
            except Exception as exc:
                log.warning("listening for task events failed, retrying: %r", exc)
            await asyncio.sleep(RETRY_SECONDS)


def get_hub(request: Request) -> EventHub:
    return request.app.state.event_hub


HubDep = Annotated[EventHub, Depends(get_hub)]


@router.get("/api/events")
async def task_events(user: CurrentUser, hub: HubDep) -> EventSourceResponse:
    """The signed-in user's task changes as `event: task` lines, with a heartbeat comment."""
    hub.check_room(user.user_id)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async with hub.subscribe(user.user_id) as queue:
            # Sent once subscribed: the page refetches then, covering anything it missed
            # while it was not connected.
            yield ServerSentEvent(event="ready", data="{}", retry=int(RETRY_SECONDS * 1000))
            while True:
                event = await queue.get()
                yield ServerSentEvent(event="task", data=json.dumps(event))

    return EventSourceResponse(
        stream(),
        ping=HEARTBEAT_SECONDS,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
