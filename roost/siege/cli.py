"""`roost siege`: the flood lab's command line (run, compare, check-target)."""

from __future__ import annotations

from pathlib import Path

import click

from roost.siege import descriptors
from roost.siege.guard import HARD_MAX_DURATION_S, HARD_MAX_REQUESTS, GuardError, check_target


@click.group()
def siege() -> None:
    """The flood lab: a bounded botnet and real users against a Roost server on loopback.

    Only loopback targets (127.0.0.0/8, ::1) and loopback sources; every run stops by itself.
    """
    descriptors.raise_soft_limit()  # held connections are files; 1,024 is far too few


@siege.command("check-target")
@click.argument("url")
def check_target_command(url: str) -> None:
    """Judge URL with the loopback guard only (no packet is sent)."""
    try:
        target = check_target(url)
    except GuardError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"ok: {url} -> {target.address} port {target.port} (loopback)")


@siege.command("run")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--target", "target_url", required=True, help="Loopback URL of the server.")
@click.option(
    "--duration",
    type=click.FloatRange(0, HARD_MAX_DURATION_S, min_open=True),
    help="Stop after this many seconds, setup included (default: scenario's max_duration_s, "
    "else 120; cap 900).",
)
@click.option(
    "--max-requests",
    type=click.IntRange(1, HARD_MAX_REQUESTS),
    help="Stop after this many requests in all (default 3,000,000).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("siege-reports"),
    show_default=True,
    help="Where report.json and chart.png go.",
)
@click.option(
    "--cpu", "cpus", type=int, multiple=True, help="Pin the generator(s) to this CPU (repeatable)."
)
@click.option(
    "--server-cpu",
    "server_cpus",
    type=int,
    multiple=True,
    help="Pin the process listening on the target port to this CPU.",
)
@click.option(
    "--status-url",
    default="",
    help="Loopback URL of the status page to poll during the run (default: the scenario's "
    "[legit] status_url, if any).",
)
@click.option("--no-live", is_flag=True, help="No live display (logs and CI).")
def run_command(
    scenario: Path,
    target_url: str,
    duration: float | None,
    max_requests: int | None,
    out_dir: Path,
    cpus: tuple[int, ...],
    server_cpus: tuple[int, ...],
    status_url: str,
    no_live: bool,
) -> None:
    """Run SCENARIO (a TOML file) against --target; write the report.

    Writes report.json and chart.png under --out; Ctrl-C stops early and still writes them.
    """
    from roost.siege.session import RunOptions, run_and_report

    options = RunOptions(
        target_url=target_url,
        duration_s=duration,
        max_requests=max_requests,
        cpus=cpus,
        server_cpus=server_cpus,
        live=not no_live,
        status_url=status_url,
    )
    report = run_and_report(scenario, options, out_dir)
    if report["interrupted"]:
        raise SystemExit(130)
    if report["stop_reason"] == "setup_timeout":
        raise click.ClickException(
            "setup took the whole --duration, so no phase ran (the report says so)"
        )


@siege.command("compare")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--duration",
    type=click.FloatRange(0, HARD_MAX_DURATION_S, min_open=True),
    help="Per-target limit in seconds.",
)
@click.option(
    "--max-requests", type=click.IntRange(1, HARD_MAX_REQUESTS), help="Per-target request limit."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("siege-reports"),
    show_default=True,
    help="Where each target's report and the comparison go.",
)
@click.option("--cpu", "cpus", type=int, multiple=True, help="Pin the generator(s) to this CPU.")
@click.option("--target", "only", multiple=True, help="Only these target names (repeatable).")
@click.option("--no-live", is_flag=True, help="No live display.")
def compare_command(
    scenario: Path,
    duration: float | None,
    max_requests: int | None,
    out_dir: Path,
    cpus: tuple[int, ...],
    only: tuple[str, ...],
    no_live: bool,
) -> None:
    """Run SCENARIO against each of its targets in turn; compare.

    Targets are the scenario's [[targets]]; those with a command are started and stopped here.
    Every target gets the same seeds, so the bots and users behave the same against each.
    Ctrl-C stops the current target, skips the rest and still writes the table (exit 130).
    """
    from roost.siege.compare import compare

    compare(scenario, out_dir, duration, max_requests, cpus, only, live=not no_live)
