"""What every benchmark here shares: the CPUs, the demo set's secrets, a pinned server on a
loopback port, a token for a demo account, the reads beside home, a ceiling measured beside each
rate, a scratch folder. bench/run.py and the single-figure scripts import it.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from foundation_wrk import Wrk, ensure_wrk  # noqa: E402

SERVER_CPU, LOAD_CPU = "0", "1"
RESULTS = ROOT / "bench" / "results"
PASSWORD = "roost-demo"  # every demo account's password
SECRET = "bench-secret-" + "b" * 32

# Shield on, limits out of reach: we measure what the shield costs, not what it refuses.
SHIELD_WIDE_OPEN = {
    "ROOST_SHIELD_IP_RATE": "1e9",
    "ROOST_SHIELD_IP_BURST": "1e9",
    "ROOST_SHIELD_PREFIX_RATE": "1e9",
    "ROOST_SHIELD_PREFIX_BURST": "1e9",
    "ROOST_SHIELD_ACCOUNT_RATE": "1e9",
    "ROOST_SHIELD_ACCOUNT_BURST": "1e9",
    "ROOST_SHIELD_GLOBAL_RATE": "1e9",
    "ROOST_SHIELD_GLOBAL_BURST": "1e9",
    "ROOST_SHIELD_MAX_CONNECTIONS_PER_IP": "100000",
    "ROOST_SHIELD_ATTACK_RPS": "1e9",
    "ROOST_SHIELD_MODE": "off",
}


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A process pinned to the server CPU, answering on a loopback port."""

    def __init__(
        self, command: list[str], env: dict[str, str], port: int, log: Path, cwd: Path | None = None
    ) -> None:
        self.command = ["taskset", "-c", SERVER_CPU, *command]
        self.env = env
        self.cwd = cwd  # where it runs: ``python -m`` imports the code found there first
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, probe: str = "/health", timeout: float = 60.0) -> Server:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + probe, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")

    def rss_mb(self) -> tuple[float, float]:
        """(current, peak) resident memory of the server process, MiB."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value
        return _kib(fields["VmRSS"]) / 1024, _kib(fields["VmHWM"]) / 1024

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _kib(value: str) -> float:
    return float(value.split()[0])


def roost_env(db: Path, port: int, work: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update(
        ROOST_DATABASE_URL=f"sqlite:///{db}",
        ROOST_PORT=str(port),
        ROOST_DOMAIN=f"127.0.0.1:{port}",
        ROOST_SECRET_KEY=SECRET,
        ROOST_FANOUT_THRESHOLD="100000",  # above the crowd: measure the push path
        ROOST_SHIELD_MODE_FILE=str(work / "shield-mode"),
        **SHIELD_WIDE_OPEN,
    )
    env.update(extra)
    return env


def roost_server(db: Path, work: Path, name: str, **extra: str) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "roost.cli", "serve"]
    return Server(command, roost_env(db, port, work, **extra), port, work / f"{name}.log")


# --- accounts and tokens ------------------------------------------------------------------------


def token_for(base: str, email: str) -> str:
    app = httpx.post(
        f"{base}/api/v1/apps",
        data={
            "client_name": "bench",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        },
    )
    app.raise_for_status()
    reply = httpx.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "password",
            "username": email,
            "password": PASSWORD,
            "client_id": app.json()["client_id"],
            "client_secret": app.json()["client_secret"],
            "scope": "read write follow",
        },
        timeout=30,
    )
    reply.raise_for_status()
    return reply.json()["access_token"]


# --- reads and runs -----------------------------------------------------------------------------


def other_reads(db: Path) -> dict[str, str]:
    """The uncached reads besides home, as the reader asks for them: the public timeline, the
    profile of the demo's most prolific author, the thread of its most replied-to post."""
    with sqlite3.connect(db) as conn:
        author = conn.execute(
            "SELECT account_id FROM statuses GROUP BY account_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        thread = conn.execute(
            "SELECT id FROM statuses WHERE visibility = 'public' "
            "ORDER BY replies_count DESC, id LIMIT 1"
        ).fetchone()[0]
    return {
        "public": "/api/v1/timelines/public",
        "profile": f"/api/v1/accounts/{author}/statuses",
        "thread": f"/api/v1/statuses/{thread}/context",
    }


class Ceiling:
    """Hello-world measured right before and right after each rate: the machine is shared, so a
    ratio is taken against the ceiling of the same minute, not of the start of the run."""

    def __init__(self, wrk: Wrk, url: str) -> None:
        self.wrk = wrk
        self.url = url
        self.runs: list[float] = []
        self.details: list[dict] = []  # wrk's full figures, errors included

    def beside(self, measure) -> dict:
        before = self.wrk.get(self.url)
        figures = measure()
        after = self.wrk.get(self.url)
        self.details += [before, after]
        self.runs += [before["rps"], after["rps"]]
        return {**figures, "ceiling_rps": (before["rps"] + after["rps"]) / 2}


def in_scratch(args: argparse.Namespace, run, prefix: str) -> dict:
    """``run(args, work)`` in a scratch folder (kept with ``args.keep``), this script pinned to
    the load CPU; the results with the time taken, the load after and the machine."""
    ensure_wrk()
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    work = Path(tempfile.mkdtemp(prefix=prefix))
    started = time.monotonic()
    try:
        results = run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["total_s"] = time.monotonic() - started
    results["load_average_after"] = os.getloadavg()
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    return results
