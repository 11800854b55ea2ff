"""Polling with a deadline, instead of sleeping and hoping."""

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def until(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]], within: float = 10.0
) -> Any:
    """Poll `check` until it returns a truthy value, and return that value.

    A plain function runs in a thread (it may block on the database); a coroutine
    function is awaited.
    """
    deadline = time.monotonic() + within
    while True:
        if inspect.iscoroutinefunction(check):
            value = await check()
        else:
            value = await asyncio.to_thread(check)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{getattr(check, '__name__', check)} still false after {within} s")
        await asyncio.sleep(0.05)
