"""GCRA rate limiting in a fixed-size table, so a million distinct keys cannot exhaust memory.

GCRA (the Generic Cell Rate Algorithm, ITU-T I.371, as popularised by Brandur Leach's
"Rate limiting, cells, and GCRA") keeps one number per key: the *theoretical arrival time* (TAT).
A request of cost ``c`` is allowed when ``max(TAT, now) + c*T - burst*T <= now``, with emission
interval ``T = 1/rate``. One float per key makes the table tiny.

The table is two-way set-associative over two ``array`` columns (64-bit key hash, TAT float):
16 bytes a slot, fixed at construction, O(1) per check. When both slots of a pair are taken by
other keys, the one with the *older* TAT is evicted: it carries the least debt (a TAT in the past
carries none), so an attacker who churns through fresh addresses evicts idle keys, not the keys
that are currently being held back. Failure policy: a hash collision (1 in 2**64) merges two keys,
which can only make a limit stricter for both, never open it.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Hashable
from typing import NamedTuple

_MASK = (1 << 63) - 1


class Limit(NamedTuple):
    """``rate`` cost units per second, with ``burst`` units of headroom."""

    rate: float
    burst: float

    def scaled(self, factor: float) -> Limit:
        return Limit(self.rate * factor, max(1.0, self.burst * factor))


class Decision(NamedTuple):
    allowed: bool
    limit: int  # the burst, as Mastodon's X-RateLimit-Limit
    remaining: int
    reset_after: float  # seconds until the bucket is full again
    retry_after: float  # seconds until this request would be allowed (0 if allowed)


def gcra(tat: float, now: float, limit: Limit, cost: float) -> tuple[float, Decision]:
    """One GCRA step: the new TAT to store and the decision (pure; Redis runs the same)."""
    interval = 1.0 / limit.rate
    tolerance = limit.burst * interval
    new_tat = max(tat, now) + cost * interval
    allow_at = new_tat - tolerance
    # The headers count requests like this one, not cost units (a post costs 3): Remaining 0
    # means the next such request is refused, and a refusal says 0.
    in_requests = int(limit.burst / cost + 1e-9)
    if allow_at > now:
        return tat, Decision(False, in_requests, 0, max(tat, now) - now, allow_at - now)
    remaining = max(0, int((tolerance - (new_tat - now)) / (interval * cost) + 1e-9))
    return new_tat, Decision(True, in_requests, remaining, new_tat - now, 0.0)


class RateTable:
    """Per-key GCRA state in ``slots`` fixed slots (rounded up to a power of two)."""

    def __init__(self, slots: int) -> None:
        size = 1 << max(1, math.ceil(math.log2(max(2, slots))))
        self._mask = size - 1
        self._keys = array("q", [0]) * size
        self._tats = array("d", [0.0]) * size
        self.evictions = 0

    @property
    def slots(self) -> int:
        return self._mask + 1

    def check(self, key: Hashable, limit: Limit, now: float, cost: float = 1.0) -> Decision:
        """Spend ``cost`` from ``key``'s bucket if it can afford it."""
        slot = self.slot(key)
        tat, decision = gcra(self._tats[slot], now, limit, cost)
        self._tats[slot] = tat
        return decision

    def tat(self, slot: int) -> float:
        return self._tats[slot]

    def store(self, slot: int, tat: float) -> None:
        self._tats[slot] = tat

    def debt(self, key: Hashable, now: float) -> float:
        """Seconds of accrued debt ``key`` carries (0 when idle): a cheap read, no spending."""
        h = (hash(key) & _MASK) or 1
        pair = h & self._mask & ~1
        for slot in (pair, pair + 1):
            if self._keys[slot] == h:
                return max(0.0, self._tats[slot] - now)
        return 0.0

    def occupied(self) -> int:
        """How many slots hold a key (O(slots): for tests and the admin view only)."""
        return self.slots - self._keys.count(0)

    def slot(self, key: Hashable) -> int:
        """The slot holding ``key``, claiming one (and maybe evicting) if it has none."""
        h = (hash(key) & _MASK) or 1
        pair = h & self._mask & ~1
        keys = self._keys
        if keys[pair] == h:
            return pair
        if keys[pair + 1] == h:
            return pair + 1
        if keys[pair] == 0:
            victim = pair
        elif keys[pair + 1] == 0:
            victim = pair + 1
        else:
            victim = pair if self._tats[pair] <= self._tats[pair + 1] else pair + 1
            self.evictions += 1
        keys[victim] = h
        self._tats[victim] = 0.0
        return victim
