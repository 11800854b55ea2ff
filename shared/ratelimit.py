"""Per-user request limits (the `limits` library: in memory, or Redis when shared by instances)."""

import math
import time

import limits
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from shared.metrics import RATE_LIMIT_REFUSALS


class RateLimiter:
    """A rate such as `60/minute` per user, counted in the storage a URL names.

    The sliding window counter weighs the previous window's count by how much of it still
    overlaps: two counters per user instead of one timestamp per request, and the in-memory
    storage never hands its expiry scan to a thread (the moving window's does, on every hit).

    `scope` keeps the counts of different limits apart when they share one storage (the
    chat server's requests and the MCP server's tool calls, both in one Redis).
    """

    def __init__(self, rate: str, storage_url: str, *, scope: str) -> None:
        self.item = limits.parse(rate)
        self.scope = scope
        RATE_LIMIT_REFUSALS.labels(scope)  # listed at 0 before the first refusal
        # Our settings take the plain scheme (memory://, redis://); the library's asyncio
        # storages are the same schemes with an "async+" prefix.
        self._url = storage_url if storage_url.startswith("async+") else f"async+{storage_url}"
        self._limiter: SlidingWindowCounterRateLimiter | None = None

    async def retry_after(self, user_id: str) -> int | None:
        """Count one request; None if allowed, else the seconds until the next is."""
        if self._limiter is None:
            # Made on first use: the asyncio memory storage starts a task on the running loop.
            storage = storage_from_string(self._url, wrap_exceptions=True)
            self._limiter = SlidingWindowCounterRateLimiter(storage)
        # The scope comes first, so no user id can spell another scope's key.
        if await self._limiter.hit(self.item, self.scope, user_id):
            return None
        RATE_LIMIT_REFUSALS.labels(self.scope).inc()
        stats = await self._limiter.get_window_stats(self.item, self.scope, user_id)
        return max(1, math.ceil(stats.reset_time - time.time()))
