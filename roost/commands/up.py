"""`roost up`: the whole embedded instance in one command: the edge, the site and its status blog.

The status blog is a separate process by design (it must survive the site's overload), and the
edge is HAProxy, which is not Python at all (issue 11: the first line of defence must not share
an event loop with the application). So "one command" means three processes: `haproxy` on the
public port, `roost serve` behind it on a loopback port, and `roost status serve`. Without
HAProxy installed (or with ``--no-edge``), the site faces the network itself, and `up` says so.

On first start it makes what the site and the status blog share and keeps it beside the
database: the status admin token (the shield's attack events authenticate with it) and a probe
account with a random password (the status monitor signs in and posts with it).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import click
import httpx
from sqlalchemy.engine import make_url

from roost.config import Settings
from roost.store.private import write_private

PROBE_USER = "status_probe"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
SITE_START_TIMEOUT = 120.0  # migrations on a large database take a while


@click.command()
@click.option("--host", help="Public address (ROOST_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Public port: the edge's (ROOST_PORT, default 8000).")
@click.option("--status-port", type=int, help="The status blog's port (ROOST_STATUS_PORT, 8090).")
@click.option("--no-edge", is_flag=True, help="Without HAProxy: the site faces the network.")
@click.option("--no-status", is_flag=True, help="Run the site alone, without the status blog.")
def up(
    host: str | None, port: int | None, status_port: int | None, no_edge: bool, no_status: bool
) -> None:
    """Run the edge, the site and its status blog together (Ctrl-C stops them all)."""
    env = _env_with(host, port, status_port)
    settings = Settings.from_env(env)
    public = f"http://{_url_host(settings.host)}:{settings.port}"
    binary = None if no_edge else _edge_binary(settings)
    if not no_status:
        env.update(_status_env(settings, public))
    processes: list[subprocess.Popen] = []
    try:
        if binary is None:
            processes.append(_start(["serve"], env))
        else:
            processes += _start_behind_edge(settings, env, binary)
        if not no_status:
            processes.append(_start(["status", "serve"], env))
            click.echo(f"status blog on {env['ROOST_STATUS_PAGE_URL']}/")
        click.echo(f"Roost on {public}/" + (" (behind the edge)" if binary else ""))
    except BaseException:
        _stop(processes)
        raise
    _wait(processes)


def _env_with(host: str | None, port: int | None, status_port: int | None) -> dict[str, str]:
    """The environment every process gets, with the command line's choices in it."""
    env = dict(os.environ)
    for name, value in (("HOST", host), ("PORT", port), ("STATUS_PORT", status_port)):
        if value is not None:
            env[f"ROOST_{name}"] = str(value)
    if port is not None and "ROOST_DOMAIN" not in env and (host or "127.0.0.1") in LOOPBACK_HOSTS:
        env["ROOST_DOMAIN"] = f"localhost:{port}"  # links must point where people connect
    return env


def _edge_binary(settings: Settings) -> str | None:
    from roost.edge.process import INSTALL_HINT, find_haproxy

    if not settings.edge.enabled:
        return None
    binary = find_haproxy(settings.edge.haproxy)
    if binary is None:
        click.echo(
            f"roost up: haproxy is not installed, so the site faces the network itself, with "
            f"only its in-process shield; {INSTALL_HINT}.",
            err=True,
        )
    return binary


def _start_behind_edge(settings: Settings, env: dict[str, str], binary: str) -> list:
    """The site on a loopback port, then HAProxy on the public one, in front of it."""
    from roost.edge import process
    from roost.edge.render import EdgePlan, bind_address, default_run_dir, servers_from, write
    from roost.edge.runtime import Runtime
    from roost.services.context import instance_secret

    backend = settings.edge.backend_port or _free_port()
    run_dir = default_run_dir(settings)
    plan = EdgePlan(
        run_dir,
        (bind_address(settings.host, settings.port),),
        servers_from([f"127.0.0.1:{backend}"]),
    )
    config = write(settings, plan, instance_secret(settings))
    process.check(binary, config)
    trusted = [p for p in env.get("ROOST_SHIELD_TRUSTED_PROXIES", "").split(",") if p.strip()]
    site_env = {
        **env,
        "ROOST_HOST": "127.0.0.1",
        "ROOST_PORT": str(backend),
        "ROOST_SHIELD_TRUSTED_PROXIES": ",".join([*trusted, "127.0.0.1/32"]),
        "ROOST_EDGE_RUNTIME": str(plan.socket),
    }
    site = _start(["serve"], site_env)
    try:
        _wait_for_site(site, f"http://127.0.0.1:{backend}/health")
        edge = process.start(binary, config, run_dir / "haproxy.log")
    except BaseException:
        _stop([site])
        raise
    try:
        process.wait_ready(edge, Runtime(plan.socket), (settings.host, settings.port))
    except process.EdgeError as exc:
        _stop([site, edge])
        raise click.ClickException(f"{exc} (see {run_dir / 'haproxy.log'})") from None
    click.echo(f"edge: haproxy on {settings.host}:{settings.port}, the site on 127.0.0.1:{backend}")
    return [site, edge]


def _wait_for_site(site: subprocess.Popen, health: str) -> None:
    deadline = time.monotonic() + SITE_START_TIMEOUT
    while time.monotonic() < deadline:
        if site.poll() is not None:
            raise click.ClickException(f"the site exited with status {site.returncode}")
        try:
            if httpx.get(health, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"the site did not answer {health} in {SITE_START_TIMEOUT:g} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _status_env(settings: Settings, site: str) -> dict[str, str]:
    """Settings the site and the status blog need to agree on, made once and kept in a file."""
    shared = _shared_file(settings)
    values = json.loads(shared.read_text()) if shared.exists() else {}
    if not values:
        values = {"token": secrets.token_urlsafe(32), "password": secrets.token_urlsafe(18)}
        write_private(shared, json.dumps(values))
    s = settings.status
    email, password = probe_email(settings), s.probe_password or values["password"]
    _ensure_probe_account(settings, email, password)
    return {
        "ROOST_STATUS_ADMIN_TOKEN": s.admin_token or values["token"],
        "ROOST_STATUS_PAGE_URL": os.environ.get(
            "ROOST_STATUS_PAGE_URL", f"http://{_url_host(s.host)}:{s.port}"
        ),
        "ROOST_STATUS_TARGET_URL": os.environ.get("ROOST_STATUS_TARGET_URL", site),
        "ROOST_STATUS_PROBE_EMAIL": email,
        "ROOST_STATUS_PROBE_PASSWORD": password,
    }


def probe_email(settings: Settings) -> str:
    """The probe account's address: the configured one, or one at this instance's host.

    A host without a dot (the default ``localhost``) gets the reserved ``.invalid`` suffix, so
    the address passes the same check as everyone's (and can never receive mail)."""
    if settings.status.probe_email:
        return settings.status.probe_email
    host = urlsplit("//" + settings.domain).hostname or "localhost"
    return f"{PROBE_USER}@{host if '.' in host else host + '.invalid'}"


def _shared_file(settings: Settings) -> Path:
    url = make_url(settings.database_url)
    sqlite = url.drivername.startswith("sqlite") and url.database
    folder = Path(url.database or ".").resolve().parent if sqlite else Path()
    return folder / ".roost-up.json"


def _ensure_probe_account(settings: Settings, email: str, password: str) -> None:
    from roost.commands._run import with_context
    from roost.services import accounts

    async def work(ctx) -> None:
        async with ctx.db.read() as conn:
            known = await accounts.by_username(conn, PROBE_USER) is not None
        if not known:
            await accounts.register(ctx, PROBE_USER, email, password, bot=True)

    with_context(work, settings)


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "roost.cli", *args], env=env)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait(processes: list[subprocess.Popen]) -> None:
    """Run until Ctrl-C (or SIGTERM) or until one process ends; then stop the others."""
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored (`&`)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(processes)
    stopped = (0, -signal.SIGINT, 130, -signal.SIGTERM, 143)
    failed = [p for p in processes if p.returncode not in stopped]
    for process in failed:
        click.echo(f"roost up: {_name(process)} {_ending(process)}", err=True)
    if failed:
        raise SystemExit(1)


def _stop(processes: list[subprocess.Popen]) -> None:
    """The edge first (SIGTERM: HAProxy treats SIGINT as a soft stop that waits for its clients),
    so that the site's connections from it close; then the rest with SIGINT; then wait, then kill.
    """
    ordered = sorted(processes, key=lambda p: _name(p) != "haproxy")
    for process in ordered:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if _name(process) == "haproxy" else signal.SIGINT)
    deadline = time.monotonic() + 10
    for process in ordered:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _name(process: subprocess.Popen) -> str:
    args = [str(a) for a in process.args]  # type: ignore[union-attr]  # always a list here
    return "haproxy" if "haproxy" in Path(args[0]).name else " ".join(args[3:])


def _ending(process: subprocess.Popen) -> str:
    if process.returncode < 0:
        return f"was killed by {signal.Signals(-process.returncode).name}"
    return f"exited with status {process.returncode}"
