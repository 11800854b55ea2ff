"""One MCP session to the task server, owned by a task of its own."""

import asyncio
from collections.abc import Callable
from typing import Any

from mcp import Client
from mcp.types import ListToolsResult

# How long a caller waits for a dying connection's owner task to report why it died.
OWNER_EXIT_WAIT = 1.0
# How long cleanup waits for a connection to close politely before cancelling it.
CLOSE_WAIT = 5.0


class Connection:
    """One MCP session to the task server, opened and closed by a task of its own.

    The session's transport runs an anyio task group. Entered from a caller's task, a
    transport failure would cancel that caller (a chat request) later on; a dedicated owner
    task keeps the failure inside the connection, which records it in `failure`. The pool
    lends a connection to one request at a time, so a failure belongs to that request.
    """

    def __init__(self, open_client: Callable[["Connection"], Any]) -> None:
        self._open_client = open_client
        self._owner: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[Client] | None = None
        self._stop = asyncio.Event()
        self.failure: BaseException | None = None
        self.last_status: int | None = None
        self.absorbed: ListToolsResult | None = None

    @property
    def alive(self) -> bool:
        """Whether the owner task is connecting or connected."""
        return self._owner is not None and not self._owner.done()

    async def client(self) -> Client:
        """The connected client, (re)connecting first if the connection is down."""
        ready = self._ready
        if self.alive and ready is not None and ready.done() and ready.exception() is None:
            return ready.result()
        if not self.alive:
            ready = self._start()
        assert ready is not None
        # Shielded: a caller cancelled mid-connect must not abort the shared connect.
        return await asyncio.shield(ready)

    def _start(self) -> "asyncio.Future[Client]":
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Client] = loop.create_future()
        self._ready, self._stop = ready, asyncio.Event()
        self.failure, self.absorbed = None, None
        self._owner = loop.create_task(self._own(ready, self._stop), name="mcp-pool-connection")
        return ready

    async def _own(self, ready: "asyncio.Future[Client]", stop: asyncio.Event) -> None:
        try:
            async with self._open_client(self) as client:
                ready.set_result(client)
                await stop.wait()
        except Exception as exc:
            self.failure = exc
            if not ready.done():
                ready.set_exception(exc)
        finally:
            if not ready.done():
                ready.cancel()

    async def failure_after_exit(self) -> BaseException | None:
        """Wait briefly for a dying owner to finish, then say what killed it (None if unknown)."""
        owner = self._owner
        if owner is None:
            return None
        await asyncio.wait({owner}, timeout=OWNER_EXIT_WAIT)
        return self.failure if owner.done() else None

    async def close(self) -> None:
        """Close the session and wait for the owner task to end."""
        owner, self._owner = self._owner, None
        if owner is None:
            return
        self._stop.set()
        await asyncio.wait({owner}, timeout=CLOSE_WAIT)
        if not owner.done():
            owner.cancel()
            await asyncio.gather(owner, return_exceptions=True)
