"""Scale-out measured: read and post rates of 1, 2 and 4 site processes behind the edge.

    .venv/bin/python bench/scale_out.py [--processes 1,2,4] [--seconds 10] [--post-rate 5]

PostgreSQL + Redis, as production runs several processes. The run makes a database of its own
(``roost_bench_<random>`` on the server of ``--pg-admin``; the ``test`` database is not touched),
applies the migrations and fills it with `roost demo` (300 users, 3,000 posts, about 35 s),
copies the demo's home feeds into Redis (``--redis-url``: a Redis database for this bench alone,
which must be empty) and mints tokens for ``--readers`` and ``--posters`` demo accounts straight
into the database (as bench/steady_state.py does). At the end it drops the database and empties
that Redis database.

For each process count N it starts the set as production does, with `deploy/start.sh
--processes N` (N `roost serve` processes, each with its own port and worker id, behind HAProxy
rendered by `roost edge config`; shield on, its limits out of reach as in bench/run.py), waits
until every process and the edge answer, then measures through the edge:

- **reads**: wrk (one thread, ``--connections``, ``--seconds``), GET /api/v1/timelines/home,
  each request with the next reader's token, while posts arrive at ``--post-rate``/s (open loop,
  spread over many accounts: bench/steady_state.py's row, so caches are emptied as in life).
  Reported: reads/s, p50/p99, and the acknowledgement p50/p99 of those posts.
- **posts**: wrk POSTing /api/v1/statuses as fast as answers come, each request the next of
  ``--posters`` accounts (each stays under the shield's burst of posts per account).
  Reported: posts/s, p50/p99, refusals.

Each rate is also given as a ratio to the one-process rate of the same run, and the edge's own
count of requests sent to each process (``show stat``) shows the load was spread.

Where the processes run: ``deploy/start.sh --host 127.0.0.1`` binds the edge to loopback (its
default is every address). wrk and this script are pinned to CPU 1; the processes, the edge,
PostgreSQL and Redis are not pinned (``--server-cpus`` pins start.sh and all it starts). This
machine has two cores, so four processes cannot scale linearly: the table says what was
measured. The machine is shared: compare the ratios of one run. Prints a table; writes JSON to
bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from demo_store import (  # noqa: E402
    claim_redis,
    empty_redis,
    fill_redis_feeds,
    mint_tokens,
    pick_accounts,
    settle,
)
from foundation_wrk import Wrk  # noqa: E402
from harness import LOAD_CPU, RESULTS, SECRET, SHIELD_WIDE_OPEN, free_port, in_scratch  # noqa: E402
from steady_state import (  # noqa: E402
    HOME,
    POSTS_PER_ACCOUNT,
    reads_while_posting,
    rotating_script,
    wrk_async,
)

from roost.edge.runtime import Runtime, parse_stat  # noqa: E402

START = ROOT / "deploy" / "start.sh"


# --- a database of the run's own ----------------------------------------------------------------


async def _admin(admin_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class Database:
    """A fresh PostgreSQL database filled by `roost demo`, dropped by ``drop``."""

    def __init__(self, admin_url: str) -> None:
        self.admin = admin_url
        self.name = f"roost_bench_{uuid.uuid4().hex[:10]}"
        self.url = admin_url.rsplit("/", 1)[0] + "/" + self.name
        asyncio.run(_admin(admin_url, f'CREATE DATABASE "{self.name}"'))

    def fill(self, env: dict[str, str], users: int, posts: int, log: Path) -> float:
        started = time.monotonic()
        roost = [sys.executable, "-m", "roost.cli"]
        with log.open("ab") as out:
            for command in (["db", "upgrade"], ["demo", "--users", str(users)]):
                if command[0] == "demo":
                    command += ["--posts", str(posts)]
                subprocess.run([*roost, *command], env=env, stdout=out, stderr=out, check=True)
        return time.monotonic() - started

    def drop(self) -> None:
        asyncio.run(_admin(self.admin, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def site_env(database_url: str, redis_url: str, listen: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env.update(
        ROOST_DATABASE_URL=database_url,
        ROOST_REDIS_URL=redis_url,
        ROOST_DOMAIN=f"127.0.0.1:{listen}",
        ROOST_SECRET_KEY=SECRET,
        **SHIELD_WIDE_OPEN,
    )
    env["PATH"] = env.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"  # Debian's haproxy
    return env


# --- N processes behind the edge, as deploy/start.sh starts them ----------------------------


def free_ports(count: int) -> int:
    """A first port of ``count`` consecutive free loopback ports."""
    for _ in range(200):
        first = free_port()
        if first + count < 65000 and all(_free(first + i) for i in range(count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Deployment:
    """`deploy/start.sh --processes N` in a session of its own, stopped with the whole group."""

    def __init__(self, env: dict[str, str], processes: int, work: Path, cpus: str) -> None:
        self.processes = processes
        self.listen = free_port()
        self.base_port = free_ports(processes)
        self.run_dir = work / f"run-{processes}"
        self.env = {**env, "ROOST_DOMAIN": f"127.0.0.1:{self.listen}"}
        command = ["sh", str(START), "--processes", str(processes), "--host", "127.0.0.1"]
        command += ["--listen", str(self.listen)]
        command += ["--base-port", str(self.base_port), "--run-dir", str(self.run_dir)]
        self.command = (["taskset", "-c", cpus] if cpus else []) + command
        self.url = f"http://127.0.0.1:{self.listen}"
        self.log = work / f"start-{processes}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> Deployment:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=log, start_new_session=True
            )
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        ports = [self.base_port + i for i in range(self.processes)]
        urls = [f"http://127.0.0.1:{p}/health" for p in ports] + [self.url + "/health"]
        deadline = time.monotonic() + timeout
        while urls and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"start.sh exited:\n{self.logs()}")
            if _answers(urls[0]):
                urls.pop(0)
            else:
                time.sleep(0.2)
        if urls:
            raise RuntimeError(f"{urls[0]} did not answer:\n{self.logs()}")
        # The edge starts with every process DOWN and checks each every 2 s: wait for all UP
        # (a lone process is not checked at all: "no check").
        while sum(s in ("UP", "no check") for s in self._site_servers()) < self.processes:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the edge sees {self._site_servers()}:\n{self.logs()}")
            time.sleep(0.2)

    def _stats(self) -> dict:
        socket_path = self.run_dir / "edge" / "edge.sock"
        return parse_stat(Runtime(socket_path, timeout=5).call_sync("show stat"))

    def _site_servers(self) -> list[str]:
        """The edge's state of each process in its main backend ("UP", "DOWN", ...)."""
        stats = self._stats().items()
        return [row["status"] for (proxy, name), row in stats if proxy == "site" and row["addr"]]

    def logs(self) -> str:
        parts = [self.log, *sorted(self.run_dir.glob("*.log"))]
        return "\n".join(f"== {p.name}\n{p.read_text()[-1500:]}" for p in parts if p.exists())

    def per_process(self) -> dict[str, int]:
        """Requests the edge has sent to each process so far (its ``show stat``)."""
        sent: dict[str, int] = {}
        for (_proxy, name), row in self._stats().items():
            if name not in ("FRONTEND", "BACKEND") and row.get("addr"):
                sent[row["addr"]] = sent.get(row["addr"], 0) + int(row.get("stot") or 0)
        return dict(sorted(sent.items()))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # start.sh, the edge and every process
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# --- the measurements ---------------------------------------------------------------------------


def measure(site: Deployment, cast: dict, args, work: Path) -> dict:
    wrk = Wrk(LOAD_CPU, args.seconds, args.connections, work)
    readers, posts = work / "readers.lua", work / f"posts-{site.processes}.lua"
    readers.write_text(rotating_script(cast["readers"]))
    posts.write_text(rotating_script(cast["posters"], post=f"scale+out+{site.processes}+post"))
    asyncio.run(wrk_async(wrk, site.url + HOME, readers, 1))  # warm-up: every process's caches
    steady = cast["posters"][: max(10, round(args.post_rate / POSTS_PER_ACCOUNT) + 1)]
    tag = f"n{site.processes}-{time.time():.0f}"
    mixed = asyncio.run(
        reads_while_posting(wrk, site.url, readers, steady, args.post_rate, args.seconds, tag)
    )
    settle(cast["database_url"])
    wrote = asyncio.run(wrk_async(wrk, site.url + "/api/v1/statuses", posts, args.seconds))
    return {
        "processes": site.processes,
        "reads": mixed["reads"],
        "steady_posts": mixed["posts"],
        "posts": wrote,
        "per_process_requests": site.per_process(),
        "settle_s": settle(cast["database_url"]),
    }


def run(args: argparse.Namespace, work: Path) -> dict:
    results: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    results["load_average_before"] = os.getloadavg()
    claim_redis(args.redis_url)
    database = Database(args.pg_admin)
    results["database"] = database.name
    results["rows"] = []
    try:
        env = site_env(database.url, args.redis_url, 0)
        fill_env = {k: v for k, v in env.items() if k != "ROOST_REDIS_URL"}  # feeds in SQL
        built = database.fill(fill_env, args.users, args.posts, work / "demo.log")
        results["demo"] = {"users": args.users, "posts": args.posts, "build_s": built}
        results["redis_feed_entries"] = fill_redis_feeds(database.url, args.redis_url)
        readers, posters = pick_accounts(database.url, args.readers, args.posters)
        tokens = mint_tokens(database.url, sorted(set(readers) | set(posters)))
        cast = {
            "readers": [tokens[i] for i in readers],
            "posters": [tokens[i] for i in posters],
            "database_url": database.url,
        }
        for processes in args.processes:
            site = Deployment(env, processes, work, args.server_cpus).start()
            try:
                row = measure(site, cast, args, work)
            finally:
                site.stop()
            results["rows"].append(row)
            print(_line(row, results["rows"][0]), flush=True)
    finally:
        database.drop()
        empty_redis(args.redis_url)
    return results


# --- report -------------------------------------------------------------------------------------

HEAD = (
    "processes",
    "reads/s",
    "x 1 proc",
    "read p50",
    "read p99",
    "post ack p50/p99 (steady)",
    "posts/s",
    "x 1 proc",
    "post p50",
    "post p99",
    "requests per process (edge)",
)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _cells(row: dict, first: dict) -> tuple[str, ...]:
    reads, posts, steady = row["reads"], row["posts"], row["steady_posts"]
    bad_reads = f" ({reads['non2xx']} non-2xx)" if reads.get("non2xx") else ""
    bad_posts = f" ({posts['non2xx']} non-2xx)" if posts.get("non2xx") else ""
    ack = "-"
    if steady:
        ack = f"{_ms(steady['p50_ms'])} / {_ms(steady['p99_ms'])} ({steady['acked']} posts)"
    spread = " / ".join(f"{n:,}" for n in row["per_process_requests"].values())
    return (
        str(row["processes"]),
        f"{reads['rps']:,.0f}{bad_reads}",
        f"{reads['rps'] / first['reads']['rps']:.2f}",
        _ms(reads.get("p50_ms")),
        _ms(reads.get("p99_ms")),
        ack,
        f"{posts['rps']:,.0f}{bad_posts}",
        f"{posts['rps'] / first['posts']['rps']:.2f}",
        _ms(posts.get("p50_ms")),
        _ms(posts.get("p99_ms")),
        spread,
    )


def _line(row: dict, first: dict) -> str:
    return "  ".join(_cells(row, first))


def table(results: dict) -> str:
    first = results["rows"][0]
    cells = [HEAD, *(_cells(row, first) for row in results["rows"])]
    width = [max(len(r[i]) for r in cells) for i in range(len(HEAD))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in width))
    return "\n".join(lines)


def counts(value: str) -> list[int]:
    found = [int(part) for part in value.split(",") if part.strip()]
    if not found or any(n < 1 for n in found):
        raise argparse.ArgumentTypeError("a comma-separated list of process counts, each >= 1")
    return found


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--processes", type=counts, default=[1, 2, 4], help="process counts (default 1,2,4)"
    )
    p.add_argument("--seconds", type=float, default=10.0, help="each load run (default 10)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument(
        "--post-rate", type=float, default=5.0, help="posts/s during the reads (default 5)"
    )
    p.add_argument("--readers", type=int, default=200, help="accounts reading (default 200)")
    p.add_argument("--posters", type=int, default=250, help="accounts posting (default 250)")
    p.add_argument("--users", type=int, default=300, help="demo accounts (default 300)")
    p.add_argument("--posts", type=int, default=3000, help="demo posts (default 3000)")
    p.add_argument(
        "--pg-admin",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="where to connect to create and drop the run's own database",
    )
    p.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/13",
        help="an empty Redis database for this bench alone, emptied afterwards (default db 13)",
    )
    p.add_argument(
        "--server-cpus", default="", help="pin start.sh and all it starts (taskset list)"
    )
    p.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if shutil.which("haproxy", path=os.environ.get("PATH", "") + ":/usr/sbin") is None:
        raise SystemExit("haproxy is missing: apt-get install haproxy (or scripts/system-deps)")
    args.results.mkdir(parents=True, exist_ok=True)
    results = in_scratch(args, run, "roost-scale-")
    results["args"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    report = table(results)
    print(report)
    load = results["load_average_before"][0], results["load_average_after"][0]
    print(
        f"(total {results['total_s']:.0f} s; load average {load[0]:.1f} before, {load[1]:.1f} "
        f"after; {os.cpu_count()} cores shared by the processes, the edge, PostgreSQL, Redis and "
        "wrk: more processes than cores cannot scale linearly; compare the ratios of one run)"
    )
    name = args.results / f"scale-out-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    name.write_text(json.dumps({**results, "table": report}, indent=2))
    print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
