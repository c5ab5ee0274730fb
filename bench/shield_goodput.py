"""Goodput under a wide flood: does a legitimate user still get served? (issue 7, "Proof")

The same scenario against three configurations of the testbed site (--cost-ms of CPU, 5 by
default, + 2 ms await per page, one process):
  (a) shield off            uvicorn with Roost's protocol, no Shield layer
  (b) nginx limit_req       (a) behind deploy/nginx-limit.conf: 5 r/s burst 10, 10 conns per IP
  (c) shield on             Roost's protocol + Shield
First, with no attack, 20 signed-in clients in a closed loop measure each configuration's
capacity (pages/s served): the shield's overhead is the capacity it costs.
Legitimate users: signed-in accounts (bearer tokens) reading and posting at ~5 r/s each, and
anonymous readers who solve the challenge when they get one (`challenge.solve`).
Flood: a fixed number of keep-alive connections cycling through many loopback source addresses
(127.3.0.0/16), each sending GETs as fast as answers come back.

Run: .venv/bin/python bench/shield_goodput.py [--seconds 8] [--sources 5000] [--connections 300]
Loopback only, bounded, self-stopping. The generator shares the machine's cores with the server:
its offered load is what one Python process can produce; the report prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from roost.domain.signed import mint_token
from roost.shield.challenge import solve
from roost.shield.testbed import SECRET, ServerProcess

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = 8
# httpx orders headers as Chrome does closely enough; claiming Firefox from httpx would (rightly)
# trip the header-order fingerprint and rank the simulated readers as suspicious.
BROWSER = {
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "accept": "text/html",
    "accept-language": "en",
    "accept-encoding": "identity",
}


class Stats:
    def __init__(self) -> None:
        self.codes: dict[int, int] = {}
        self.latency: list[float] = []

    def add(self, code: int, latency: float) -> None:
        self.codes[code] = self.codes.get(code, 0) + 1
        self.latency.append(latency)

    def total(self) -> int:
        return sum(self.codes.values())

    def ok(self) -> float:
        return self.codes.get(200, 0) / max(1, self.total())

    def p(self, q: float) -> float:
        ordered = sorted(self.latency) or [0.0]
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def flood(port: int, sources: int, connections: int, until: float, stats: Stats) -> None:
    async def one(n: int) -> None:
        k = n
        while time.monotonic() < until:
            source = f"127.3.{(k % sources) // 250}.{1 + (k % sources) % 250}"
            k += connections
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(source, 0)
                )
            except OSError:
                stats.add(0, 0.0)
                continue
            try:
                for i in range(5):
                    if time.monotonic() >= until:
                        break
                    started = time.monotonic()
                    # a bot does not wait politely: PIPELINE requests per write
                    writer.write(b"GET /page/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i * PIPELINE)
                    answered = 0
                    while answered < PIPELINE:
                        data = await asyncio.wait_for(reader.read(65536), 5)
                        if not data:
                            break
                        for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", data):
                            stats.add(int(code), time.monotonic() - started)
                            answered += 1
                    if answered < PIPELINE:  # cut off (closed or shed): count it and reconnect
                        stats.add(0, 0.0)
                        break
            except (OSError, TimeoutError):
                stats.add(0, 0.0)
            writer.close()

    await asyncio.gather(*(one(n) for n in range(connections)))


async def signed_in(url: str, account: int, until: float, stats: Stats) -> None:
    token = mint_token(SECRET, account, int(time.time()) - 400 * 86400)
    headers = {"authorization": f"Bearer {token}"}
    # each user at home behind an address of their own (a shared one would meet per-IP limits)
    transport = httpx.AsyncHTTPTransport(local_address=f"127.5.0.{account}")
    client = httpx.AsyncClient(base_url=url, headers=headers, timeout=10, transport=transport)
    async with client:
        n = 0
        while time.monotonic() < until:
            n += 1
            started = time.monotonic()
            try:
                if n % 10 == 0:
                    response = await client.post("/api/v1/statuses", data={"status": str(n)})
                else:
                    response = await client.get("/api/v1/timelines/home")
                stats.add(response.status_code, time.monotonic() - started)
            except httpx.HTTPError:
                stats.add(0, time.monotonic() - started)
            await asyncio.sleep(0.2)


async def anonymous_reader(url: str, n: int, until: float, stats: Stats) -> None:
    transport = httpx.AsyncHTTPTransport(local_address=f"127.4.0.{1 + n}")
    async with httpx.AsyncClient(
        base_url=url, headers=BROWSER, timeout=10, transport=transport
    ) as c:
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                response = await c.get("/public/local")
                if response.status_code == 403 and "x-roost-challenge" in response.headers:
                    challenge = response.headers["x-roost-challenge"]
                    form = {
                        "challenge": challenge,
                        "answer": solve(challenge),
                        "next": "/public/local",
                    }
                    await c.post("/-/shield/verify", data=form)
                    response = await c.get("/public/local")
                stats.add(response.status_code, time.monotonic() - started)
            except httpx.HTTPError:
                stats.add(0, time.monotonic() - started)
            await asyncio.sleep(0.5)


async def scenario(url: str, port: int, args: argparse.Namespace, attack: bool) -> dict:
    until = time.monotonic() + args.seconds
    users, readers, bots = Stats(), Stats(), Stats()
    tasks = [signed_in(url, account, until, users) for account in range(1, 11)]
    tasks += [anonymous_reader(url, n, until, readers) for n in range(5)]
    if attack:
        tasks.append(flood(port, args.sources, args.connections, until, bots))
    await asyncio.gather(*tasks)
    return {"users": users, "readers": readers, "bots": bots}


async def capacity(url: str, seconds: float, clients: int = 20) -> float:
    """Pages/s served with no attack: signed-in clients in a closed loop keep the server busy.

    Each client is its own account behind its own /24, so no per-source limit is near; what
    differs between configurations is only what the shield (or nginx) costs per request.
    """
    until = time.monotonic() + seconds
    served = [0]

    async def one(n: int) -> None:
        token = mint_token(SECRET, 100 + n, int(time.time()) - 400 * 86400)
        transport = httpx.AsyncHTTPTransport(local_address=f"127.6.{n}.1")
        headers = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=url, headers=headers, timeout=10, transport=transport
        ) as client:
            k = 0
            while time.monotonic() < until:
                k += 1
                try:
                    response = await client.get(f"/page/{n}/{k}")
                except httpx.HTTPError:
                    continue
                served[0] += response.status_code == 200

    await asyncio.gather(*(one(n) for n in range(clients)))
    return served[0] / seconds


def start_edge(run_dir: str, upstream_port: int, listen: int) -> subprocess.Popen:
    command = [
        "sh",
        str(ROOT / "deploy" / "start.sh"),
        "--limit",
        "--edge-only",
        "--processes",
        "1",
        "--base-port",
        str(upstream_port),
        "--listen",
        str(listen),
        "--run-dir",
        run_dir,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{listen}/health", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("nginx did not start")


def run_config(name: str, args: argparse.Namespace) -> list[tuple[str, str, dict]]:
    env = {"ROOST_SHIELD_ADMIN_NETWORKS": "127.0.0.1/32", "ROOST_SHIELD_ATTACK_RPS": "200"}
    server_args = ["--cost-ms", str(args.cost_ms)] + (["--no-shield"] if name != "shield" else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        env["ROOST_SHIELD_MODE_FILE"] = f"{tmp}/mode"
        server = ServerProcess(f"{tmp}/server.log", *server_args, **env).wait_ready()
        edge = None
        try:
            port = server.port
            if name == "nginx-limit":
                port = server.port + 1 if server.port < 65000 else server.port - 1
                edge = start_edge(f"{tmp}/edge", server.port, port)
            url = f"http://127.0.0.1:{port}"
            rows.append((name, "capacity", asyncio.run(capacity(url, args.seconds))))
            time.sleep(1)
            for attack in (False, True):
                result = asyncio.run(scenario(url, port, args, attack))
                rows.append((name, "flood" if attack else "calm", result))
                time.sleep(1)
        finally:
            if edge is not None:
                os.killpg(edge.pid, signal.SIGTERM)
                edge.wait(10)
            server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--sources", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--configs", default="shield-off,nginx-limit,shield")
    parser.add_argument("--cost-ms", type=float, default=5.0, help="CPU per page in the testbed")
    args = parser.parse_args()
    rows = []
    for name in args.configs.split(","):
        rows += run_config(name, args)
    print(
        f"{'config':<12}{'phase':<7}{'users ok':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'readers ok':>11}{'bot req/s':>10}{'bots served':>12}"
    )
    capacities = {name: r for name, phase, r in rows if phase == "capacity"}
    rows = [row for row in rows if row[1] != "capacity"]
    for name, phase, r in rows:
        bots = r["bots"]
        print(
            f"{name:<12}{phase:<7}{r['users'].ok():>9.1%}{r['users'].p(0.5):>8.0f}"
            f"{r['users'].p(0.99):>8.0f}{r['readers'].ok():>11.1%}"
            f"{bots.total() / args.seconds:>10.0f}{bots.ok():>12.1%}"
        )

    for name, phase, r in rows:
        for who in ("users", "readers"):
            other = {code: n for code, n in r[who].codes.items() if code != 200}
            if other:
                print(f"  {name} {phase}: {who}' other answers {other} (0 = no answer)")
    base = capacities.get("shield-off")
    print("\nno attack, signed-in clients in a closed loop (pages/s served):")
    for name, rate in capacities.items():
        cost = (
            f"  overhead {1 - rate / base:+.1%} vs shield-off"
            if base and name != "shield-off"
            else ""
        )
        print(f"  {name:<12}{rate:>8.1f}{cost}")


if __name__ == "__main__":
    main()
