"""Wait for something to happen by asking until it has, never by sleeping a guessed time.

A fixed sleep is either too short on a loaded machine (a flaky test) or too long everywhere (a
slow suite); polling a condition under a deadline is neither, and says what it waited for.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT = 5.0  # seconds: long enough for a loaded CI machine, short enough to fail clearly
INTERVAL = 0.01


def _timed_out(what: str, seconds: float, last: object) -> AssertionError:
    return AssertionError(f"timed out after {seconds} s waiting for {what} (last: {last!r})")


def wait_until(
    condition: Callable[[], T],
    what: str = "the condition",
    seconds: float = TIMEOUT,
    interval: float = INTERVAL,
) -> T:
    """Call ``condition`` until it returns something true, and return that; after ``seconds``,
    fail with a message naming ``what`` was awaited."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise _timed_out(what, seconds, value)
        time.sleep(interval)
    return value


async def wait_for(
    condition: Callable[[], T | Awaitable[T]],
    what: str = "the condition",
    seconds: float = TIMEOUT,
    interval: float = INTERVAL,
) -> T:
    """``wait_until`` for the event loop: ``condition`` may be a coroutine function, and the
    loop keeps running other tasks while this one waits."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise _timed_out(what, seconds, value)
        await asyncio.sleep(interval)
