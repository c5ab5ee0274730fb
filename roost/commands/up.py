"""`roost up`: the whole embedded instance in one command, the site and its status blog.

The status blog is a separate process by design (it must survive the site's overload), so
"one command" means two processes: `roost serve` and `roost status serve`, started here with
matching settings. On first start it makes what they share and keeps it beside the database:
the status admin token (the shield's attack events authenticate with it) and a probe account
with a random password (the status monitor signs in and posts with it).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import click
from sqlalchemy.engine import make_url

from roost.config import Settings

PROBE_USER = "status_probe"


@click.command()
@click.option("--no-status", is_flag=True, help="Run the site alone, without the status blog.")
def up(no_status: bool) -> None:
    """Run the site and its status blog together (Ctrl-C stops both)."""
    settings = Settings.from_env()
    env = dict(os.environ)
    if not no_status:
        env.update(_status_env(settings))
    processes = [_start(["serve"], env)]
    if not no_status:
        processes.append(_start(["status", "serve"], env))
        click.echo(f"status blog on {env['ROOST_STATUS_PAGE_URL']}/")
    _wait(processes)


def _status_env(settings: Settings) -> dict[str, str]:
    """Settings both processes need to agree on, made once and kept in a file."""
    shared = _shared_file(settings)
    values = json.loads(shared.read_text()) if shared.exists() else {}
    if not values:
        values = {"token": secrets.token_urlsafe(32), "password": secrets.token_urlsafe(18)}
        shared.write_text(json.dumps(values))
        shared.chmod(0o600)
    s = settings.status
    email, password = probe_email(settings), s.probe_password or values["password"]
    _ensure_probe_account(settings, email, password)
    site = f"http://{settings.host}:{settings.port}"
    return {
        "ROOST_STATUS_ADMIN_TOKEN": s.admin_token or values["token"],
        "ROOST_STATUS_PAGE_URL": os.environ.get(
            "ROOST_STATUS_PAGE_URL", f"http://{s.host}:{s.port}"
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
    folder = Path(url.database).resolve().parent if url.drivername.startswith("sqlite") else Path()
    return folder / ".roost-up.json"


def _ensure_probe_account(settings: Settings, email: str, password: str) -> None:
    from roost.commands._run import with_context
    from roost.services import accounts

    async def work(ctx) -> None:
        async with ctx.db.write() as tx:
            if await accounts.by_username(tx.conn, PROBE_USER) is None:
                await accounts.register(ctx, tx, PROBE_USER, email, password, bot=True)

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
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 10
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
    failed = [p for p in processes if p.returncode not in (0, -signal.SIGINT, 130)]
    for process in failed:
        click.echo(f"roost up: {' '.join(process.args[3:])} {_ending(process)}", err=True)
    if failed:
        raise SystemExit(1)


def _ending(process: subprocess.Popen) -> str:
    if process.returncode < 0:
        return f"was killed by {signal.Signals(-process.returncode).name}"
    return f"exited with status {process.returncode}"
