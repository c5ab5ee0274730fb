"""The coordinating process during a run: legitimate users, generator messages, the live display.

Legitimate users live here rather than in the generators so that a saturated generator cannot
delay their clocks; the generators' progress arrives over pipes every half second and becomes the
per-second attack series. Ctrl-C and SIGTERM end the run early but gracefully (interrupts.py):
the generators close their connections and send their figures, and in-flight user requests get
one objective's time to finish.
"""

from __future__ import annotations

import asyncio
import random
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from typing import Any

from roost.siege.flood import Budget
from roost.siege.guard import Target
from roost.siege.interrupts import Interrupts
from roost.siege.legit import Clock, Reader, Recorder, User, Visitor
from roost.siege.live import Live
from roost.siege.outcome import Outcome
from roost.siege.scenario import Scenario
from roost.siege.setup import Cast
from roost.siege.solver import ShieldPow
from roost.siege.statuspage import StatusPoller

FINAL_TIMEOUT_S = 15.0


def legit_budget(
    scenario: Scenario, duration: float, max_requests: int, polled: bool = False
) -> int:
    """Legit users' (and the status page's) share of --max-requests: twice their expected
    count, at most half."""
    legit = scenario.legit
    per_s = (legit.users + legit.readers) * legit.actions_per_min / 60
    per_s += legit.status_rate if polled else 0.0
    return min(max_requests // 2, int(per_s * duration * 2) + 100)


async def coordinate(
    pipes: list[Connection],
    stop: Event,
    cast: Cast,
    target: Target,
    outcome: Outcome,
    start_at: float,
    run_s: float,
    interrupts: Interrupts,
) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def interrupted() -> None:  # from a signal handler: only thread-safe calls into the loop
        if stopping.is_set():  # already over: the run was not cut short
            return
        outcome.stop_reason = "interrupted"
        loop.call_soon_threadsafe(stopping.set)

    interrupts.attach(interrupted)
    scenario = outcome.scenario
    clock = Clock(start_at, tuple(outcome.phases), start_at + run_s)
    polled = cast.status is not None
    budget = Budget(legit_budget(scenario, run_s, int(outcome.limits["requests"]), polled))
    recorder = Recorder(outcome.ledger, outcome.timeline, clock, scenario.objective_s, budget)
    solver = ShieldPow()
    visitors = _visitors(scenario, cast, target, solver)
    timeout = scenario.legit.timeout_s
    tasks = [asyncio.create_task(v.run(recorder, stopping, timeout)) for v in visitors]
    live = Live(outcome, start_at, enabled=outcome.options.live)
    try:
        with live:
            await _watch(pipes, outcome, start_at, run_s, stopping, live)
    finally:
        stopping.set()
        stop.set()
        # Requests already in flight get one objective's time to finish and be judged.
        if tasks:
            await asyncio.wait(tasks, timeout=scenario.objective_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        solver.close()
        outcome.elapsed_s = time.monotonic() - start_at
        interrupts.detach()  # later signals cannot stop what is over; they must not lose the report


async def _watch(
    pipes: list[Connection],
    outcome: Outcome,
    start_at: float,
    run_s: float,
    stopping: asyncio.Event,
    live: Live,
) -> None:
    finished: set[int] = set()
    while not stopping.is_set():
        await asyncio.sleep(0.1)
        for index, pipe in enumerate(pipes):
            while index not in finished and pipe.poll():
                if _handle(index, _receive(pipe), outcome):
                    finished.add(index)
        live.update()
        if time.monotonic() >= start_at + run_s:
            return
        if len(finished) == len(pipes):  # every generator spent its request budget early
            outcome.stop_reason = "max_requests"
            return


def collect_finals(pipes: list[Connection], outcome: Outcome) -> None:
    """After stop: each generator closes its connections and sends its final ledger."""
    deadline = time.monotonic() + FINAL_TIMEOUT_S
    for index, pipe in enumerate(pipes):
        while not _reported(index, outcome) and pipe.poll(max(0.0, deadline - time.monotonic())):
            message = _receive(pipe)
            _handle(index, message, outcome)
            if message is None:
                break
        if not _reported(index, outcome):
            outcome.warnings.append(f"generator {index} sent no final figures; its counts are lost")


def _reported(index: int, outcome: Outcome) -> bool:
    return any(g["worker"] == index for g in outcome.placement.get("generators", []))


def _handle(index: int, message: tuple[Any, ...] | None, outcome: Outcome) -> bool:
    """Take in one generator message; True once that generator has finished (or died)."""
    if message is None:
        return True
    kind = message[0]
    if kind == "progress":
        outcome.timeline.attack_snapshot(index, message[1], message[2])
    elif kind == "error":
        outcome.warnings.append(f"generator {index}: {message[1]}")
    elif kind == "final":
        outcome.ledger.merge_wire(message[1])
        outcome.placement.setdefault("generators", []).append(message[2])
    return kind == "final"


def _receive(pipe: Connection) -> tuple[Any, ...] | None:
    try:
        return pipe.recv()
    except (EOFError, OSError):
        return None


def _visitors(scenario: Scenario, cast: Cast, target: Target, solver: ShieldPow) -> list[Visitor]:
    legit = scenario.legit
    visitors: list[Visitor] = []
    for index, account in enumerate(cast.users):
        rng = random.Random(scenario.seed * 7919 + index)
        who = (target, account.source, rng, legit.actions_per_min)
        visitors.append(User(who, account, lambda: cast.users, legit.user_actions))
    for index, source in enumerate(cast.reader_sources):
        rng = random.Random(scenario.seed * 104729 + index)
        visitors.append(
            Reader((target, source, rng, legit.actions_per_min), legit.reader_paths, solver)
        )
    if cast.status is not None:
        page, source = cast.status
        rng = random.Random(scenario.seed * 15485863)
        visitors.append(StatusPoller(page, source, rng, legit.status_rate * 60))
    return visitors
