"""Many accounts through the API at setup: spread over addresses, a few at a time, retried.

Sign-ups are slow on purpose (argon2id, 19 MiB, 2 passes: about 30 ms of server CPU each on the
2-core development machine) and limited per address and per /24 (the shield: 5 per address,
then one every 100 s), so a thousand sybils come from
as many addresses over ``bot_prefixes`` /24s, a few at a time: as many as the server takes
without refusing (``Gate``: halved on each refusal, one more after a run of successes, as TCP
does). A sign-up refused for now (429/503, or a connection refused, cut or timed out) is tried
again after a pause (retry.py), with a fresh name in case the first try did create the account.
Legitimate users must all exist (``strict``: the first lasting failure stops setup) and each
keeps its own address, retries included; bot accounts are best effort: a retry comes from
another /24, and those still refused after their tries, or not made by ``until``, are left out
and counted while setup goes on with the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from roost.siege.accounts import Account, App, SetupError, register
from roost.siege.guard import Target
from roost.siege.retry import RETRYABLE, reason, retrying

# Sign-ups in flight at once, at most: enough to keep a server's password hashing busy. The
# shield sheds sign-ups (503) once a few are queued behind argon2 on one core, so the gate
# starts lower and finds the server's pace itself.
CONCURRENCY = 8
START = 4
ATTEMPTS = 6  # per account; bots are bounded by ``until`` as well
PROGRESS_EVERY_S = 5.0


class Gate:
    """A semaphore whose size follows the server: additive increase, multiplicative decrease."""

    def __init__(self, size: int = START, most: int = CONCURRENCY) -> None:
        self.size, self.most = size, most
        self.busy = 0
        self.wins = 0  # successes since the size last changed
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        while self.busy >= self.size:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
        self.busy += 1

    def release(self, refused: bool) -> None:
        self.busy -= 1
        if refused:
            self.size, self.wins = max(1, self.size // 2), 0
        else:
            self.wins += 1
            if self.wins >= self.size:
                self.size, self.wins = min(self.most, self.size + 1), 0
        for _ in range(max(0, self.size - self.busy)):
            if not self._waiters:
                break
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)


@dataclass
class Tally:
    """What registering one group of accounts took."""

    asked: int = 0
    made: int = 0
    attempts: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # accounts given up on, by reason
    out_of_time: int = 0  # accounts not made because ``until`` came first
    seconds: float = 0.0

    def summary(self) -> dict[str, object]:
        return {
            "asked": self.asked,
            "made": self.made,
            "attempts": self.attempts,
            "given_up": dict(self.failures),
            "out_of_time": self.out_of_time,
            "seconds": round(self.seconds, 3),
        }


async def register_all(
    target: Target,
    app: App,
    prefix: str,
    sources: Sequence[str | None],
    seed: int,
    strict: bool = True,
    until: float | None = None,
    say: Callable[[str], None] | None = None,
) -> tuple[list[Account], Tally]:
    """One account per source address, in the order of ``sources``; see the module docstring."""
    rng = random.Random(seed)
    # Names differ on every run (a second run against the same server must not collide);
    # nothing the users do depends on them, so runs with the same seed still behave alike.
    tag = secrets.token_hex(3)
    gate = Gate()
    made: dict[int, Account] = {}
    tally = Tally(asked=len(sources))
    began = time.monotonic()
    # A bot's retry comes from another /24: sources are laid out prefix by prefix (sources.py).
    stride = 0 if strict else max(1, len(sources) // ATTEMPTS)

    async def attempt(index: int, number: int) -> Account:
        source = sources[(index + number * stride) % len(sources)]
        name = f"{prefix}{tag}{index}" + (f"r{number}" if number else "")
        await gate.acquire()
        refused = False
        try:
            tally.attempts += 1
            return await register(target, app, name, source, rng)
        except RETRYABLE:
            refused = True
            raise
        finally:
            gate.release(refused)

    async def one(index: int) -> None:
        try:
            call = functools.partial(attempt, index)
            made[index] = await retrying(call, rng, until, ATTEMPTS, moves=bool(stride))
        except (SetupError, httpx.HTTPError) as error:
            if strict:
                raise
            tally.failures[reason(error)] += 1

    progress = asyncio.create_task(_progress(say, prefix, made, tally, began))
    try:
        left = None if until is None else max(0.0, until - time.monotonic())
        async with asyncio.timeout(left):
            await asyncio.gather(*(one(i) for i in range(len(sources))))
    except TimeoutError:
        if strict:
            raise
        tally.out_of_time = len(sources) - len(made) - sum(tally.failures.values())
    finally:
        progress.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await progress
    tally.made, tally.seconds = len(made), time.monotonic() - began
    return [made[i] for i in sorted(made)], tally


async def _progress(
    say: Callable[[str], None] | None,
    prefix: str,
    made: dict[int, Account],
    tally: Tally,
    began: float,
) -> None:
    """A line every few seconds while a long registration runs (1,000 sybils take minutes)."""
    if say is None:
        return
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        seconds = time.monotonic() - began
        say(f"{len(made)}/{tally.asked} {prefix} accounts registered ({seconds:.0f} s)")
