"""The shield's once-a-second bookkeeping and its admin snapshot (kept out of the request path)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from roost.shield.limit import GradientLimit
from roost.shield.mode import MODES, read_mode
from roost.shield.network import prefix_of

if TYPE_CHECKING:
    from roost.shield.layer import Shield


async def sample_lag(limit: GradientLimit, period: float = 0.05) -> None:
    """Feed the concurrency limit with event-loop lag: how late a ``period`` timer fires."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(period)
        limit.note_lag(loop.time() - started - period)


async def tick(shield: Shield) -> None:
    now, wall = shield.clock(), time.time()
    _drain_protocol_refusals(shield, now)
    shield.gate.sweep(now)
    _count_connections(shield, now)
    await shield.shared.sync(shield.gate, shield.revoked)
    if shield.shared.enabled:
        standing = shield.standing
        tables = {"ip": standing.ip, "prefix": standing.prefix, "account": standing.account}
        await shield.shared.share_scores(tables, now)
    shield.standing.absorb_suspects(shield.shared.suspects, now)
    # The cluster-wide mode in Redis (set by the CLI) wins over this machine's file.
    local = read_mode(shield.settings.mode_file, shield.settings.mode)
    shield.mode = shield.shared.mode if shield.shared.mode in MODES else local
    if shield.edge is not None:  # push decisions to the edge, fold in what it answered itself
        bucket = shield.detector.bucket(now)
        limit = round(shield.admission.limit.limit)
        await shield.edge.sync(
            shield.gate, shield.standing, shield.under_attack, bucket, now, limit
        )
    event = shield.detector.tick(now, wall, shield.admission.standing(now))
    if event is not None:
        shield.metrics.attack_events.labels(event["type"]).inc()
        shield.events.emit(event)
    m = shield.metrics
    m.flush()
    m.under_attack.set(1 if shield.under_attack else 0)
    m.concurrency_limit.set(shield.admission.limit.limit)
    m.inflight.set(shield.admission.inflight)
    m.queued.set(shield.admission.queued)
    m.accept_closes.set(shield.gate.accept_closes)
    m.slow_closes.set(shield.gate.slow_closes)
    m.blocked_sources.set(len(shield.gate.active_blocks(now)))


def _drain_protocol_refusals(shield: Shield, now: float) -> None:
    refusals = shield.gate.protocol_refusals
    if not refusals:
        return
    shield.gate.protocol_refusals = type(refusals)()
    bucket = shield.detector.bucket(now)
    total = 0
    for ip, count in refusals.items():
        total += count
        shield.note_address(ip, prefix_of(ip), "rate_limited", now, count)
    bucket.rejected += total
    bucket.requests += total
    bucket.gets += total  # the protocol's fast path only ever refuses bodiless requests
    shield.metrics.protocol_refusals.inc(total)


def _count_connections(shield: Shield, now: float) -> None:
    """Slow and refused connections since the last tick, into the detector's current second."""
    gate, seen = shield.gate, shield.connection_counts
    slow = gate.slow_closes
    refused = gate.accept_closes + gate.connection_cap_closes
    bucket = shield.detector.bucket(now)
    bucket.slow_closes += slow - seen[0]
    bucket.refused_connections += refused - seen[1]
    shield.connection_counts = (slow, refused)


def snapshot(shield: Shield) -> dict[str, Any]:
    """What ``/-/shield`` and ``roost shield top`` show."""
    now = shield.clock()
    return {
        "mode": shield.mode,
        "under_attack": shield.under_attack,
        "attack_state": shield.detector.state,
        "figures": shield.detector.figures(now),
        "concurrency_limit": shield.admission.limit.limit,
        "loop_lag_ms": round(shield.admission.limit.lag * 1000, 1),
        "inflight": shield.admission.inflight,
        "queued": shield.admission.queued,
        "redis": shield.shared.status(),
        "top_prefixes": shield.rep_prefix.top(20, now),
        "top_addresses": shield.rep_ip.top(20, now),
        "blocked": shield.gate.active_blocks(now),
        "recent_events": shield.events.sent[-5:],
        "edge": _edge_view(shield),
        "gate": {
            "accept_closes": shield.gate.accept_closes,
            "connection_cap_closes": shield.gate.connection_cap_closes,
            "slow_closes": shield.gate.slow_closes,
            "connections": sum(shield.gate.connections.values()),
        },
    }


def _edge_view(shield: Shield) -> dict[str, Any] | None:
    edge = shield.edge
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
