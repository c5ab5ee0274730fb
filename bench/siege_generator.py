"""How many requests per second siege's generator sends from one core (issue 4).

Starts Debian's nginx (one worker, pinned to one CPU) answering a static 200, then runs one
request profile (`get_flood` unless --profile says otherwise) at full speed from one process
pinned to the other CPU, and prints the rate. With --wrk it also runs wrk the same way, as a
yardstick for what this machine can do at all.

    .venv/bin/python bench/siege_generator.py --seconds 3 [--rotate-after 20] [--pipeline 4] [--wrk]
    .venv/bin/python bench/siege_generator.py --profile scraper --bots 100000 --rotate-after 1

Figures are printed and written to bench/results/siege-generator-<time>.json.

The machine is shared: run it a few times and read the spread, not one number. "req per
CPU-second" (rate divided by the generator's CPU use) is the generator's own cost, and holds
up better on a busy machine than the raw rate, which is capped by whichever side gets less CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roost.siege.flood import Budget, RequestFlood
from roost.siege.guard import check_target
from roost.siege.profiles import PROFILES, AttackContext
from roost.siege.schedule import Constant
from roost.siege.setup import scattered
from roost.siege.sources import HOSTS_PER_PREFIX, AddressPlan
from roost.siege.stats import ClassStats

REQUEST_PROFILES = sorted(name for name, cls in PROFILES.items() if cls.kind == "request")
# nginx answers whatever it is sent: profiles that need accounts get made-up credentials.
FAKE = {
    "client_id": "bench",
    "client_secret": "bench",
    "app_token": "bench",
    "bot_tokens": tuple(f"token{n}" for n in range(100)),
    "usernames": tuple(f"user{n}" for n in range(40)),
    "status_ids": tuple(str(10**17 + n) for n in range(80)),
}

RESULTS = Path(__file__).resolve().parent / "results"
NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir};
    uwsgi_temp_path {dir}; scgi_temp_path {dir};
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ default_type text/plain; return 200 "ok\\n"; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_nginx(workdir: Path, port: int, cpu: int | None) -> subprocess.Popen[bytes]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port))
    server = subprocess.Popen([nginx, "-c", str(conf), "-p", str(workdir)])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    if cpu is not None:
        for pid in [*_children(server.pid), server.pid]:
            os.sched_setaffinity(pid, {cpu})
    return server


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


async def flood(
    url: str,
    seconds: float,
    connections: int,
    bots: int,
    rotate_after: int,
    pipeline: int = 1,
    profile_name: str = "get_flood",
) -> tuple[int, float]:
    target = check_target(url)
    stats = ClassStats()
    context = AttackContext(host=target.host_header, **FAKE)
    paths = ("/",) if profile_name == "get_flood" else ()
    profile = PROFILES[profile_name](context, random.Random(1), paths=paths)
    prefixes = max(1, bots // 200, -(-bots // HOSTS_PER_PREFIX))
    sources = scattered(AddressPlan(1).take(bots, prefixes), 1)
    budget = Budget(10**9)
    job = RequestFlood(
        profile,
        target,
        sources,
        connections,
        Constant(None),
        stats,
        budget,
        rotate_after=rotate_after,
        pipeline=pipeline,
    )
    start = time.monotonic()
    cpu0 = time.process_time()
    await job.run(start, start + seconds, asyncio.Event())
    elapsed = time.monotonic() - start
    return stats.answered, (time.process_time() - cpu0) / elapsed


def run_wrk(url: str, seconds: float, connections: int, close: bool = False) -> str:
    """wrk's rate; ``close``: a new connection per request (the server closes each), the
    yardstick for one-request connections."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return "wrk not installed"
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", url]
    command += ["-H", "Connection: close"] if close else []
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    return next((line for line in out.splitlines() if "Requests/sec" in line), out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--rotate-after", type=int, default=100, help="requests per connection")
    parser.add_argument("--pipeline", type=int, default=1, help="requests in flight per connection")
    parser.add_argument("--wrk", action="store_true", help="also run wrk -t1 as a yardstick")
    parser.add_argument("--profile", default="get_flood", choices=REQUEST_PROFILES)
    args = parser.parse_args()
    import uvloop

    cpus = sorted(os.sched_getaffinity(0))
    generator_cpu, server_cpu = cpus[0], cpus[-1] if len(cpus) > 1 else None
    result: dict[str, object] = {"generator_cpu": generator_cpu, "server_cpu": server_cpu}
    result.update(connections=args.connections, bots=args.bots, seconds=args.seconds)
    result["rotate_after"], result["pipeline"] = args.rotate_after, args.pipeline
    result["profile"] = args.profile
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_nginx(Path(tmp), port, server_cpu)
        try:
            os.sched_setaffinity(0, {generator_cpu})
            url = f"http://127.0.0.1:{port}/"
            job = flood(
                url,
                args.seconds,
                args.connections,
                args.bots,
                args.rotate_after,
                args.pipeline,
                args.profile,
            )
            answered, cpu = uvloop.run(job)
            rate = answered / args.seconds
            result.update(req_per_s=round(rate), cpu_share=round(cpu, 3))
            result["req_per_cpu_second"] = round(rate / max(cpu, 1e-9))
            print(
                f"siege {args.profile}: {rate:,.0f} req/s from CPU {generator_cpu} "
                f"(process CPU use {cpu:.0%}, so {result['req_per_cpu_second']:,} req per "
                f"CPU-second), nginx on CPU {server_cpu}, "
                f"{args.connections} connections from {args.bots} source addresses, "
                f"a new connection every {args.rotate_after} requests, "
                f"{args.pipeline} in flight on each"
            )
            if args.wrk:
                close = args.rotate_after == 1
                result["wrk"] = run_wrk(url, args.seconds, args.connections, close)
                how = " (Connection: close)" if close else ""
                print(f"wrk -t1 -c{args.connections}{how}: {result['wrk']}")
        finally:
            server.terminate()
            server.wait(timeout=5)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"siege-generator-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out.relative_to(RESULTS.parents[1])}")


if __name__ == "__main__":
    main()
