"""Per-user request limits (the `limits` library: in memory, or Redis when shared by instances)."""

import math
import time

import limits
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class RateLimiter:
    """`RATE_LIMIT` per user, counted in the storage `RATE_LIMIT_STORAGE_URL` names."""

    def __init__(self, rate: str, storage_url: str) -> None:
        self.item = limits.parse(rate)
        # Our settings take the plain scheme (memory://, redis://); the library's asyncio
        # storages are the same schemes with an "async+" prefix.
        url = storage_url if storage_url.startswith("async+") else f"async+{storage_url}"
        self.limiter = MovingWindowRateLimiter(storage_from_string(url))

    async def retry_after(self, user_id: str) -> int | None:
        """Count one request; None if allowed, else the seconds until the next is."""
        if await self.limiter.hit(self.item, user_id):
            return None
        stats = await self.limiter.get_window_stats(self.item, user_id)
        return max(1, math.ceil(stats.reset_time - time.time()))
