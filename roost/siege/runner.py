"""One siege run: check, prepare, start the generators, run the users, stop.

The coordinator process runs the legitimate users (they are few and need a real HTTP client),
the live display and the bookkeeping; the attacks run in separate generator processes so that
a saturated generator cannot delay the users' clocks. The run ends when its phases are over, at
the duration or request limit, or on Ctrl-C/SIGTERM, and in every case closes every connection
and writes the report of what it measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import sys
import time
from collections.abc import Coroutine, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx

from roost.siege import affinity
from roost.siege.accounts import SetupError
from roost.siege.coordinator import collect_finals, coordinate, legit_budget
from roost.siege.guard import (
    DEFAULT_MAX_DURATION_S,
    DEFAULT_MAX_REQUESTS,
    Target,
    check_limits,
    check_target,
)
from roost.siege.outcome import Outcome, RunOptions
from roost.siege.scenario import Scenario
from roost.siege.setup import Cast, prepare, windows
from roost.siege.sources import AddressPlan
from roost.siege.worker import WorkerPlan, worker_main

WORKER_START_TIMEOUT_S = 30.0


def limits(scenario: Scenario, options: RunOptions) -> tuple[float, int]:
    """The run's bounds: the option, else the scenario, else the defaults; never past the caps."""
    duration = options.duration_s or scenario.max_duration_s or DEFAULT_MAX_DURATION_S
    max_requests = options.max_requests or scenario.max_requests or DEFAULT_MAX_REQUESTS
    check_limits(duration, max_requests)
    return duration, max_requests


def run(scenario: Scenario, options: RunOptions) -> Outcome:
    """Run a scenario against a target (synchronous; Ctrl-C ends it early with a report)."""
    import uvloop

    target = check_target(options.target_url)
    duration, max_requests = limits(scenario, options)
    affinity.check_cpus(options.cpus + options.server_cpus)
    outcome = Outcome(scenario, options, limits={"duration_s": duration, "requests": max_requests})
    if scenario.duration_s > duration:
        outcome.warnings.append(
            f"scenario lasts {scenario.duration_s:g} s but the run is limited to {duration:g} s: "
            "later phases are cut (raise --duration, up to 900 s)"
        )
    plan = AddressPlan(scenario.seed)
    began = time.monotonic()
    cast = uvloop.run(_bounded(prepare(scenario, target, plan, _say), duration))
    outcome.setup = {
        "seconds": round(time.monotonic() - began, 3),
        "users": len(cast.users),
        "readers": len(cast.reader_sources),
        "bot_accounts": len(cast.bots),
    }
    _pin_server(target.port, options, outcome)
    plans = _plans(scenario, options, target, cast, plan, duration, max_requests)
    # The users share the generators' CPUs, leaving the server's alone (they are light, and the
    # scheduler favours a mostly idle process, so their clocks stay on time).
    with affinity.pinned(options.cpus):
        outcome.placement["coordinator"] = {"cpus": affinity.available_cpus()}
        _drive(plans, cast, target, outcome, min(duration, scenario.duration_s))
    return outcome


def _plans(
    scenario: Scenario,
    options: RunOptions,
    target: Target,
    cast: Cast,
    plan: AddressPlan,
    duration: float,
    max_requests: int,
) -> list[WorkerPlan]:
    reserve = legit_budget(scenario, duration, max_requests)
    share = max(1, (max_requests - reserve) // scenario.workers)
    cpus = options.cpus or ()
    return [
        WorkerPlan(
            index=index,
            target=target,
            context=cast.context,
            phases=phases,
            max_requests=share,
            cpus=(cpus[index % len(cpus)],) if cpus else (),
        )
        for index, phases in enumerate(windows(scenario, plan, scenario.workers, duration))
    ]


def _drive(
    plans: list[WorkerPlan], cast: Cast, target: Target, outcome: Outcome, run_s: float
) -> None:
    import uvloop

    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    pipes: list[Connection] = []
    processes = []
    for worker_plan in plans:
        mine, theirs = context.Pipe()
        process = context.Process(target=worker_main, args=(worker_plan, theirs, stop), daemon=True)
        process.start()
        theirs.close()
        pipes.append(mine)
        processes.append(process)
    started = False
    try:
        _await_ready(pipes, processes)
        start_at = time.monotonic() + 0.2
        for pipe in pipes:
            pipe.send(("start", start_at))
        started = True
        outcome.phases = [(w.name, w.start_s, w.end_s) for w in plans[0].phases]
        uvloop.run(coordinate(pipes, stop, cast, target, outcome, start_at, run_s))
    finally:
        stop.set()
        if started:
            collect_finals(pipes, outcome)
        else:  # interrupted while they were starting: nothing was sent, nothing to collect
            for pipe in pipes:
                with contextlib.suppress(OSError):
                    pipe.send(("stop",))
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                outcome.warnings.append(f"generator process {process.pid} had to be killed")


def _await_ready(pipes: list[Connection], processes: Sequence[BaseProcess]) -> None:
    deadline = time.monotonic() + WORKER_START_TIMEOUT_S
    for pipe, process in zip(pipes, processes, strict=True):
        if not pipe.poll(max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"generator process {process.pid} did not start in time")
        pipe.recv()


def _pin_server(port: int, options: RunOptions, outcome: Outcome) -> None:
    pids = list(options.server_pids) or affinity.listening_pids(port)
    if options.server_cpus:
        for pid in pids:
            affinity.pin(pid, options.server_cpus)
    outcome.placement["server"] = [{"pid": pid, "cpus": affinity.cpus_of(pid)} for pid in pids]


async def _bounded(setup: Coroutine[Any, Any, Cast], limit_s: float) -> Cast:
    """Setup is bounded too, by the run's own duration limit."""
    try:
        async with asyncio.timeout(limit_s):
            return await setup
    except TimeoutError:
        raise SetupError(
            f"setup (accounts through the API) took longer than the run's {limit_s:g} s limit"
        ) from None
    except httpx.HTTPError as error:
        raise SetupError(f"setup failed talking to the target: {error!r}") from None


def _say(message: str) -> None:
    print(f"siege: {message}", file=sys.stderr, flush=True)


def output_dir(base: Path, scenario: Scenario, label: str = "") -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{scenario.name}-{label}-{stamp}" if label else f"{scenario.name}-{stamp}"
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    return path
