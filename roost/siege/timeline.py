"""Second-by-second series for the chart and for time to detect / time to recover.

Legitimate requests (and status page polls, a series of their own) are recorded here as they
finish, bucketed by their *intended* send second; attack counters arrive as cumulative snapshots
from the generator processes (twice a second) and are turned into per-second rates, each
increment spread over the time since that process's previous snapshot.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Second:
    legit: int = 0
    legit_ok: int = 0
    legit_rejected: int = 0
    attack_sent: float = 0.0
    attack_answered: float = 0.0
    attack_shed: float = 0.0
    status: int = 0  # status page requests (their own series: not legit users)
    status_ok: int = 0
    # Plain latencies, not an HDR histogram: legit traffic is a few hundred per second at most,
    # and one histogram per second of a 15-minute run would cost over 100 MB.
    latencies: list[float] = field(default_factory=list)


class Timeline:
    def __init__(self) -> None:
        self.seconds: dict[int, Second] = defaultdict(Second)
        self._last: dict[tuple[int, str], dict[str, int]] = {}
        self._last_t: dict[int, float] = {}  # each worker's previous snapshot time

    def legit(self, t: float, ok: bool, rejected: bool, latency_s: float | None) -> None:
        second = self.seconds[max(0, int(t))]
        second.legit += 1
        second.legit_ok += ok
        second.legit_rejected += rejected
        if latency_s is not None:
            second.latencies.append(latency_s)

    def status(self, t: float, ok: bool) -> None:
        second = self.seconds[max(0, int(t))]
        second.status += 1
        second.status_ok += ok

    def attack_snapshot(self, worker: int, t: float, counters: dict[str, dict[str, int]]) -> None:
        """Turn a worker's cumulative counters into increments spread over the elapsed time.

        A counter first seen now (its attack's phase just began) was zero at the previous
        snapshot, so every increment covers the same span: previous snapshot to this one.
        """
        since = self._last_t.get(worker, 0.0)
        self._last_t[worker] = max(t, since)
        shares = _shares(since, t)
        for key, values in counters.items():
            before = self._last.get((worker, key), {})
            self._last[(worker, key)] = values
            sent = values["sent"] - before.get("sent", 0)
            answered = values["answered"] - before.get("answered", 0)
            shed = values["shed"] - before.get("shed", 0)
            for index, share in shares:
                second = self.seconds[index]
                second.attack_sent += sent * share
                second.attack_answered += answered * share
                second.attack_shed += shed * share

    def rows(self, until_s: float, since_s: float = 0.0) -> list[dict[str, Any]]:
        rows = []
        for t in range(int(since_s), math.ceil(until_s)):
            s = self.seconds.get(t, Second())
            p99 = _p99_ms(s.latencies)
            rows.append(
                {
                    "t": t,
                    "legit_requests": s.legit,
                    "legit_ok": s.legit_ok,
                    "legit_success": s.legit_ok / s.legit if s.legit else None,
                    "legit_rejected": s.legit_rejected,
                    "legit_p99_ms": p99,
                    "attack_sent": round(s.attack_sent),
                    "attack_answered": round(s.attack_answered),
                    "attack_shed": round(s.attack_shed),
                    "status_requests": s.status,
                    "status_success": s.status_ok / s.status if s.status else None,
                }
            )
        return rows


def _shares(since: float, until: float) -> list[tuple[int, float]]:
    """Each whole second's share of the span [since, until]: its overlap over the span."""
    since = max(0.0, since)
    if until <= since:
        return [(max(0, int(until)), 1.0)]
    span = until - since
    return [
        (index, (min(until, index + 1) - max(since, index)) / span)
        for index in range(int(since), math.ceil(until))
    ]


def _p99_ms(latencies: list[float]) -> float | None:
    """The 99th percentile (nearest rank, as HDR histograms report it), in milliseconds."""
    if not latencies:
        return None
    ordered = sorted(latencies)
    rank = max(0, math.ceil(0.99 * len(ordered)) - 1)
    return round(ordered[rank] * 1000, 3)
