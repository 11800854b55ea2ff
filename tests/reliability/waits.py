"""Polling with a deadline, instead of sleeping and hoping."""

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def until(check: Callable[[], T], within: float = 10.0, every: float = 0.05) -> T:
    """Poll `check` (run in a thread: it may block) until it returns a truthy value."""
    deadline = time.monotonic() + within
    while True:
        value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{getattr(check, '__name__', check)} still false after {within} s")
        await asyncio.sleep(every)
