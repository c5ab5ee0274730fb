"""The shield's once-a-second bookkeeping and its admin snapshot (kept out of the request path)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from roost.config import Settings
from roost.shield.admission import Admission
from roost.shield.detector import Detector
from roost.shield.edge import EdgeLink
from roost.shield.events import EventSender
from roost.shield.gate import Gate
from roost.shield.limit import GradientLimit
from roost.shield.metrics import ShieldMetrics
from roost.shield.mode import MODES, read_mode
from roost.shield.network import prefix_of
from roost.shield.shared import SharedState
from roost.shield.standing import Standing

log = logging.getLogger("roost.shield")


async def sample_lag(limit: GradientLimit, period: float = 0.05) -> None:
    """Feed the concurrency limit with event-loop lag: how late a ``period`` timer fires."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(period)
        limit.note_lag(loop.time() - started - period)


class Bookkeeper:
    """The shield's periodic work and the state only it changes: the mode in force, what the
    last tick counted, the edge and status links it feeds, its background tasks. The request
    path reads ``under_attack`` and ``running``; ``/-/shield`` shows ``snapshot()``."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float],
        metrics: ShieldMetrics,
        gate: Gate,
        shared: SharedState,
        standing: Standing,
        detector: Detector,
        admission: Admission,
        revoked: set[str],  # the layer's revoked passes, shared with the other processes here
    ) -> None:
        self.settings, self.clock, self.metrics = settings.shield, clock, metrics
        self.standing, self.detector, self.admission = standing, detector, admission
        self.gate, self.shared, self.revoked = gate, shared, revoked
        self.mode = read_mode(self.settings.mode_file, self.settings.mode)
        self.connection_counts = (0, 0)  # slow, refused: totals at the last tick
        token = settings.status.admin_token
        self.events = EventSender(settings.status.page_url if token else "", token)
        self.edge = _edge_link(settings)
        self.running = False
        self._tasks: list[asyncio.Task] = []

    @property
    def under_attack(self) -> bool:
        return self.mode == "on" or (self.mode == "auto" and self.detector.state != "calm")

    # Lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start ticking (on the first request: the loop is running by then)."""
        if self.running:
            return
        self.running = True
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._tick_forever()),
            loop.create_task(sample_lag(self.admission.limit)),
        ]
        self.events.start()

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks, self.running = [], False
        await self.events.stop()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.tick()
            except Exception:  # a bug in bookkeeping must not stop the shield: log and go on
                log.exception("shield tick failed")

    # The tick --------------------------------------------------------------------------------
    async def tick(self) -> None:
        """Once a second: fold protocol refusals into reputation, advance detection, sync state."""
        now, wall = self.clock(), time.time()
        self._drain_protocol_refusals(now)
        self.gate.sweep(now)
        self._count_connections(now)
        await self._share(now)
        # The cluster-wide mode in Redis (set by the CLI) wins over this machine's file.
        local = read_mode(self.settings.mode_file, self.settings.mode)
        self.mode = self.shared.mode if self.shared.mode in MODES else local
        if self.edge is not None:  # push decisions to the edge, fold in what it answered itself
            bucket = self.detector.bucket(now)
            limit = round(self.admission.limit.limit)
            await self.edge.sync(self.gate, self.standing, self.under_attack, bucket, now, limit)
        event = self.detector.tick(now, wall, self.admission.standing(now))
        if event is not None:
            self.metrics.attack_events.labels(event["type"]).inc()
            self.events.emit(event)
        self._set_gauges(now)

    def _drain_protocol_refusals(self, now: float) -> None:
        refusals = self.gate.protocol_refusals
        if not refusals:
            return
        self.gate.protocol_refusals = type(refusals)()
        bucket = self.detector.bucket(now)
        total = 0
        for ip, count in refusals.items():
            total += count
            self.standing.note_address(ip, prefix_of(ip), "rate_limited", now, count)
        bucket.rejected += total
        bucket.requests += total
        bucket.gets += total  # the protocol's fast path only ever refuses bodiless requests
        self.metrics.protocol_refusals.inc(total)

    def _count_connections(self, now: float) -> None:
        """Slow and refused connections since the last tick, into the detector's current second."""
        gate, seen = self.gate, self.connection_counts
        slow = gate.slow_closes
        refused = gate.accept_closes + gate.connection_cap_closes
        bucket = self.detector.bucket(now)
        bucket.slow_closes += slow - seen[0]
        bucket.refused_connections += refused - seen[1]
        self.connection_counts = (slow, refused)

    async def _share(self, now: float) -> None:
        """Blocks, revocations and scores out to the other processes; theirs in."""
        shared, standing = self.shared, self.standing
        await shared.sync(self.gate, self.revoked)
        if shared.enabled:
            tables = {"ip": standing.ip, "prefix": standing.prefix, "account": standing.account}
            await shared.share_scores(tables, now)
        standing.absorb_suspects(shared.suspects, now)

    def _set_gauges(self, now: float) -> None:
        m, admission, gate = self.metrics, self.admission, self.gate
        m.flush()
        m.under_attack.set(1 if self.under_attack else 0)
        m.concurrency_limit.set(admission.limit.limit)
        m.inflight.set(admission.inflight)
        m.queued.set(admission.queued)
        m.accept_closes.set(gate.accept_closes)
        m.slow_closes.set(gate.slow_closes)
        m.blocked_sources.set(len(gate.active_blocks(now)))

    # The admin view --------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """What ``/-/shield`` and ``roost shield top`` show."""
        now = self.clock()
        admission, gate = self.admission, self.gate
        return {
            "mode": self.mode,
            "under_attack": self.under_attack,
            "attack_state": self.detector.state,
            "figures": self.detector.figures(now),
            "concurrency_limit": admission.limit.limit,
            "loop_lag_ms": round(admission.limit.lag * 1000, 1),
            "inflight": admission.inflight,
            "queued": admission.queued,
            "redis": self.shared.status(),
            "top_prefixes": self.standing.prefix.top(20, now),
            "top_addresses": self.standing.ip.top(20, now),
            "blocked": gate.active_blocks(now),
            "recent_events": self.events.sent[-5:],
            "edge": _edge_view(self.edge),
            "gate": {
                "accept_closes": gate.accept_closes,
                "connection_cap_closes": gate.connection_cap_closes,
                "slow_closes": gate.slow_closes,
                "connections": sum(gate.connections.values()),
            },
        }


def _edge_link(settings: Settings) -> EdgeLink | None:
    """The edge in front (HAProxy), told our decisions once a second (edge.py), if configured."""
    if not settings.edge.runtime:
        return None
    ceiling = settings.edge.server_maxconn * max(1, settings.workers)
    own = f"{settings.host}:{settings.port}"
    return EdgeLink(settings.edge.runtime, own_address=own, ceiling=ceiling)


def _edge_view(edge: EdgeLink | None) -> dict[str, Any] | None:
    if edge is None:
        return None
    return {
        "runtime": edge.runtime.path,
        "reachable": edge.reachable,
        "queued": edge.queued,
        "pushed": {name: len(keys) for name, keys in edge.pushed.items()},
        "under_attack_pushed": edge.pushed_mode,
        "server": edge.server_name,
        "maxconn_pushed": edge.pushed_maxconn,
    }
