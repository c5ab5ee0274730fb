"""A generator process: runs its share of every phase's attacks and reports back over a pipe.

The coordinator (``runner.py``) starts one of these per ``workers`` in the scenario, each with a
disjoint slice of the bots' source addresses and its share of every rate. Messages to the
coordinator: ``("ready",)``, ``("progress", t, {key: counters})`` twice a second, ``("error",
text)`` if an attack failed, and finally ``("final", ledger rows, placement)``. Ctrl-C is the
coordinator's business: this process ignores SIGINT and stops when the shared stop event is set,
closing all its connections.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

from roost.siege import descriptors
from roost.siege.flood import Budget, RequestFlood
from roost.siege.guard import Target, check_source
from roost.siege.hold import HoldFlood
from roost.siege.profiles import PROFILES, AttackContext, Slowloris
from roost.siege.scenario import AttackSpec
from roost.siege.stats import Ledger

PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True)
class AttackShare:
    """One attack as this process runs it: its slice of sources, connections and rate."""

    spec: AttackSpec
    sources: tuple[str | None, ...]
    seed: int


@dataclass(frozen=True)
class PhaseWindow:
    name: str
    start_s: float  # offset from the run's start
    end_s: float
    attacks: tuple[AttackShare, ...]


@dataclass(frozen=True)
class WorkerPlan:
    index: int
    target: Target
    context: AttackContext
    phases: tuple[PhaseWindow, ...]
    max_requests: int
    cpus: tuple[int, ...] = ()


def worker_main(plan: WorkerPlan, pipe: Connection, stop: Event) -> None:
    """Process entry point (multiprocessing, spawn)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    open_files = descriptors.raise_soft_limit()  # scenarios were checked against the hard limit
    if plan.cpus:
        os.sched_setaffinity(0, set(plan.cpus))
    for window in plan.phases:  # the guard again, in this process, before any socket
        for share in window.attacks:
            for source in share.sources:
                if source is not None:
                    check_source(source)
    import uvloop

    pipe.send(("ready",))
    try:
        message = pipe.recv()
    except EOFError:  # the coordinator is gone: nothing was started, nothing to report
        return
    if message[0] != "start":
        return
    ledger = Ledger()
    phase_cpu: dict[str, float] = {}
    wall, cpu = time.monotonic(), time.process_time()
    try:
        uvloop.run(_run(plan, message[1], pipe, stop, ledger, phase_cpu))
    finally:
        placement = {
            "worker": plan.index,
            "pid": os.getpid(),
            "cpus": sorted(os.sched_getaffinity(0)),
            "open_files": open_files,
            "cpu_share": (time.process_time() - cpu) / max(time.monotonic() - wall, 1e-9),
            "phase_cpu_share": phase_cpu,  # a share near 1.0 means this process was the limit
        }
        pipe.send(("final", ledger.to_wire(), placement))


async def _run(
    plan: WorkerPlan,
    start_at: float,
    pipe: Connection,
    stop: Event,
    ledger: Ledger,
    phase_cpu: dict[str, float],
) -> None:
    stopping = asyncio.Event()
    budget = Budget(plan.max_requests)
    helpers = [
        asyncio.create_task(_watch_stop(stop, stopping)),
        asyncio.create_task(_report(pipe, ledger, start_at)),
    ]
    try:
        for window in plan.phases:
            if stopping.is_set() or budget.remaining <= 0:
                break
            await _sleep_until(start_at + window.start_s, stopping)
            wall, cpu = time.monotonic(), time.process_time()
            jobs = [_job(plan, window, share, ledger, budget) for share in window.attacks]
            runs = [
                job.run(start_at + window.start_s, start_at + window.end_s, stopping)
                for job in jobs
            ]
            # One attack failing must not end the others: it is reported and the phase goes on.
            for share, result in zip(
                window.attacks, await asyncio.gather(*runs, return_exceptions=True), strict=True
            ):
                if isinstance(result, Exception):
                    failure = f"{window.name}/{share.spec.name} failed: {result!r}"
                    pipe.send(("error", failure))
            if not jobs:
                await _sleep_until(start_at + window.end_s, stopping)
            elapsed = max(time.monotonic() - wall, 1e-9)
            phase_cpu[window.name] = round((time.process_time() - cpu) / elapsed, 3)
    finally:
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        # One last snapshot, so that the per-second series holds the sends of the last moments too.
        pipe.send(("progress", time.monotonic() - start_at, _snapshot(ledger)))


def _job(
    plan: WorkerPlan, window: PhaseWindow, share: AttackShare, ledger: Ledger, budget: Budget
) -> RequestFlood | HoldFlood:
    spec = share.spec
    profile_cls = PROFILES[spec.profile]
    profile = profile_cls(plan.context, random.Random(share.seed), paths=spec.paths)
    stats = ledger.get(window.name, spec.name)
    common = (profile, plan.target, share.sources, spec.connections, spec.schedule, stats, budget)
    if isinstance(profile, Slowloris):
        return HoldFlood(*common, interval_s=spec.interval_s)
    return RequestFlood(*common, rotate_after=spec.rotate_after, pipeline=spec.pipeline)


async def _sleep_until(moment: float, stopping: asyncio.Event) -> None:
    delay = moment - time.monotonic()
    if delay <= 0:
        return
    try:
        async with asyncio.timeout(delay):
            await stopping.wait()
    except TimeoutError:
        pass


async def _watch_stop(stop: Event, stopping: asyncio.Event) -> None:
    # A multiprocessing Event cannot be awaited; a 50 ms poll is cheap and bounds stop latency.
    while not stop.is_set():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    stopping.set()


async def _report(pipe: Connection, ledger: Ledger, start_at: float) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        pipe.send(("progress", time.monotonic() - start_at, _snapshot(ledger)))


def _snapshot(ledger: Ledger) -> dict[str, Any]:
    return {f"{phase}/{name}": stats.counters() for (phase, name), stats in ledger.entries.items()}
