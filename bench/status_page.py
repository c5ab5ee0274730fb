"""Status page requests/s against nginx serving the same bytes as a static file (issue 5).

    .venv/bin/python bench/status_page.py [--rounds 3] [--seconds 3] [--flood] [--json]

Starts `roost status serve --no-monitor` on a free port with a throwaway database, saves its page
to a file, serves that file with nginx (one worker, like the one status process), and drives
both with wrk for the same time and connections, alternating in rounds (medians reported) so
that background load on a shared machine falls on both alike. With ``--flood``, a real `roost
serve` is started too and kept under a `roost siege` GET flood for the whole measurement, as
during an incident. The target is a ratio >= 0.5. Everything shares the machine, so keep runs
short; the figures are for comparison, not absolutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ text/html html; }}
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
        etag on;
        location / {{ index index.html; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, process: subprocess.Popen) -> None:
    """Return once ``url`` answers 200; else stop ``process`` (never leave it behind) and exit."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(process)
    sys.exit(f"{url} did not come up ({process.args[0]})")


def wrk(url: str, seconds: int, connections: int, threads: int) -> dict:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": rps,
        "p99": p99.group(1) if p99 else None,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def start_status(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ROOST_STATUS_PORT": str(port),
        "ROOST_STATUS_DATABASE_URL": f"sqlite:///{tmp / 'status.db'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "roost.cli", "status", "serve", "--no-monitor"],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    wait_up(url, process)
    return process, url


def start_nginx(tmp: Path, body: bytes) -> tuple[subprocess.Popen, str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is missing: run scripts/system-deps")
    tmp.chmod(0o755)  # nginx workers run as an unprivileged user and must read the file
    (tmp / "www").mkdir(mode=0o755)
    (tmp / "www" / "index.html").write_bytes(body)
    (tmp / "www" / "index.html").chmod(0o644)
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
    process = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/index.html"
    wait_up(url, process)
    return process, url


FLOOD_SCENARIO = """
name = "status-bench-flood"
description = "A GET flood held on the main site while the status page is measured."
seed = 1
objective_ms = 1000
max_duration_s = {seconds}

[legit]
readers = 2
actions_per_min = 60

[[phases]]
name = "attack"
duration_s = {seconds}

[[phases.attacks]]
profile = "get_flood"
bots = 600
prefixes = 30
connections = 32
rate = 3000
"""


def start_flood(tmp: Path, seconds: int) -> list[subprocess.Popen]:
    """A real `roost serve` on a throwaway database, and a siege flooding it for ``seconds``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update(
        PYTHONPATH=str(ROOT),
        ROOST_DATABASE_URL=f"sqlite:///{tmp / 'site.db'}",
        ROOST_PORT=str(port),
        ROOST_DOMAIN=f"127.0.0.1:{port}",
        ROOST_SECRET_KEY="bench-secret-" + "x" * 32,
    )
    log = (tmp / "site.log").open("wb")
    site = subprocess.Popen(
        [sys.executable, "-m", "roost.cli", "serve"], env=env, cwd=tmp, stdout=log, stderr=log
    )
    wait_up(f"http://127.0.0.1:{port}/health", site)
    target = ("--target", f"http://127.0.0.1:{port}/", "--out", str(tmp / "siege"))
    scenario = tmp / "flood.toml"
    scenario.write_text(FLOOD_SCENARIO.format(seconds=seconds))
    siege = subprocess.Popen(
        [sys.executable, "-m", "roost.cli", "siege", "run", str(scenario), "--no-live", *target],
        env=env,
        cwd=tmp,
        stdout=log,
        stderr=log,
    )
    log.close()
    time.sleep(2)  # let the flood build up before measuring
    return [siege, site]


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=3, help="per server per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (1 bounds the client)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--flood", action="store_true", help="flood a real `roost serve` meanwhile")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run scripts/system-deps")
    with tempfile.TemporaryDirectory(prefix="roost-bench-") as name:
        tmp = Path(name)
        status, status_url = start_status(tmp)
        try:
            body = httpx.get(status_url).content
            nginx, nginx_url = start_nginx(tmp, body)
            flood: list[subprocess.Popen] = []
            try:
                if args.flood:
                    flood = start_flood(tmp, 2 * args.rounds * args.seconds + 6)
                rounds = measure(status_url, nginx_url, args)
            finally:
                for process in [*flood, nginx]:
                    stop(process)
        finally:
            stop(status)
    result = {
        "page_bytes": len(body),
        "seconds": args.seconds,
        "rounds": args.rounds,
        "connections": args.connections,
        "threads": args.threads,
        "flood": args.flood,
        "status": median_of(rounds, "status"),
        "nginx": median_of(rounds, "nginx"),
        "ratio": round(statistics.median(r["ratio"] for r in rounds), 3),
        "ratios": [round(r["ratio"], 3) for r in rounds],
    }
    if args.json:
        print(json.dumps(result))
        return
    flooding = ", main site under a siege GET flood" if args.flood else ""
    print(
        f"page: {len(body)} bytes, {args.connections} connections, {args.threads} wrk threads,"
        f" {args.rounds} alternating rounds of {args.seconds} s{flooding} (medians)"
    )
    for who in ("status", "nginx"):
        r = result[who]
        print(f"{who:7} {r['requests_per_s']:10.0f} req/s  p99 {r['p99']}  non-2xx {r['non_2xx']}")
    print(f"ratio   {result['ratio']:.2f} (rounds {result['ratios']}; target >= 0.50)")


def measure(status_url: str, nginx_url: str, args: argparse.Namespace) -> list[dict]:
    """Alternate the two servers round by round, so background load falls on both alike."""
    run = (args.seconds, args.connections, args.threads)
    rounds = []
    for n in range(args.rounds):
        order = [("status", status_url), ("nginx", nginx_url)]
        measured = {who: wrk(url, *run) for who, url in (order if n % 2 == 0 else order[::-1])}
        ratio = measured["status"]["requests_per_s"] / measured["nginx"]["requests_per_s"]
        rounds.append({**measured, "ratio": ratio})
    return rounds


def median_of(rounds: list[dict], who: str) -> dict:
    ranked = sorted((r[who] for r in rounds), key=lambda m: m["requests_per_s"])
    return ranked[len(ranked) // 2]


if __name__ == "__main__":
    main()
