"""Admission with priorities: a request runs, waits briefly, or is shed before it does any work.

Classes (issue 7 item 3, ``priority.Klass``): 1 signed-in accounts in good standing,
2 challenge-pass holders, 3 anonymous, 4 suspicious. A lower number is more important; within a
class a *rank* in [0, 1) orders requests (older accounts first).

- **Shares.** Class ``c`` is admitted only while fewer than ``limit * SHARE[c]`` requests run, so
  lower classes can never occupy the capacity the classes above them need.
- **Queue.** Waiters sit in a priority heap. When the queue is full, the least important waiter is
  shed to make room for a more important arrival (or the arrival is shed if it is the least).
- **CoDel timeouts** ("Fail at Scale", Ben Maurer, ACM Queue 2015, as used at Facebook): if the
  queue has not been empty during the last *interval* (100 ms) it is a standing queue and a new
  waiter of classes 2-4 may wait only a few *targets* (5 ms; class 4 one target, class 2
  three); otherwise it may wait the whole interval. Values from CoDel (RFC 8289: 5 ms target,
  100 ms interval).
- **Adaptive LIFO.** While the queue is standing, the newest waiter of classes 2-4 is served
  first: its client is the most likely still to be there (same article).
- **Signed-in users queue.** Class 1 waits in arrival order for up to ``CLASS1_WAIT`` (5 s), not
  a few milliseconds: on a busy minute with no attack, signed-in readers are what fills the
  queue, and shedding them to keep it short refused one request in ten (issue: 352 503s out of
  3,809 with 16 readers). LIFO would starve a closed loop's oldest waiter, so class 1 is FIFO.
- **Priority over timeouts.** A waiter is not timed out while a lower class holds running slots
  (they free up soon and go to it first, and nobody lower is admitted meanwhile): class 1 never,
  classes 2-3 for at most ``MAX_EXTENSIONS`` more intervals.
A request that was admitted is never cancelled by the shield: it runs to completion.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

from roost.shield.limit import GradientLimit
from roost.shield.priority import ANONYMOUS, PASS_HOLDER, SIGNED_IN, SUSPECT, Klass

SHARE = {SIGNED_IN: 1.0, PASS_HOLDER: 0.9, ANONYMOUS: 0.75, SUSPECT: 0.4}
# While the queue stands, more important classes may wait a few targets, not one: the
# target then orders who is shed first instead of shedding everyone alike.
TARGET_SCALE = {PASS_HOLDER: 3, ANONYMOUS: 2, SUSPECT: 1}
MAX_EXTENSIONS = 10  # intervals a class 2-3 waiter may be kept while lower classes run (1 s)
# How long a signed-in request may queue behind other signed-in work. Generous on purpose: with
# no attack at all, 64 signed-in readers in a closed loop on the embedded server (two shared
# cores) saw a p99 of 2.1 s; a person waits a few seconds for a page, and Mastodon clients give
# up after 10-30 s. Past it the server is short of capacity for its known users alone, and a
# 503 with Retry-After says so sooner than a page that never comes.
CLASS1_WAIT = 5.0


class Shed(Exception):
    """The request was not admitted; ``reason`` is ``full``, ``timeout`` or ``displaced``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Waiter:
    __slots__ = ("enqueued", "future", "key", "klass", "timer")

    def __init__(self, klass: Klass, key: tuple, future: asyncio.Future, enqueued: float) -> None:
        self.klass, self.key, self.future, self.enqueued = klass, key, future, enqueued
        self.timer: asyncio.TimerHandle | None = None

    def __lt__(self, other: _Waiter) -> bool:
        return self.key < other.key


class Admission:
    """Runs at most ``limit.limit`` requests at once; the rest queue by priority or are shed."""

    def __init__(
        self,
        limit: GradientLimit,
        queue_max: int = 512,
        target: float = 0.005,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        class1_wait: float = CLASS1_WAIT,
    ) -> None:
        self.limit = limit
        self.queue_max = queue_max
        self.target, self.interval = target, interval
        self.class1_wait = class1_wait
        self.clock = clock
        self.inflight = 0
        self.inflight_by_class = dict.fromkeys(Klass, 0)
        self._heap: list[_Waiter] = []
        self._seq = itertools.count()
        self._last_empty = clock()

    @property
    def queued(self) -> int:
        return len(self._heap)

    @property
    def busy(self) -> bool:
        """Half the limit in use, or anyone waiting: the moment to start telling sources apart."""
        return bool(self._heap) or self.inflight * 2 >= self.limit.limit

    def standing(self, now: float) -> bool:
        """True while the queue has not drained during the last interval (CoDel's signal)."""
        return bool(self._heap) and now - self._last_empty > self.interval

    def _fits(self, klass: Klass) -> bool:
        return self.inflight < self.limit.limit * SHARE[klass]

    def admit_now(self, klass: Klass, rank: float = 0.0) -> bool:
        """Take a slot at once if one is free to this class and nobody more important waits.

        The calm path: the layer tries this first and awaits ``acquire`` only when it fails,
        so an admitted request pays for no coroutine here."""
        heap = self._heap
        if self.inflight < self.limit.limit * SHARE[klass] and (
            not heap or (klass, rank) < heap[0].key[:2]
        ):
            self.inflight += 1
            self.inflight_by_class[klass] += 1
            return True
        return False

    async def acquire(self, klass: Klass, rank: float = 0.0) -> float:
        """Wait for a slot; returns the admission time. Raises ``Shed`` instead of waiting long."""
        now = self.clock()
        if self.admit_now(klass, rank):
            return now
        if klass == SIGNED_IN:
            timeout = self.class1_wait
        elif self.standing(now):
            timeout = self.target * TARGET_SCALE[klass]
        else:
            timeout = self.interval
        waiter = self._enqueue(klass, rank, now)
        # One timer per waiter rather than wait_for(shield(...)): this path runs for every
        # request while the queue stands, and wait_for costs several times more.
        loop = asyncio.get_running_loop()
        waiter.timer = loop.call_later(timeout, self._expire, waiter, 0)
        try:
            await waiter.future
        except asyncio.CancelledError:
            # The task was cancelled (client gone, server stopping); asyncio cancels the future
            # it was waiting on as well.
            waiter.timer.cancel()
            self._abandon(waiter)
            raise
        return self.clock()

    def _expire(self, waiter: _Waiter, extensions: int) -> None:
        """A waiter's time is up: shed it — unless lower classes hold running slots, which free up
        soon and go to it first (for class 1 always, else for ``MAX_EXTENSIONS`` intervals)."""
        if waiter.future.done():
            return
        keep = waiter.klass == SIGNED_IN or extensions < MAX_EXTENSIONS
        if keep and self._lower_running(waiter.klass):
            loop = waiter.future.get_loop()
            waiter.timer = loop.call_later(self.interval, self._expire, waiter, extensions + 1)
            return
        self._remove(waiter)
        waiter.future.set_exception(Shed("timeout"))

    def _lower_running(self, klass: Klass) -> bool:
        return any(self.inflight_by_class[Klass(lower)] for lower in range(klass + 1, SUSPECT + 1))

    def release(self, klass: Klass, started: float) -> float:
        """Free a slot taken at ``started``; returns the time of release."""
        now = self.clock()
        self.inflight -= 1
        self.inflight_by_class[klass] -= 1
        self.limit.sample(now - started, self.inflight + 1, now)
        if self._heap:
            self._wake(now)
        else:
            self._last_empty = now  # what _wake does with nobody waiting
        return now

    def _take(self, klass: Klass) -> None:
        self.inflight += 1
        self.inflight_by_class[klass] += 1

    def _enqueue(self, klass: Klass, rank: float, now: float) -> _Waiter:
        lifo = klass > SIGNED_IN and self.standing(now)
        seq = next(self._seq)
        key = (klass, rank, -seq if lifo else seq)
        waiter = _Waiter(klass, key, asyncio.get_running_loop().create_future(), now)
        if len(self._heap) >= self.queue_max:
            worst = max(self._heap)
            if worst.key <= key:
                raise Shed("full")
            self._remove(worst)
            if worst.timer is not None:
                worst.timer.cancel()
            worst.future.set_exception(Shed("displaced"))
        heapq.heappush(self._heap, waiter)
        return waiter

    def _remove(self, waiter: _Waiter) -> None:
        try:
            self._heap.remove(waiter)
        except ValueError:
            return
        heapq.heapify(self._heap)
        if not self._heap:
            self._last_empty = self.clock()

    def _abandon(self, waiter: _Waiter) -> None:
        future = waiter.future
        if future.done() and not future.cancelled() and future.exception() is None:
            self.release(waiter.klass, self.clock())  # admitted just as it was cancelled
            return
        self._remove(waiter)
        if not future.done():
            future.cancel()

    def _wake(self, now: float) -> None:
        while self._heap and self._fits(self._heap[0].klass):
            waiter = heapq.heappop(self._heap)
            if waiter.future.done():
                continue
            self._take(waiter.klass)
            if waiter.timer is not None:
                waiter.timer.cancel()
            waiter.future.set_result(None)
        if not self._heap:
            self._last_empty = now
