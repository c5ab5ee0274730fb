"""No attack, signed-in readers only: how many are refused? (The issue's target: none.)

    .venv/bin/python bench/signed_in_calm.py [--seconds 10] [--readers 16,32,64] [--postgres]

Starts a real `roost serve` with the shield at its defaults (embedded: SQLite, one process,
pinned to CPU 0; with ``--postgres``: PostgreSQL + Redis, two workers), registers one account
per reader through the API (each from its own loopback address, as people sign up from their
own), gives everyone a home timeline with content (each follows ``--follows`` others, who post
and mention them), then runs 16, 32 and 64 signed-in readers in a closed loop: each reader is
one client on one keep-alive connection alternating its home timeline and its notifications,
each URL distinct so that no page comes from the response cache (an uncached read is the
expensive one). Reports requests, statuses, p50/p99, and the refusals (429/503), which must be 0.

Readers do not pause between requests (no think time): a closed loop is the hardest calm load a
client can make. But none asks faster than its account may (ROOST_SHIELD_ACCOUNT_RATE, 20/s with
a burst of 300: far above Mastodon's own 300 API requests per 5 minutes per token, with its
whole 5 minutes' worth as a burst), so any 429 here is a false refusal too, on any machine. On
two shared cores the server answers each reader well under that rate anyway: the table shows the
slowest and busiest reader's rate (a starving queue shows as a slowest reader near 0). The
machine is shared: compare the rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from harness import SECRET, SERVER_CPU, free_port  # noqa: E402

PASSWORD = "calm-readers-1"
ACCOUNT_RATE = 20.0  # ROOST_SHIELD_ACCOUNT_RATE's default (burst 300)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REFUSALS = (429, 503)


# --- the numbers ----------------------------------------------------------------------------


@dataclass
class Reader:
    """One client's tally: each response's status and latency."""

    statuses: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def summarise(readers: list[Reader], seconds: float) -> dict:
    """One row of the table: totals over every reader of one phase."""
    statuses: Counter = Counter()
    latencies: list[float] = []
    for reader in readers:
        statuses.update(reader.statuses)
        latencies.extend(reader.latencies)
    latencies.sort()
    requests = sum(statuses.values())
    per_reader = [sum(r.statuses.values()) / seconds for r in readers] or [0.0]
    return {
        "readers": len(readers),
        "requests": requests,
        "rps": requests / seconds,
        "statuses": dict(sorted(statuses.items())),
        "refused": sum(statuses[s] for s in REFUSALS),
        "errors": sum(r.errors for r in readers),
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        # Fairness: in a queue that starves someone, the slowest reader gets next to nothing.
        "slowest_reader_rps": min(per_reader),
        "busiest_reader_rps": max(per_reader),
    }


def table(label: str, rows: list[dict]) -> str:
    head = (
        f"{'store':<22} {'readers':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'per reader/s':>12} {'429':>5} {'503':>5} {'errors':>6} {'client CPU':>10}  verdict"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        statuses = row["statuses"]
        ok = row["refused"] == 0 and row["errors"] == 0
        lines.append(
            f"{label:<22} {row['readers']:>7} {row['requests']:>8} {row['rps']:>7.1f} "
            f"{row['p50_ms']:>7.0f} {row['p99_ms']:>7.0f} "
            f"{row['slowest_reader_rps']:>5.1f}-{row['busiest_reader_rps']:<6.1f} "
            f"{statuses.get(429, 0):>5} {statuses.get(503, 0):>5} {row['errors']:>6} "
            f"{row.get('client_cpu', 0.0):>10.0%}  {'PASS' if ok else 'FAIL'} (no 429/503)"
        )
    return "\n".join(lines)


# --- the server -----------------------------------------------------------------------------


class Site:
    """`roost serve` in a subprocess, on a fresh database."""

    def __init__(
        self, work: Path, postgres: bool, redis_url: str, workers: int, edge: bool = False
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / "serve.log"
        self.database = ""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
        env.update(
            ROOST_PORT=str(self.port),
            ROOST_DOMAIN=f"127.0.0.1:{self.port}",
            ROOST_SECRET_KEY=SECRET,
            ROOST_SHIELD_MODE_FILE=str(work / "shield-mode"),
        )
        command = [sys.executable, "-m", "roost.cli", "serve"]
        if postgres:
            self.database = f"roost_calm_{uuid.uuid4().hex[:10]}"
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + self.database
            asyncio.run(_pg(f'CREATE DATABASE "{self.database}"'))
            env.update(
                ROOST_DATABASE_URL=url,
                ROOST_REDIS_URL=redis_url,
                ROOST_SHIELD_REDIS_PREFIX=f"calm-{self.database}:",
            )
            subprocess.run([*command[:-1], "db", "upgrade"], env=env, check=True)
            env["ROOST_WORKERS"] = str(workers)
        else:
            env["ROOST_DATABASE_URL"] = f"sqlite:///{work / 'roost.db'}"
            command = ["taskset", "-c", SERVER_CPU, *command]
        if edge:  # as `make run` runs it: HAProxy on the port, the site behind it
            command[command.index("serve")] = "up"
            command += ["--no-status"]
        self.redis_url = redis_url if postgres else ""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log)

    def wait_ready(self, timeout: float = 60.0) -> Site:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log.read_text()[-3000:])
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.database:
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        if self.redis_url:
            import redis

            redis.Redis.from_url(self.redis_url).flushdb()  # the bench's own database number

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback")


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# --- people and content ---------------------------------------------------------------------


def source(n: int) -> str:
    """Reader ``n``'s own loopback address (never 127.0.0.1, the admin address)."""
    return f"127.0.{100 + n // 200}.{1 + n % 200}"


def client(base: str, n: int, token: str = "", timeout: float = 30) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source(n))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=base, transport=transport, headers=headers, timeout=timeout)


async def app_token(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        app = await c.post(
            "/api/v1/apps",
            data={
                "client_name": "calm-readers",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow",
            },
        )
        app.raise_for_status()
        reply = await c.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app.json()["client_id"],
                "client_secret": app.json()["client_secret"],
                "scope": "read write follow",
            },
        )
        reply.raise_for_status()
        return reply.json()["access_token"]


async def register(base: str, app: str, n: int, tag: str) -> tuple[str, str, str]:
    """(account id, username, token) of a new account, signed up from its own address."""
    name = f"calm{tag}{n}"
    async with client(base, n, app) as c:
        reply = await _send(
            c,
            "/api/v1/accounts",
            {
                "username": name,
                "email": f"{name}@calm.test",
                "password": PASSWORD,
                "agreement": "1",
            },
        )
        token = reply.json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        me = await c.get("/api/v1/accounts/verify_credentials")
        me.raise_for_status()
        return me.json()["id"], name, token


async def befriend(
    base: str, people: list[tuple[str, str, str]], n: int, follows: int, posts: int
) -> None:
    """Person ``n`` follows the next ``follows`` people, then posts mentioning the previous one
    (a mention: something in that person's notifications)."""
    _, _, token = people[n]
    async with client(base, n, token) as c:
        for step in range(1, follows + 1):
            target = people[(n + step) % len(people)][0]
            await _send(c, f"/api/v1/accounts/{target}/follow")
        mention = people[(n - 1) % len(people)][1]
        for k in range(posts):
            text = f"Post {k} by reader {n}, hello @{mention}"
            await _send(c, "/api/v1/statuses", {"status": text})


async def _send(c: httpx.AsyncClient, path: str, data: dict | None = None) -> httpx.Response:
    """POST, retried on a 422 conflict: `roost serve --workers 2` gives every worker the same
    snowflake worker id (ROOST_WORKER_ID), so two writes in one millisecond can collide."""
    for _ in range(5):
        reply = await c.post(path, data=data)
        if reply.status_code != 422 or "conflicts" not in reply.text:
            break
    if reply.status_code != 200:
        raise RuntimeError(f"{path}: {reply.status_code} {reply.text[:300]}")
    return reply


async def populate(base: str, count: int, follows: int, posts: int) -> list[str]:
    """Register ``count`` people and give them timelines; their tokens."""
    app = await app_token(base)
    tag = uuid.uuid4().hex[:4]
    people: list[tuple[str, str, str]] = []
    for start in range(0, count, 8):  # argon2 per sign-up: a few at a time
        batch = range(start, min(count, start + 8))
        people += await asyncio.gather(*(register(base, app, n, tag) for n in batch))
    for start in range(0, count, 8):
        batch = range(start, min(count, start + 8))
        await asyncio.gather(*(befriend(base, people, n, follows, posts) for n in batch))
    await _until_fed(base, people[0][2])
    return [token for _, _, token in people]


async def _until_fed(base: str, token: str, seconds: float = 30.0) -> None:
    """Fan-out runs after the posts are acknowledged: wait until a home timeline is full."""
    async with client(base, 0, token) as c:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            reply = await c.get("/api/v1/timelines/home", params={"limit": 40})
            if reply.status_code == 200 and len(reply.json()) >= 20:
                return
            await asyncio.sleep(0.2)


# --- the readers ----------------------------------------------------------------------------


async def read_loop(
    base: str, n: int, token: str, stop_at: float, tally: Reader, max_rate: float
) -> None:
    """One client, one connection, no think time: home timeline, notifications, home, ...;
    never faster than ``max_rate`` a second (the account's limit: above it a 429 is policy)."""
    paths = ("/api/v1/timelines/home", "/api/v1/notifications")
    turn = 0
    next_at = time.monotonic()
    async with client(base, n, token) as c:
        while time.monotonic() < stop_at:
            turn += 1
            started = time.monotonic()
            if started < next_at:
                await asyncio.sleep(next_at - started)
                started = time.monotonic()
            next_at = max(started, next_at) + 1 / max_rate
            try:
                reply = await c.get(paths[turn % 2], params={"distinct": f"{n}-{turn}"})
            except httpx.HTTPError:
                tally.errors += 1
                continue
            tally.latencies.append(time.monotonic() - started)
            tally.statuses[reply.status_code] += 1


async def phase(
    base: str, tokens: list[str], readers: int, seconds: float, max_rate: float
) -> dict:
    tallies = [Reader() for _ in range(readers)]
    cpu = time.process_time()
    stop_at = time.monotonic() + seconds
    await asyncio.gather(
        *(read_loop(base, n, tokens[n], stop_at, tallies[n], max_rate) for n in range(readers))
    )
    row = summarise(tallies, seconds)
    row["client_cpu"] = (time.process_time() - cpu) / seconds  # the readers share the machine
    return row


REFUSAL_LINE = re.compile(
    r'roost_shield_requests_total\{klass="(\d)",outcome="(shed|rejected)",reason="(\w+)"\} (\S+)'
)


def shield_refusals(base: str) -> dict[str, int]:
    """The shield's own count of refusals by class and reason (one worker's, from /metrics:
    asked from 127.0.0.1, the admin address)."""
    text = httpx.get(base + "/metrics", timeout=10).text
    found = {}
    for klass, outcome, reason, value in REFUSAL_LINE.findall(text):
        if float(value):
            found[f"class {klass} {outcome} {reason}"] = int(float(value))
    return found


def run(args: argparse.Namespace, work: Path) -> list[dict]:
    site = Site(work, args.postgres, args.redis_url, args.workers, args.edge).wait_ready()
    rows = []
    try:
        tokens = asyncio.run(populate(site.url, max(args.readers), args.follows, args.posts))
        for readers in args.readers:
            time.sleep(args.pause)  # let the last phase's stragglers drain
            row = asyncio.run(phase(site.url, tokens, readers, args.seconds, args.max_rate))
            rows.append(row)
            rows[-1]["shield_refusals"] = shield_refusals(site.url)
        rows[-1]["server_tracebacks"] = site.tracebacks()
    finally:
        site.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument(
        "--readers", type=lambda s: [int(x) for x in s.split(",")], default=[16, 32, 64]
    )
    parser.add_argument("--follows", type=int, default=12, help="people each reader follows")
    parser.add_argument("--posts", type=int, default=4, help="posts per person")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between phases")
    parser.add_argument(
        "--max-rate",
        type=float,
        default=ACCOUNT_RATE,
        help="requests/s one reader never exceeds (default: the account limit's rate)",
    )
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL + Redis, 2 workers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--edge", action="store_true", help="`roost up`: the site behind HAProxy")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/11",
        help="a Redis database for this bench alone: it is emptied afterwards",
    )
    args = parser.parse_args()
    label = f"PostgreSQL+Redis, {args.workers}w" if args.postgres else "SQLite, 1 process"
    label += ", behind the edge" if args.edge else ""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="roost-calm-") as tmp:
        rows = run(args, Path(tmp))
    print(table(label, rows))
    tracebacks = rows[-1].get("server_tracebacks", 0)
    print(
        f"(load average {load:.1f} before; server log tracebacks: {tracebacks}; "
        "statuses: " + "; ".join(f"{r['readers']}: {r['statuses']}" for r in rows) + ")"
    )
    for row in rows:
        print(f"shield refusals so far, after {row['readers']} readers: {row['shield_refusals']}")
    return 0 if all(r["refused"] == 0 and r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
