"""What siege measured, per phase and per traffic class, in a form processes can exchange.

Latencies go into HDR histograms (microseconds, 3 significant digits, up to 60 s) so that p99.9
and max are exact enough and histograms from several generator processes can be added together.
"""

from __future__ import annotations

import base64
from collections import Counter
from typing import Any

from hdrh.histogram import HdrHistogram

# Answers that mean "the defence turned this request away" rather than "the site handled it".
SHED_STATUSES = frozenset({403, 429, 503})
PERCENTILES = (50.0, 95.0, 99.0, 99.9)
MAX_LATENCY_US = 60_000_000


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, MAX_LATENCY_US, 3)


class ClassStats:
    """Counters and latencies of one traffic class in one phase."""

    __slots__ = (
        "admitted",
        "behind",
        "connect_failures",
        "errors",
        "histogram",
        "ok",
        "sent",
        "shed",
        "statuses",
        "unfinished",
    )

    def __init__(self) -> None:
        self.sent = 0  # requests sent (hold profiles: connections opened)
        self.ok = 0  # 2xx within the objective (legit) / 2xx at all (attack)
        self.admitted = 0  # answered by the site itself
        self.shed = 0  # turned away: a shed status, a refused or cut connection (legit: rejected)
        self.unfinished = 0  # still in flight when the phase ended
        self.connect_failures = 0  # connections refused or timed out (no request was sent)
        self.behind = 0.0  # scheduled sends that found no free connection (fractions add up)
        self.statuses: Counter[str] = Counter()  # by status code (hold profiles: by outcome)
        self.errors: Counter[str] = Counter()  # sent but never answered, by reason
        self.histogram = new_histogram()

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())

    def record(self, status: int, latency_s: float, ok: bool) -> None:
        self.statuses[str(status)] += 1
        self.histogram.record_value(min(max(int(latency_s * 1e6), 1), MAX_LATENCY_US))
        if ok:
            self.ok += 1
        if status in SHED_STATUSES:
            self.shed += 1
        else:
            self.admitted += 1

    def record_error(self, kind: str, shed: bool = True) -> None:
        """A sent request that got no answer. ``shed``: the server refused or cut the connection
        (for attacks every such error is; legit users' timeouts and client-side failures are not,
        see legit.TURNED_AWAY)."""
        self.errors[kind] += 1
        self.shed += shed

    def record_hold(self, outcome: str, held_s: float) -> None:
        """A held connection ended: ``held`` (we closed it at the end) or cut by the server."""
        self.statuses[outcome] += 1
        self.histogram.record_value(min(max(int(held_s * 1e6), 1), MAX_LATENCY_US))
        if outcome == "held":
            self.admitted += 1
        else:
            self.shed += 1

    def counters(self) -> dict[str, int]:
        """The cheap part, sent every half second for the live display and time series."""
        return {
            "sent": self.sent,
            "ok": self.ok,
            "admitted": self.admitted,
            "shed": self.shed,
            "answered": self.answered,
            "errors": sum(self.errors.values()),
            "unfinished": self.unfinished,
            "connect_failures": self.connect_failures,
            "behind": int(self.behind),
        }

    def to_wire(self) -> dict[str, Any]:
        """Everything, histogram included, for the end of a phase."""
        return {
            **self.counters(),
            "statuses": dict(self.statuses),
            "error_kinds": dict(self.errors),
            "histogram": base64.b64encode(self.histogram.encode()).decode(),
        }

    def merge_wire(self, data: dict[str, Any]) -> None:
        self.sent += data["sent"]
        self.ok += data["ok"]
        self.admitted += data["admitted"]
        self.shed += data["shed"]
        self.unfinished += data["unfinished"]
        self.connect_failures += data["connect_failures"]
        self.behind += data["behind"]
        self.statuses.update(data["statuses"])
        self.errors.update(data["error_kinds"])
        self.histogram.add(HdrHistogram.decode(base64.b64decode(data["histogram"])))

    def latency_ms(self) -> dict[str, float | None]:
        """p50/p95/p99/p99.9/max in milliseconds (None when nothing was answered)."""
        if self.histogram.get_total_count() == 0:
            return {"p50": None, "p95": None, "p99": None, "p99.9": None, "max": None}
        values = {f"p{p:g}": self.histogram.get_value_at_percentile(p) / 1000 for p in PERCENTILES}
        values["max"] = self.histogram.get_max_value() / 1000
        return values


class Ledger:
    """All ClassStats of a run, keyed by (phase, class)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], ClassStats] = {}

    def get(self, phase: str, name: str) -> ClassStats:
        key = (phase, name)
        stats = self.entries.get(key)
        if stats is None:
            stats = self.entries[key] = ClassStats()
        return stats

    def to_wire(self) -> list[dict[str, Any]]:
        return [
            {"phase": phase, "class": name, **stats.to_wire()}
            for (phase, name), stats in self.entries.items()
        ]

    def merge_wire(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.get(row["phase"], row["class"]).merge_wire(row)
