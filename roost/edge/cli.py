"""`roost edge ...`: render, check and run the HAProxy edge, and look at a running one.

`roost up` runs the edge by itself; these commands are for deployments that start the pieces
separately (``deploy/start.sh``: one edge in front of several `roost serve` processes).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from roost.config import Settings
from roost.edge import process
from roost.edge.render import EdgePlan, bind_address, default_run_dir, servers_from, write
from roost.edge.runtime import EdgeUnavailable, Runtime, number, parse_stat

_listen = click.option(
    "--listen",
    "listens",
    multiple=True,
    metavar="HOST:PORT",
    help="Public address (repeatable; default ROOST_HOST:ROOST_PORT).",
)
_server = click.option(
    "--server",
    "servers",
    multiple=True,
    metavar="HOST:PORT",
    help="A `roost serve` process behind the edge (repeatable; default 127.0.0.1:9001).",
)
_run_dir = click.option(
    "--run-dir", type=click.Path(path_type=Path), help="Where to write (ROOST_EDGE_RUN_DIR)."
)


@click.group()
def edge() -> None:
    """The edge: HAProxy in front of the site, enforcing what the shield decides."""


def _plan(settings: Settings, listens, servers, run_dir: Path | None) -> EdgePlan:
    binds = []
    for listen in listens or [f"{settings.host}:{settings.port}"]:
        host, _, port = listen.rpartition(":")
        if not port.isdigit():
            raise click.UsageError(f"--listen {listen}: expected HOST:PORT")
        binds.append(bind_address(host or "0.0.0.0", int(port)))
    run = (run_dir or default_run_dir(settings)).resolve()
    return EdgePlan(run, tuple(binds), servers_from(list(servers) or ["127.0.0.1:9001"]))


def _secret(settings: Settings) -> bytes:
    from roost.services.context import instance_secret

    return instance_secret(settings)


@edge.command("config")
@_listen
@_server
@_run_dir
@click.option("--check", is_flag=True, help="Also run `haproxy -c` on the result.")
def config(listens, servers, run_dir, check: bool) -> None:
    """Write HAProxy's configuration, maps and pages; print the configuration's path."""
    settings = Settings.from_env()
    plan = _plan(settings, listens, servers, run_dir)
    path = write(settings, plan, _secret(settings))
    if check:
        _check(settings, path)
    click.echo(str(path))


@edge.command("run")
@_listen
@_server
@_run_dir
def run(listens, servers, run_dir) -> None:
    """Write the configuration and run HAProxy in the foreground (Ctrl-C stops it).

    Tell each `roost serve` behind it where the runtime socket is (ROOST_EDGE_RUNTIME, printed
    here) and to believe the edge's X-Forwarded-For (ROOST_SHIELD_TRUSTED_PROXIES)."""
    settings = Settings.from_env()
    plan = _plan(settings, listens, servers, run_dir)
    path = write(settings, plan, _secret(settings))
    binary = _check(settings, path)
    click.echo(f"edge: {', '.join(plan.binds)} -> {', '.join(s.address for s in plan.servers)}")
    click.echo(f"edge: ROOST_EDGE_RUNTIME={plan.socket}")
    child = process.start(binary, path)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        sys.exit(child.wait())
    except KeyboardInterrupt:
        child.terminate()
        child.wait(10)


@edge.command("status")
@click.option("--runtime", help="The runtime socket (ROOST_EDGE_RUNTIME).")
def status(runtime: str | None) -> None:
    """What a running edge holds: connections, queue, blocks, the mode."""
    settings = Settings.from_env()
    path = runtime or settings.edge.runtime
    if not path:
        raise click.UsageError("give --runtime PATH or set ROOST_EDGE_RUNTIME")
    api = Runtime(path)
    try:
        stats = parse_stat(api.call_sync("show stat"))
        run = Path(path).parent
        maps = {
            name: api.call_sync(f"show map {run / (name + '.map')}").splitlines()
            for name in ("blocked", "suspects", "accounts", "mode")
        }
    except EdgeUnavailable as exc:
        raise click.ClickException(f"edge not reachable: {exc}") from None
    front, back = stats.get(("site", "FRONTEND"), {}), stats.get(("site", "BACKEND"), {})
    click.echo(f"connections: {number(front, 'scur')}   requests: {number(front, 'req_tot')}")
    click.echo(f"queued: {number(back, 'qcur')}   forwarded: {number(back, 'stot')}")
    mode = " ".join(line.split()[-1] for line in maps.pop("mode") if line.strip())
    click.echo(f"under attack: {'yes' if mode == '1' else 'no'}")
    for name, lines in maps.items():
        keys = [line.split()[1] for line in lines if len(line.split()) >= 3]
        click.echo(f"{name}: {len(keys)}" + (f"  ({', '.join(keys[:10])})" if keys else ""))


def _check(settings: Settings, path: Path) -> str:
    binary = process.find_haproxy(settings.edge.haproxy)
    if binary is None:
        raise click.ClickException(f"haproxy is not installed: {process.INSTALL_HINT}")
    try:
        process.check(binary, path)
    except process.EdgeError as exc:
        raise click.ClickException(str(exc)) from None
    return binary
