"""Fair lending of the pool's connections: first come, first served."""

import asyncio
from collections import deque

from chat_server.agent.pool.connection import Connection


class Lender:
    """Lends connections to callers in the order they asked.

    asyncio.Queue is not fair: a caller that returns a connection and asks again at once
    takes it back before the waiter it woke can run, so under load some callers wait for
    a second while others barge in. Here a returned connection goes straight to the
    longest waiter.
    """

    def __init__(self, connections: list[Connection]) -> None:
        self._idle = deque(connections)
        self._waiters: deque[asyncio.Future[Connection]] = deque()

    async def borrow(self) -> Connection:
        """An idle connection, waiting behind earlier callers if there is none."""
        if self._idle and not self._waiters:
            return self._idle.popleft()
        waiter: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give_back(waiter.result())  # handed over just as the caller was cancelled
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def give_back(self, connection: Connection) -> None:
        """Return a connection: to the longest waiter, else to the idle set."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)
