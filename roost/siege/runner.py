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
from roost.siege.interrupts import Interrupts
from roost.siege.outcome import Outcome, RunOptions
from roost.siege.scenario import Scenario
from roost.siege.setup import Cast, prepare, windows
from roost.siege.sources import AddressPlan
from roost.siege.worker import WorkerPlan, worker_main

WORKER_START_TIMEOUT_S = 30.0
IPV6_WARNING = (
    "the target is IPv6 (::1) and source spreading is IPv4-only: every bot and user comes from "
    "::1, so defences that look at client addresses see one client (use 127.0.0.1 to test them)"
)


def limits(scenario: Scenario, options: RunOptions) -> tuple[float, int]:
    """The run's bounds: the option, else the scenario, else the defaults; never past the caps."""
    duration = options.duration_s or scenario.max_duration_s or DEFAULT_MAX_DURATION_S
    max_requests = options.max_requests or scenario.max_requests or DEFAULT_MAX_REQUESTS
    check_limits(duration, max_requests)
    return duration, max_requests


def run(scenario: Scenario, options: RunOptions, interrupts: Interrupts | None = None) -> Outcome:
    """Run a scenario against a target (synchronous; Ctrl-C ends it early with a report).

    ``interrupts``: the caller's scope when it still has the report to write after this returns
    (session.py); without one, signal handling goes back to what it was when this returns.
    """
    scope = contextlib.nullcontext(interrupts) if interrupts is not None else Interrupts()
    with scope as interrupts:
        return _run(scenario, options, interrupts)


def _run(scenario: Scenario, options: RunOptions, interrupts: Interrupts) -> Outcome:
    import uvloop

    target = check_target(options.target_url)
    duration, max_requests = limits(scenario, options)
    affinity.check_cpus(options.cpus + options.server_cpus)
    began = time.monotonic()
    deadline = began + duration  # one bound for setup and phases together
    outcome = Outcome(scenario, options, limits={"duration_s": duration, "requests": max_requests})
    if target.family_v6:
        outcome.warnings.append(IPV6_WARNING)
        _say(f"warning: {IPV6_WARNING}")
    plan = AddressPlan(scenario.seed)
    status_url = options.status_url or scenario.legit.status_url
    setup = prepare(scenario, target, plan, _say, status_url, deadline)
    cast = uvloop.run(_bounded(setup, duration))
    outcome.setup = {
        "seconds": round(time.monotonic() - began, 3),
        "users": len(cast.users) if cast else 0,
        "readers": len(cast.reader_sources) if cast else 0,
        "bot_accounts": len(cast.bots) if cast else 0,
        "status_url": status_url,
        **(cast.report if cast else {}),  # registrations and history: asked, made, refused
    }
    for warning in cast.warnings if cast else ():
        outcome.warnings.append(warning)
        _say(f"warning: {warning}")
    left = deadline - time.monotonic()
    if cast is None or left <= 0:
        outcome.stop_reason = "setup_timeout"
        outcome.warnings.append(
            f"setup (accounts through the API) took the whole {duration:g} s limit, so no phase "
            "ran; raise --duration or ask for fewer users and bot_accounts"
        )
        return outcome
    if scenario.duration_s > left:
        outcome.warnings.append(
            f"scenario lasts {scenario.duration_s:g} s but the run is limited to {duration:g} s, "
            f"of which setup took {outcome.setup['seconds']:g} s: phases are cut at about "
            f"{left:.1f} s (raise --duration, up to 900 s)"
        )
    _pin_server(target.port, options, outcome)
    plans = _plans(scenario, options, target, cast, plan, left, max_requests)
    # The users share the generators' CPUs, leaving the server's alone (they are light, and the
    # scheduler favours a mostly idle process, so their clocks stay on time).
    with affinity.pinned(options.cpus):
        outcome.placement["coordinator"] = {"cpus": affinity.available_cpus()}
        _drive(plans, cast, target, outcome, deadline, interrupts)
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
    reserve = legit_budget(scenario, duration, max_requests, cast.status is not None)
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
    plans: list[WorkerPlan],
    cast: Cast,
    target: Target,
    outcome: Outcome,
    deadline: float,
    interrupts: Interrupts,
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
        interrupts.arm()  # from the first "start" on, no signal may lose the report
        start_at = time.monotonic() + 0.2
        # Starting the generators took time too: the phases get what is left of the deadline.
        run_s = min(plans[0].phases[-1].end_s if plans[0].phases else 0.0, deadline - start_at)
        for pipe in pipes:
            pipe.send(("start", start_at))
        started = True
        outcome.phases = [
            (w.name, w.start_s, min(w.end_s, run_s)) for w in plans[0].phases if w.start_s < run_s
        ]
        _say(f"running for {max(run_s, 0):.1f} s; Ctrl-C stops early and still writes the report")
        uvloop.run(coordinate(pipes, stop, cast, target, outcome, start_at, run_s, interrupts))
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
    """Pin the server (``--server-cpu``) and record where it runs; a pin that could not be
    made (no listening process visible, or one we may not move) is a warning, never silent."""
    pids = list(options.server_pids) or affinity.listening_pids(port)
    for pid in pids if options.server_cpus else ():
        affinity.pin(pid, options.server_cpus)
    outcome.placement["server"] = [{"pid": pid, "cpus": affinity.cpus_of(pid)} for pid in pids]
    if not options.server_cpus:
        return
    problems = [
        f"server pid {server['pid']} could not be pinned (its CPUs: {server['cpus'] or 'unknown'})"
        for server in outcome.placement["server"]
        if server["cpus"] != sorted(set(options.server_cpus))
    ]
    if not pids:  # another user's server, or one in another network namespace
        problems.append(f"no process visible to this user listens on port {port}: not pinned")
    for problem in problems:
        outcome.warnings.append(f"--server-cpu: {problem}")
        _say(f"warning: --server-cpu: {problem}")


async def _bounded(setup: Coroutine[Any, Any, Cast], limit_s: float) -> Cast | None:
    """Setup counts against the run's duration limit; None when it used all of it."""
    try:
        async with asyncio.timeout(limit_s):
            return await setup
    except TimeoutError:
        return None
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
