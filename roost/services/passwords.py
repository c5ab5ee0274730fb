"""Password hashing off the event loop and a few at a time: argon2 is expensive on purpose.

Every sign-in, sign-up and password change costs one argon2 computation, and anyone can ask for
one (a wrong password costs as much as a right one, and an unknown user as much as a known one).
Unbounded, a flood of junk logins from thousands of addresses turns into that many hashes at
once and takes every core from the people already signed in (issue 11). So at most ``SLOTS``
run at once per process (half the cores); the rest wait up to ``WAIT`` seconds and are then told
to come back (``Busy``, 503) — a refusal that costs nothing.
"""

from __future__ import annotations

import asyncio
import os
import weakref

from roost.domain import accounts as rules
from roost.domain.errors import Busy

SLOTS = max(1, (os.cpu_count() or 2) // 2)
WAIT = 3.0
_slots: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> Semaphore


BUSY = "Too many sign-ins at once; please try again in a few seconds"


async def verify(stored_hash: str, password: str) -> bool:
    return await _hashing(rules.verify_password, stored_hash, password)


async def hash_password(password: str) -> str:
    rules.check_password(password)  # a bad password is refused before it costs a hash
    return await _hashing(rules.hash_password, password)


async def _hashing(work, *args):
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(SLOTS)
    try:
        await asyncio.wait_for(slots.acquire(), WAIT)
    except TimeoutError:
        raise Busy(BUSY) from None
    try:
        return await asyncio.to_thread(work, *args)
    finally:
        slots.release()
