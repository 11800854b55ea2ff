"""Live updates for the page: `GET /api/events`, one server-sent event stream per user.

One EventHub per process hears every published task change (shared/events.py: polling
the event table on SQLite, LISTEN on PostgreSQL) and hands each one only to the streams of
the user it belongs to. A chat changed through this process (`thread_changed`) reaches
the user's streams on this process only; a page catches up with the rest when it comes
back into view or reconnects.

A stream lives no longer than the token that opened it: at the token's `exp` it sends
`event: expired` and ends, so a signed-out or revoked-by-expiry page stops hearing
changes. STREAMS_PER_USER is counted per process: with N worker processes (or instances)
a user can hold up to N times as many streams.
"""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from typing import Annotated, TypedDict

from fastapi import APIRouter, Depends, Request
from sqlalchemy.engine import Engine
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.types import Receive, Scope, Send

from chat_server.web.deps import CurrentUser
from chat_server.web.protocol import RequestError
from shared import events
from shared.events import TaskEvent

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
RETRY_SECONDS = 2.0
HEARTBEAT_SECONDS = 15
STREAMS_PER_USER = 20
QUEUE_SIZE = 256

router = APIRouter()


class ThreadEvent(TypedDict):
    """A chat of the user's changed: new items, a new title, or deleted (None: which is
    not known, e.g. a thread being created)."""

    thread_id: str | None


Event = TaskEvent | ThreadEvent


class EventHub:
    """Fans each task event out to the open streams of the user it belongs to."""

    def __init__(self, engine: Engine, database_url: str) -> None:
        self.engine = engine
        self.database_url = database_url
        self._streams: dict[str, set[asyncio.Queue[Event]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start hearing events in the background."""
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        """Stop hearing events."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    def open_stream(self, user_id: str) -> asyncio.Queue[Event]:
        """A queue that receives `user_id`'s events until `close_stream`, or 429 when the
        user already holds STREAMS_PER_USER (each one holds a connection open).

        Synchronous on purpose: counting and taking the slot with no await between them
        makes concurrent opens on this event loop unable to share the last slot.
        """
        streams = self._streams.setdefault(user_id, set())
        if len(streams) >= STREAMS_PER_USER:
            raise RequestError(
                429, "too_many_streams",
                f"at most {STREAMS_PER_USER} live update streams per user; close a tab",
            )
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        streams.add(queue)
        return queue

    def close_stream(self, user_id: str, queue: asyncio.Queue[Event]) -> None:
        """Give back the slot `open_stream` took (again is harmless)."""
        streams = self._streams.get(user_id)
        if streams is None:
            return
        streams.discard(queue)
        if not streams:
            del self._streams[user_id]

    def stream_count(self, user_id: str) -> int:
        """How many streams `user_id` holds open in this process."""
        return len(self._streams.get(user_id, ()))

    def dispatch(self, user_id: str, event: Event) -> None:
        """Hand `event` to every open stream of `user_id`, and to no one else's."""
        for queue in self._streams.get(user_id, ()):
            with suppress(asyncio.QueueFull):
                # A page that stopped reading loses events, not the server its memory.
                queue.put_nowait(event)

    def thread_changed(self, user_id: str, thread_id: str | None) -> None:
        """Tell `user_id`'s pages that one of their chats changed."""
        self.dispatch(user_id, ThreadEvent(thread_id=thread_id))

    async def _follow(self) -> None:
        # The same feed the task server's change subscriptions read (shared/events.py).
        async for user_id, event in events.follow(
            self.engine, self.database_url, poll_seconds=POLL_SECONDS, retry_seconds=RETRY_SECONDS
        ):
            self.dispatch(user_id, event)


def get_hub(request: Request) -> EventHub:
    return request.app.state.event_hub


HubDep = Annotated[EventHub, Depends(get_hub)]


STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
EXPIRED = ServerSentEvent(
    event="expired",
    data=json.dumps({"error": "token_expired", "message": "your sign-in expired; sign in again"}),
)


class HeldStream(EventSourceResponse):
    """An event stream that gives its slot back however the response ends.

    The generator's own `finally` is not enough: a HEAD request, or a client gone before
    the first byte, never starts the generator, and an unstarted generator runs no cleanup.
    """

    def __init__(self, content: AsyncIterator[ServerSentEvent], release: Callable[[], None]):
        super().__init__(content, ping=HEARTBEAT_SECONDS, headers=STREAM_HEADERS)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


async def events_until(
    queue: asyncio.Queue[Event], expires_at: float | None
) -> AsyncIterator[ServerSentEvent]:
    """`ready`, then each of the queue's events, until `expires_at` (Unix seconds) passes:
    then `expired`, and the stream ends."""
    # Sent once subscribed: the page refetches then, covering anything it missed while it
    # was not connected.
    yield ServerSentEvent(event="ready", data="{}", retry=int(RETRY_SECONDS * 1000))
    loop = asyncio.get_running_loop()
    # The loop's clock from here on: a wall clock step must not stretch or cut the stream.
    deadline = None if expires_at is None else loop.time() + (expires_at - time.time())
    while True:
        try:
            if deadline is None:
                event = await queue.get()
            else:
                event = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            yield EXPIRED
            return
        name = "thread" if "thread_id" in event else "task"
        yield ServerSentEvent(event=name, data=json.dumps(event))


@router.get("/api/events")
async def task_events(user: CurrentUser, hub: HubDep) -> EventSourceResponse:
    """The signed-in user's task changes as `event: task` lines and chat changes as
    `event: thread`, with a heartbeat comment, until the user's token expires
    (`event: expired`)."""
    queue = hub.open_stream(user.user_id)
    return HeldStream(
        events_until(queue, user.expires_at),
        release=lambda: hub.close_stream(user.user_id, queue),
    )
