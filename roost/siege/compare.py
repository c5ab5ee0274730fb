"""`roost siege compare`: one scenario, several targets in turn, same seeds, one table.

Targets come from the scenario's ``[[targets]]``. A target with a ``command`` is started here
(in its own session, pinned to its ``cpus``, with ``{tmp}``, ``{scenario_dir}`` and ``{python}``
filled in; ``roost`` means this Python's ``roost`` CLI), awaited at ``ready_url``, and stopped
after its run, so the whole comparison is one command. Ctrl-C stops the target being measured
and skips the rest; the table and summary of what was measured are still written (exit 130).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from roost.siege import affinity
from roost.siege.guard import check_target
from roost.siege.interrupts import Interrupts
from roost.siege.outcome import RunOptions
from roost.siege.scenario import Scenario, TargetSpec
from roost.siege.session import NotStarted, load, run_loaded


def compare(
    path: Path,
    out_dir: Path,
    duration: float | None,
    max_requests: int | None,
    cpus: tuple[int, ...],
    only: tuple[str, ...],
    live: bool = True,
) -> list[dict[str, Any]]:
    scenario = load(path)
    targets = [t for t in scenario.targets if not only or t.name in only]
    if not targets:
        raise click.ClickException(f"{path}: no [[targets]] to compare (or none named {only})")
    reports: list[dict[str, Any]] = []
    failed: click.ClickException | None = None  # a target that would not start ends the run
    interrupted = False  # so does Ctrl-C, while a target starts or runs
    with Interrupts() as interrupts:
        for spec in targets:
            try:
                with started(spec, scenario) as pids:
                    options = RunOptions(spec.url, duration, max_requests, cpus, (), pids, live)
                    options.label, options.status_url = spec.name, spec.status_url
                    reports.append(run_loaded(scenario, options, out_dir))
            except (KeyboardInterrupt, NotStarted):
                interrupted = True
            except click.ClickException as error:
                failed = error
            else:
                interrupted = reports[-1]["interrupted"]
            if interrupted or failed:
                interrupts.hold()  # only writing is left: keep what was measured
                break
        if not reports:
            raise failed or NotStarted("interrupted before any target was measured; no table")
        summary = _write_summary(scenario.name, reports, out_dir)
    Console().print(f"comparison: {summary}")
    skipped = ", ".join(t.name for t in targets[len(reports) :])
    if failed is not None:
        raise click.ClickException(f"{failed.message}; not run against {skipped}")
    if interrupted:
        if skipped:
            Console(stderr=True).print(f"interrupted: not run against {skipped}")
        raise SystemExit(130)
    return reports


def _write_summary(name: str, reports: list[dict[str, Any]], out_dir: Path) -> Path:
    """The side-by-side table on the terminal, and as JSON beside the reports."""
    render(reports, Console())
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = out_dir / f"{name}-compare-{time.strftime('%Y%m%d-%H%M%S')}.json"
    summary.write_text(json.dumps([summarize(r) for r in reports], indent=2) + "\n")
    return summary


@contextlib.contextmanager
def started(spec: TargetSpec, scenario: Scenario) -> Iterator[tuple[int, ...]]:
    """Start the target's commands (if any), wait until it answers, stop it afterwards."""
    check_target(spec.url)
    if not spec.commands:
        yield ()
        return
    for url in dict.fromkeys((spec.url, spec.ready_url)):
        _refuse_if_taken(spec, url)
    workdir = Path(tempfile.mkdtemp(prefix=f"siege-{spec.name}-"))
    if os.geteuid() == 0:
        # Started by root, servers may drop privileges (nginx's workers run as nobody) and must
        # still reach their files in {tmp}: mkdtemp's 0700 would make nginx's cache fail (500).
        workdir.chmod(0o755)
    fill = {"tmp": str(workdir), "scenario_dir": str(Path(scenario.path).parent.resolve())}
    fill["python"] = sys.executable
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for index, command in enumerate(spec.commands):
            processes.append(_spawn(spec, command, fill, workdir / f"target-{index}.log"))
        _wait_ready(spec, processes, workdir)
        yield tuple(p.pid for p in processes)
    finally:
        for process in reversed(processes):
            _stop(process)


def _refuse_if_taken(spec: TargetSpec, url: str) -> None:
    """A target we start must find its port free: otherwise the readiness check would be
    answered by whatever already listens there, and that server would be measured instead."""
    target = check_target(url)
    try:
        socket.create_connection((target.address, target.port), timeout=1).close()
    except OSError:
        return  # nothing listens: ours will
    pids = affinity.listening_pids(target.port)
    who = f" (pid {', '.join(map(str, pids))})" if pids else ""
    raise click.ClickException(
        f"target {spec.name}: something already listens on {target.address} port "
        f"{target.port}{who}; compare starts this target itself, so stop that server or give "
        "the target another port"
    )


def _spawn(
    spec: TargetSpec, command: tuple[str, ...], fill: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    argv = [part.format(**fill) for part in command]
    if argv[0] == "roost":
        argv = [sys.executable, "-m", "roost.cli", *argv[1:]]
    env = {**os.environ, **{k: v.format(**fill) for k, v in spec.env}}
    cpus = set(spec.cpus)
    with log.open("wb") as output:
        return subprocess.Popen(
            argv,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
        )


def _wait_ready(spec: TargetSpec, processes: list[subprocess.Popen[bytes]], workdir: Path) -> None:
    target = check_target(spec.ready_url)
    deadline = time.monotonic() + spec.start_timeout_s
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                logs = "".join(p.read_text()[-800:] for p in sorted(workdir.glob("target-*.log")))
                raise click.ClickException(
                    f"target {spec.name}: {process.args!r} exited with "
                    f"{process.returncode} before answering:\n{logs}"
                )
        try:
            url = target.base + target.path
            reply = httpx.get(url, headers={"Host": target.host_header}, timeout=1)
            if reply.status_code < 500:  # a proxy answers 502 before its upstream is up
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise click.ClickException(
        f"target {spec.name} did not answer at {spec.ready_url} within {spec.start_timeout_s:g} s"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the session we started, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """The figures that matter for a side-by-side view, from one report."""
    attacked = [
        p for p in report["phases"] if any(c["kind"] == "attack" for c in p["classes"].values())
    ]
    calm = [p for p in report["phases"] if p not in attacked]
    return {
        "target": report["label"] or report["target"],
        "legit success, calm": _success(calm, "legit"),
        "legit success, attack": _success(attacked, "legit"),
        "legit p99 ms, calm": _worst(calm, "legit", "p99"),
        "legit p99 ms, attack": _worst(attacked, "legit", "p99"),
        "status page success, calm": _success(calm, "status"),
        "status page success, attack": _success(attacked, "status"),
        "wrongly rejected": _total(attacked, "legit", "wrongly_rejected"),
        "attack requests": _total(attacked, "attack", "requests"),
        "attack shed": _total(attacked, "attack", "shed"),
        "attack admitted": _total(attacked, "attack", "admitted"),
        "time to detect s": report["detection"].get("time_to_detect_s"),
        "time to recover s": report["detection"].get("time_to_recover_s"),
        "warnings": len(report["warnings"]),
        "stop": report["stop_reason"],
    }


def render(reports: list[dict[str, Any]], console: Console) -> None:
    rows = [summarize(r) for r in reports]
    table = Table(title="roost siege compare")
    table.add_column("")
    for row in rows:
        table.add_column(str(row["target"]), justify="right")
    for key in list(rows[0])[1:]:
        table.add_row(key, *(_cell(key, row[key]) for row in rows))
    console.print(table)


def _classes(phases: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [c for p in phases for c in p["classes"].values() if c["kind"] == kind]


def _success(phases: list[dict[str, Any]], kind: str) -> float | None:
    classes = _classes(phases, kind)
    sent = sum(c["requests"] for c in classes)
    return round(sum(c["ok"] for c in classes) / sent, 4) if sent else None


def _total(phases: list[dict[str, Any]], kind: str, key: str) -> int:
    return sum(c.get(key, 0) for c in _classes(phases, kind))


def _worst(phases: list[dict[str, Any]], kind: str, percentile: str) -> float | None:
    values = [c["latency_ms"][percentile] for c in _classes(phases, kind)]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if "success" in key:
        return f"{value:.1%}"
    return f"{value:,}" if isinstance(value, int | float) else str(value)
