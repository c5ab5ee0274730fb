"""Attack detection: one-second buckets over a rolling ten-second window, and a small state machine.

States: ``calm`` -> ``attack`` (event ``attack_started``) -> ``mitigated`` (``attack_mitigated``:
still flooded, but admitted requests are fast and signed-in users are not being shed) -> ``calm``
(``attack_ended`` after ``QUIET`` seconds without the attack signal). Thresholds are stated here
because they are policy: an attack is a request rate of at least ``attack_rps`` *and* a sign that
it hurts or is being refused (a reject ratio of 10 %+, shedding, or a standing queue), held for
``CONFIRM`` seconds; or enough slow or refused connections on their own.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

WINDOW = 10  # seconds of history
CONFIRM = 3  # seconds an attack signal must hold before attack_started
MITIGATED_AFTER = 5  # seconds of good service under attack before attack_mitigated
QUIET = 30  # seconds without the signal before attack_ended
SOURCE_SAMPLE = 20_000  # distinct sources remembered per bucket (bounded)


@dataclass
class Bucket:
    second: int
    requests: int = 0
    rejected: int = 0
    shed: int = 0
    shed_class1: int = 0
    gets: int = 0
    new_urls: int = 0
    failed_logins: int = 0
    posts: int = 0
    slow_closes: int = 0
    refused_connections: int = 0
    latency_sum: float = 0.0
    admitted: int = 0
    by_class: Counter = field(default_factory=Counter)
    sources: set = field(default_factory=set)
    prefixes: set = field(default_factory=set)


def iso(wall: float) -> str:
    return (
        datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


class Detector:
    def __init__(self, attack_rps: float) -> None:
        self.attack_rps = attack_rps
        self.buckets: deque[Bucket] = deque(maxlen=WINDOW)
        self.state = "calm"
        self.started_at = 0.0
        self._signal_since: float | None = None
        self._good_since: float | None = None
        self._quiet_since: float | None = None
        self._seen_urls: set[int] = set()
        self._current = Bucket(-1)  # buckets[-1] once there is one (read once per request)

    def bucket(self, now: float) -> Bucket:
        second = int(now)
        current = self._current
        if current.second == second:
            return current
        current = self._current = Bucket(second)
        self.buckets.append(current)
        if len(self._seen_urls) > 200_000:
            self._seen_urls.clear()
        return current

    def request(
        self, now: float, ip: str, prefix: str, klass: int, method: str, url_key: int
    ) -> None:
        b = self._current
        if b.second != int(now):  # a new second (the call is skipped the rest of the time)
            b = self.bucket(now)
        b.requests += 1
        b.by_class[klass] += 1
        if method == "GET":
            b.gets += 1
        if url_key not in self._seen_urls:
            self._seen_urls.add(url_key)
            b.new_urls += 1
        if len(b.sources) < SOURCE_SAMPLE:
            b.sources.add(ip)
            b.prefixes.add(prefix)

    def completed(self, now: float, latency: float, failed_login: bool, post: bool) -> None:
        b = self._current
        if b.second != int(now):
            b = self.bucket(now)
        b.admitted += 1
        b.latency_sum += latency
        b.failed_logins += failed_login
        b.posts += post

    def figures(self, now: float) -> dict[str, Any]:
        """Totals over the window, per second."""
        recent = [b for b in self.buckets if int(now) - b.second < WINDOW]
        span = max(1, len(recent))
        total = sum(b.requests for b in recent)

        def rate(attr: str) -> float:
            return round(sum(getattr(b, attr) for b in recent) / span, 1)

        refused = sum(b.rejected + b.shed for b in recent)
        admitted = sum(b.admitted for b in recent)
        return {
            "requests_per_s": round(total / span, 1),
            "sources": len(set().union(*(b.sources for b in recent))) if recent else 0,
            "prefixes": len(set().union(*(b.prefixes for b in recent))) if recent else 0,
            "reject_ratio": round(refused / total, 3) if total else 0.0,
            "shed_per_s": rate("shed"),
            "shed_class1_per_s": rate("shed_class1"),
            "get_share": round(sum(b.gets for b in recent) / total, 3) if total else 0.0,
            "new_url_share": round(sum(b.new_urls for b in recent) / total, 3) if total else 0.0,
            "failed_logins_per_s": rate("failed_logins"),
            "posts_per_s": rate("posts"),
            "slow_closes_per_s": rate("slow_closes"),
            "refused_connections_per_s": rate("refused_connections"),
            "admitted_latency_ms": round(1000 * sum(b.latency_sum for b in recent) / admitted, 2)
            if admitted
            else 0.0,
        }

    def classify(self, f: dict[str, Any]) -> list[str]:
        kinds = []
        if f["get_share"] > 0.7 and f["requests_per_s"] >= self.attack_rps:
            kinds.append("volumetric_get_flood")
        if f["new_url_share"] > 0.5 and f["requests_per_s"] >= self.attack_rps / 2:
            kinds.append("cache_busting")
        if f["failed_logins_per_s"] >= 5:
            kinds.append("login_brute_force")
        if f["posts_per_s"] >= 20:
            kinds.append("post_spam")
        if f["slow_closes_per_s"] >= 5:
            kinds.append("slow_clients")
        if f["refused_connections_per_s"] >= 50:
            kinds.append("connection_flood")
        return kinds

    def signal(self, f: dict[str, Any], queue_standing: bool) -> bool:
        hurting = f["reject_ratio"] >= 0.1 or queue_standing or f["shed_per_s"] >= 1
        volumetric = f["requests_per_s"] >= self.attack_rps and hurting
        return volumetric or f["slow_closes_per_s"] >= 5 or f["refused_connections_per_s"] >= 50

    def tick(self, now: float, wall: float, queue_standing: bool) -> dict[str, Any] | None:
        """Advance the state machine once a second; returns an event body when the state changes."""
        f = self.figures(now)
        on = self.signal(f, queue_standing)
        if self.state == "calm":
            return self._calm(on, now, wall, f)
        self._quiet_since = None if on else (self._quiet_since or now)
        if self._quiet_since is not None and now - self._quiet_since >= QUIET:
            self.state = "calm"
            return self._event("attack_ended", wall, f)
        if self.state == "attack":
            good = f["shed_class1_per_s"] == 0 and f["admitted_latency_ms"] < 250
            self._good_since = (self._good_since or now) if good else None
            if self._good_since is not None and now - self._good_since >= MITIGATED_AFTER:
                self.state = "mitigated"
                return self._event("attack_mitigated", wall, f)
        return None

    def _calm(self, on: bool, now: float, wall: float, f: dict[str, Any]) -> dict[str, Any] | None:
        if not on:
            self._signal_since = None
            return None
        if self._signal_since is None:
            self._signal_since = now
            self._signal_wall = wall
        if now - self._signal_since < CONFIRM:
            return None
        self.state, self.started_at = "attack", self._signal_wall
        self._good_since = self._quiet_since = None
        return self._event("attack_started", wall, f)

    @property
    def under_attack(self) -> bool:
        return self.state != "calm"

    def _event(self, kind: str, wall: float, f: dict[str, Any]) -> dict[str, Any]:
        kinds = self.classify(f) or ["volumetric_get_flood"]
        return {
            "type": kind,
            "at": iso(wall),
            "started_at": iso(self.started_at),
            "classification": kinds,
            "summary": summary(kind, kinds, f),
            "figures": f,
        }


def summary(kind: str, kinds: list[str], f: dict[str, Any]) -> str:
    what = " and ".join(k.replace("_", " ") for k in kinds)
    head = {
        "attack_started": "a",
        "attack_mitigated": "mitigated: a",
        "attack_ended": "ended: a",
    }[kind]
    return (
        f"{head} {what} from {f['sources']:,} addresses in {f['prefixes']:,} prefixes, "
        f"{f['requests_per_s']:,.0f} requests/s, {f['reject_ratio']:.0%} refused"
    )
