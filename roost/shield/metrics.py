"""The shield's Prometheus metrics, in a registry of its own (one per Shield, so tests and several
shields in one process never collide on prometheus-client's global registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class ShieldMetrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[str, int, str], Counter] = {}
        self._tallies: dict[tuple[str, int, str], int] = {}
        self.requests = Counter(
            "roost_shield_requests_total",
            "Requests by outcome (admitted, rejected, shed, challenged), class and reason.",
            ["outcome", "klass", "reason"],
            registry=registry,
        )
        self.protocol_refusals = Counter(
            "roost_shield_protocol_refusals_total",
            "Requests refused by the connection protocol before ASGI (canned 429, 4xx, 408).",
            registry=registry,
        )
        self.accept_closes = Gauge(
            "roost_shield_accept_closes",
            "Connections closed at accept (blocked).",
            registry=registry,
        )
        self.slow_closes = Gauge(
            "roost_shield_slow_closes",
            "Connections cut by header/body deadlines.",
            registry=registry,
        )
        self.concurrency_limit = Gauge(
            "roost_shield_concurrency_limit", "Adaptive concurrency limit.", registry=registry
        )
        self.inflight = Gauge(
            "roost_shield_inflight", "Requests running in the app.", registry=registry
        )
        self.queued = Gauge(
            "roost_shield_queued", "Requests waiting for admission.", registry=registry
        )
        self.queue_delay = Histogram(
            "roost_shield_queue_delay_seconds",
            "Time admitted requests that had to queue waited (immediate admissions not counted).",
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
            registry=registry,
        )
        self.under_attack = Gauge(
            "roost_shield_under_attack",
            "1 while the shield judges the site under attack.",
            registry=registry,
        )
        self.attack_events = Counter(
            "roost_shield_attack_events_total",
            "Attack events emitted.",
            ["type"],
            registry=registry,
        )
        self.blocked_sources = Gauge(
            "roost_shield_blocked_sources",
            "Addresses and prefixes closed at accept.",
            registry=registry,
        )
        self.redis_failures = Counter(
            "roost_shield_redis_failures_total",
            "Shared-limit checks that fell back to local limits because Redis failed.",
            registry=registry,
        )
        self.brownout = Counter(
            "roost_shield_brownout_total", "Brownout actions.", ["action"], registry=registry
        )

    def count(self, outcome: str, klass: int, reason: str) -> None:
        """Count a request in ``requests``: a plain tally per label set, folded into the counter
        by ``flush`` (prometheus-client takes a lock and checks its arguments on every ``inc``,
        a measurable share of an admitted request's cost; nothing reads it between scrapes)."""
        key = (outcome, klass, reason)
        tallies = self._tallies
        tallies[key] = tallies.get(key, 0) + 1

    def flush(self) -> None:
        """Fold the tallies into ``requests`` (before a scrape; the layer's tick too)."""
        tallies, self._tallies = self._tallies, {}
        for (outcome, klass, reason), n in tallies.items():
            child = self._children.get((outcome, klass, reason))
            if child is None:
                child = self.requests.labels(outcome, str(klass), reason)
                self._children[outcome, klass, reason] = child
            child.inc(n)

    def render(self) -> bytes:
        self.flush()
        return generate_latest(self.registry)
