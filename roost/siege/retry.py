"""Retrying setup requests that the server refused for now: backoff, Retry-After, a deadline.

Under a shield, setup's own requests (thousands of sign-ups, hundreds of follows) meet the same
limits as everyone's. A 429 or 503, or a connection refused or cut, is worth another try after a
pause: the server's Retry-After when it gives one (capped, so that one long penalty cannot stall
setup), else a doubling backoff with jitter. A caller that tries again from another address
(``moves``) owes nothing to a 429's Retry-After, which is about the address it leaves; a 503
(the server is busy) it honours like everyone. Nothing waits past ``until``: setup shares the
run's one deadline.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from roost.siege.accounts import Refused

T = TypeVar("T")
ATTEMPTS = 4
FIRST_WAIT_S = 0.5
MAX_WAIT_S = 5.0
RETRYABLE = (Refused, httpx.TransportError)  # TransportError: refused, cut or timed out


async def retrying(
    call: Callable[[int], Awaitable[T]],
    rng: random.Random,
    until: float | None = None,
    attempts: int = ATTEMPTS,
    moves: bool = False,
) -> T:
    """``call(attempt)`` until it succeeds; when tries or time run out, the last refusal."""
    for attempt in range(attempts):
        try:
            return await call(attempt)
        except RETRYABLE as error:
            asked = getattr(error, "retry_after", None)
            if moves and getattr(error, "status", None) == 429:
                asked = None
            wait = pause(attempt, asked, rng)
            late = until is not None and time.monotonic() + wait >= until
            if attempt + 1 >= attempts or late:
                raise
            await asyncio.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


def pause(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds before the next try: Retry-After if given, else 0.5 s doubling; capped, jittered."""
    base = retry_after if retry_after is not None else FIRST_WAIT_S * 2**attempt
    return min(base, MAX_WAIT_S) * (1 + rng.random() / 4)


def reason(error: BaseException) -> str:
    """A short name for why a setup request failed, for the report's counts."""
    if isinstance(error, Refused):
        return str(error.status)
    if isinstance(error, httpx.HTTPError):
        return type(error).__name__
    return str(error).split(":", 1)[0] or type(error).__name__
