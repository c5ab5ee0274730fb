"""Running tallies of probe results: per-day uptime (90 days) and per-interval latency (24 h).

Kept in memory so a re-render costs no query; the store holds the same figures for restarts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from roost.status.model import ProbeResult
from roost.status.view import LatencyBucket, Uptime

BUCKET = timedelta(minutes=10)
BUCKETS = 144  # 24 hours of 10-minute intervals


def bucket_start(at: datetime) -> datetime:
    return at.replace(minute=at.minute - at.minute % 10, second=0, microsecond=0)


class Tallies:
    def __init__(self) -> None:
        self.days: Uptime = {}
        # interval start -> component -> [sum of good latencies (ms), good probes, failed probes]
        self.buckets: dict[datetime, dict[str, list[float]]] = {}

    def load_days(self, days: dict[tuple[str, date], tuple[int, int]]) -> None:
        self.days.update(days)

    def add(self, results: Iterable[ProbeResult], days: bool = True) -> None:
        for r in results:
            if days:
                ok, total = self.days.get((r.component, r.at.date()), (0, 0))
                self.days[(r.component, r.at.date())] = (ok + int(r.ok), total + 1)
            bucket = self.buckets.setdefault(bucket_start(r.at), {})
            tally = bucket.setdefault(r.component, [0.0, 0, 0])
            if r.ok:
                tally[0] += r.latency_ms
                tally[1] += 1
            else:
                tally[2] += 1

    def latency(self, now: datetime) -> list[LatencyBucket]:
        """The last 24 hours as 144 intervals, oldest first; older tallies are dropped."""
        last = bucket_start(now)
        first = last - BUCKET * (BUCKETS - 1)
        for start in [s for s in self.buckets if s < first]:
            del self.buckets[start]
        out = []
        for n in range(BUCKETS):
            start = first + BUCKET * n
            tallies = self.buckets.get(start, {})
            means = {cid: t[0] / t[1] for cid, t in tallies.items() if t[1]}
            failed = sum(int(t[2]) for t in tallies.values())
            total = sum(int(t[1] + t[2]) for t in tallies.values())
            out.append(LatencyBucket(start, means, failed, total))
        return out
