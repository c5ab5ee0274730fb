"""Steady state, not a frozen cache: home-timeline reads while people keep posting.

    .venv/bin/python bench/steady_state.py [--post-rates 0,5,20] [--seconds 10] [--redis]

bench/run.py and bench/api_timeline.py read one page again and again, so the response cache
(roost/api/cache.py: whole GET responses per token and URL, emptied by every commit of the
process) answers nearly all of them; or they add a new query string to every request, so it
answers none. In life both happen at once: many people read their home timelines while others
post, and every post (and every fan-out commit) empties the cache. This benchmark runs the two
together on `roost serve` (shield on, its limits out of reach, as run.py's shield-on rows) on a
copy of the demo data set (300 users, 3,000 posts, cached in bench/results/):

- **reads**: wrk, one thread, ``--connections``, for ``--seconds``; each request is
  GET /api/v1/timelines/home with the next of ``--readers`` accounts' tokens (the demo accounts
  following the most people, so pages are full), round robin: each reader re-reads their own
  page, as clients that poll do. Reported: requests/s, wrk's p50/p99, and the ratio to the
  hello-world ceiling (bench/foundation_hello.py) measured right before and right after the row
  (run.py's ``Ceiling``).
- **posts**, at the same time: an asyncio client posts at each of ``--post-rates`` posts/s
  (0: reads alone, the frozen cache for comparison; 1-20 is the intended range), open loop (a
  post is sent on schedule whether or not the previous one was answered, so latencies are
  service times, not queueing in the client), round robin over ``--posters`` accounts (at
  least rate / 0.4 of them, under the shield's calm posting limit of 0.5/s per account).
  Reported: posts acknowledged, refused, acknowledgement p50/p99/max. Target: p99 <= 25 ms.
  The posts sent in a row's first second (``WARMUP``), while wrk opens its 32 connections and
  200 readers' first pages are read cold, are reported apart ("warm-up max", 90-230 ms seen):
  the steady state is what follows. The client's garbage collector is off during a row (its
  own 60 ms collections were charged to the server before).
- **response-cache hit rate**: only if the server counts it. /metrics (Prometheus) and
  /-/shield are read before and after each row and searched for a response-cache counter; the
  site has none today (the shield's brownout cache and the edge's anonymous-page cache are
  other caches), so the table says "not exposed". It is not estimated from latencies.

Tokens are minted straight into the database (as bench/api_timeline.py does): hundreds of
password logins would cost hundreds of argon2 hashes and meet the login limit. With ``--redis``
the same rows run again on SQLite + Redis feeds (as run.py's Redis row): the demo's home feeds
are copied into Redis first (``--redis-url``, a Redis database for this bench alone, which must
be empty and is emptied afterwards). Between rows the run waits until no fan-out is pending.

Server pinned to CPU 0, wrk and this script to CPU 1. The machine is shared: compare the ratios
of one run, not absolute rates. Prints a table; writes JSON to bench/results/ (``--results``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
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
from foundation_data import demo_database  # noqa: E402
from foundation_wrk import Wrk, parse  # noqa: E402
from harness import LOAD_CPU, RESULTS, Ceiling, Server, free_port, in_scratch, roost_server  # noqa: E402

HOME = "/api/v1/timelines/home"
ACK_P99_MS = 25.0  # post acknowledgement p99, at most (issue 2's target)
WARMUP = 1.0  # seconds at a row's start whose posts are reported apart (the cold start)
POSTS_PER_ACCOUNT = 0.4  # posts/s one poster makes at most: under the shield's calm 0.5/s
# Names a response-cache counter would have in /metrics; the brownout's cache is another cache.
CACHE_SERIES = re.compile(r"^(roost_\w*(?:response|api)_cache\w*)\{?[^ ]*\s+(\S+)$", re.M)


# --- load: wrk with one token per request, and a steady poster --------------------------------


def rotating_script(tokens: list[str], post: str = "") -> str:
    """wrk Lua: each request carries the next token; with ``post``, a POST of a distinct text."""
    listed = ",\n".join(f'  "{token}"' for token in tokens)
    lines = [f"tokens = {{\n{listed}\n}}", "counter = 0", "request = function()"]
    lines += ["  counter = counter + 1", "  local headers = {}"]
    lines += ['  headers["Authorization"] = "Bearer " .. tokens[counter % #tokens + 1]']
    if post:
        lines += ['  headers["Content-Type"] = "application/x-www-form-urlencoded"']
        body = f'"status={post}+" .. counter'
        lines += [f'  return wrk.format("POST", nil, headers, {body})']
    else:
        lines += ["  return wrk.format(nil, nil, headers)"]
    return "\n".join([*lines, "end", ""])


async def wrk_async(wrk: Wrk, url: str, script: Path, seconds: float) -> dict:
    """wrk pinned to the load CPU with a Lua script, without blocking the event loop."""
    command = ["taskset", "-c", wrk.cpu, "wrk", "-t1", f"-c{wrk.connections}"]
    command += [f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    process = await asyncio.create_subprocess_exec(
        *command, "-s", str(script), url, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"wrk failed: {err.decode()[-2000:]}")
    return parse(out.decode())


class Poster:
    """Posts at ``rate`` a second, open loop, round robin over ``tokens``; times each answer."""

    def __init__(
        self, base: str, tokens: list[str], rate: float, tag: str, warmup: float = WARMUP
    ) -> None:
        self.base, self.tokens, self.rate, self.tag = base, tokens, rate, tag
        self.warmup = warmup  # posts sent in the row's first seconds are reported apart
        self.started = 0.0
        self.latencies: list[float] = []
        self.cold: list[float] = []  # latencies of the posts sent during the warm-up
        self.statuses: Counter[int] = Counter()
        self.stop = asyncio.Event()

    async def run(self) -> dict:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as client:
            sent: list[asyncio.Task] = []
            started = self.started = time.perf_counter()
            while not self.stop.is_set():
                sent.append(asyncio.create_task(self._one(client, len(sent))))
                wait = started + len(sent) / self.rate - time.perf_counter()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), max(0.0, wait))
            seconds = time.perf_counter() - started
            await asyncio.gather(*sent)
        return self.figures(seconds)

    async def _one(self, client: httpx.AsyncClient, n: int) -> None:
        token = self.tokens[n % len(self.tokens)]
        headers = {"Authorization": f"Bearer {token}"}
        started = time.perf_counter()
        try:
            reply = await client.post(
                "/api/v1/statuses", data={"status": f"steady {self.tag} {n}"}, headers=headers
            )
            code = reply.status_code
        except httpx.HTTPError:
            code = 0  # no answer at all
        self.statuses[code] += 1
        if code == 200:
            cold = started - self.started < self.warmup
            (self.cold if cold else self.latencies).append(time.perf_counter() - started)

    def figures(self, seconds: float) -> dict:
        ordered = sorted(self.latencies)
        sent = sum(self.statuses.values())

        def at(q: float) -> float | None:
            return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else None

        return {
            "asked_per_s": self.rate,
            "sent": sent,
            "acked": len(ordered) + len(self.cold),
            "acked_per_s": (len(ordered) + len(self.cold)) / seconds if seconds else 0.0,
            "refused": sent - len(ordered) - len(self.cold),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "p50_ms": at(0.50),
            "p99_ms": at(0.99),
            "max_ms": 1000 * ordered[-1] if ordered else None,
            "warmup_s": self.warmup,
            "warmup_acked": len(self.cold),
            "warmup_max_ms": 1000 * max(self.cold) if self.cold else None,
        }


async def reads_while_posting(
    wrk: Wrk, base: str, script: Path, posters: list[str], rate: float, seconds: float, tag: str
) -> dict:
    """One row: wrk reads for ``seconds`` while a ``Poster`` posts at ``rate`` (0: no posts)."""
    poster = Poster(base, posters, rate, tag) if rate > 0 else None
    gc.collect()
    gc.disable()  # the client's own collections (60 ms seen) would be charged to the server
    try:
        posting = asyncio.create_task(poster.run()) if poster else None
        try:
            reads = await wrk_async(wrk, base + HOME, script, seconds)
        finally:
            if poster:
                poster.stop.set()
        return {"reads": reads, "posts": await posting if posting else None}
    finally:
        gc.enable()


# --- is the response cache counted anywhere? ---------------------------------------------------


def cache_counters(base: str) -> dict:
    """Response-cache counters the server exposes on /metrics or /-/shield ({} when none)."""
    found: dict[str, float] = {}
    try:
        metrics = httpx.get(base + "/metrics", timeout=10)
        shield = httpx.get(base + "/-/shield", timeout=10)
    except httpx.HTTPError:
        return found
    if metrics.status_code == 200:
        for name, value in CACHE_SERIES.findall(metrics.text):
            found[name] = found.get(name, 0.0) + float(value)
    if shield.status_code == 200:
        _cache_keys(shield.json(), "", found)
    return found


def _cache_keys(node, path: str, found: dict[str, float]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if "cache" in str(key).lower() and isinstance(value, int | float):
                found[where] = float(value)
            _cache_keys(value, where, found)


def hit_rate(before: dict, after: dict) -> dict:
    """The hit rate between two readings, if hits and misses are both counted."""
    delta = {name: after[name] - before.get(name, 0.0) for name in after}
    hits = sum(v for name, v in delta.items() if "hit" in name)
    misses = sum(v for name, v in delta.items() if "miss" in name)
    if not delta or not (hits + misses):
        return {"exposed": False, "note": "not exposed (no response-cache counter)"}
    return {"exposed": True, "hit_rate": hits / (hits + misses), "counters": delta}


# --- the run -----------------------------------------------------------------------------------


def hello_server(work: Path) -> Server:
    port = free_port()
    command = [sys.executable, str(ROOT / "bench" / "foundation_hello.py"), str(port)]
    return Server(command, {**os.environ}, port, work / "hello.log").start(probe="/")


def measure_store(
    args, work: Path, db: Path, cast: dict, ceiling: Ceiling, redis: bool
) -> list[dict]:
    url = f"sqlite:///{db}"
    extra = {"ROOST_SHIELD_ENABLED": "0" if args.shield_off else "1"}
    extra.update(item.split("=", 1) for item in args.server_env)
    if redis:
        extra["ROOST_REDIS_URL"] = args.redis_url
    store = "SQLite + Redis feeds" if redis else "SQLite"
    server = roost_server(db, work, "roost-redis" if redis else "roost", **extra).start()
    wrk = Wrk(LOAD_CPU, args.seconds, args.connections, work)
    out = []
    try:
        reader = {"Authorization": f"Bearer {cast['readers'][0]}"}
        page = httpx.get(server.url + HOME, headers=reader, timeout=30).json()
        script = work / "readers.lua"
        script.write_text(rotating_script(cast["readers"]))
        asyncio.run(wrk_async(wrk, server.url + HOME, script, 1))  # warm-up
        for rate in args.post_rates:
            settle(url)
            before = cache_counters(server.url)
            tag = f"{'r' if redis else 's'}{rate:g}-{time.time():.0f}"
            row = ceiling.beside(
                lambda rate=rate, tag=tag: _row(wrk, server.url, script, cast, rate, args, tag)
            )
            row["cache"] = hit_rate(before, cache_counters(server.url))
            row.update(store=store, post_rate=rate, page_statuses=len(page))
            row["read_ratio"] = row["reads"]["rps"] / row["ceiling_rps"]
            out.append(row)
            print(_line(row), flush=True)
        out[-1]["rss_mb"], out[-1]["rss_peak_mb"] = server.rss_mb()
    finally:
        server.stop()
    return out


def _row(wrk: Wrk, base: str, script: Path, cast: dict, rate: float, args, tag: str) -> dict:
    posters = cast["posters"][: max(args.posters, math.ceil(rate / POSTS_PER_ACCOUNT))]
    return asyncio.run(reads_while_posting(wrk, base, script, posters, rate, args.seconds, tag))


def run(args: argparse.Namespace, work: Path) -> dict:
    results: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    results["load_average_before"] = os.getloadavg()
    db = work / "bench.db"
    built = demo_database(args.results, args.users, args.posts, args.fresh, db)
    results["demo"] = {"users": args.users, "posts": args.posts, "build_s": built}
    url = f"sqlite:///{db}"
    most = max(args.posters, math.ceil(max(args.post_rates) / POSTS_PER_ACCOUNT))
    readers, posters = pick_accounts(url, args.readers, most)
    tokens = mint_tokens(url, sorted(set(readers) | set(posters)))
    cast = {"readers": [tokens[i] for i in readers], "posters": [tokens[i] for i in posters]}
    results["readers"], results["posters_max"] = len(readers), len(posters)
    if args.redis:
        claim_redis(args.redis_url)
    try:
        if args.redis:
            results["redis_feed_entries"] = fill_redis_feeds(url, args.redis_url)
        ceiling = measure_all(args, work, db, cast, results)
    finally:
        if args.redis:
            empty_redis(args.redis_url)
    results["hello"] = {"rps": statistics.median(ceiling.runs), "runs": ceiling.runs}
    return results


def measure_all(args, work: Path, db: Path, cast: dict, results: dict) -> Ceiling:
    """Every row, beside a hello-world server measured before and after each."""
    hello = hello_server(work)
    hello_wrk = Wrk(LOAD_CPU, args.hello_seconds, 8, work)  # as run.py's ceiling: 8 connections
    ceiling = Ceiling(hello_wrk, hello.url + "/")
    results["rows"] = []
    try:
        hello_wrk.get(hello.url + "/", warm=True)
        results["rows"] += measure_store(args, work, db, cast, ceiling, False)
        if args.redis:
            results["rows"] += measure_store(args, work, db, cast, ceiling, True)
    finally:
        hello.stop()
    return ceiling


# --- report ------------------------------------------------------------------------------------

HEAD = (
    "store",
    "posts/s asked",
    "reads/s",
    "hello/s",
    "/hello",
    "read p50",
    "read p99",
    "posts acked (refused)",
    "ack p50",
    "ack p99",
    "ack target",
    "warm-up max",
    "response-cache hits",
)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _cells(row: dict) -> tuple[str, ...]:
    reads, posts = row["reads"], row["posts"]
    bad = f" ({reads['non2xx']} non-2xx)" if reads.get("non2xx") else ""
    cache = row["cache"]
    hits = f"{cache['hit_rate']:.0%}" if cache.get("exposed") else "not exposed"
    ack = ("-",) * 5
    if posts:
        verdict = "-"
        if posts["p99_ms"] is not None:
            verdict = "PASS" if posts["p99_ms"] <= ACK_P99_MS else "FAIL"
        acked = f"{posts['acked']} ({posts['refused']})"
        cold = _ms(posts.get("warmup_max_ms"))
        ack = (acked, _ms(posts["p50_ms"]), _ms(posts["p99_ms"]), f"{verdict} <= 25 ms", cold)
    return (
        row["store"],
        f"{row['post_rate']:g}",
        f"{reads['rps']:,.0f}{bad}",
        f"{row['ceiling_rps']:,.0f}",
        f"{row['read_ratio']:.2f}",
        _ms(reads.get("p50_ms")),
        _ms(reads.get("p99_ms")),
        *ack,
        hits,
    )


def _line(row: dict) -> str:
    return "  ".join(_cells(row))


def table(results: dict) -> str:
    cells = [HEAD, *(_cells(row) for row in results["rows"])]
    width = [max(len(r[i]) for r in cells) for i in range(len(HEAD))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in width))
    return "\n".join(lines)


def footnote(results: dict) -> str:
    load = results["load_average_before"][0], results["load_average_after"][0]
    exposed = any(row["cache"].get("exposed") for row in results["rows"])
    cache = "" if exposed else "; response-cache hits: not exposed by /metrics or /-/shield"
    return (
        f"(total {results['total_s']:.0f} s; load average {load[0]:.1f} before, {load[1]:.1f} "
        f"after; a shared 2-core machine: compare the ratios of one run, not absolute rates{cache})"
    )


def post_rates(value: str) -> list[float]:
    rates = [float(part) for part in value.split(",") if part.strip()]
    if not rates or any(r < 0 for r in rates):
        raise argparse.ArgumentTypeError("a comma-separated list of posts/s, each >= 0")
    return rates


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--post-rates",
        type=post_rates,
        default=[0.0, 5.0, 20.0],
        help="posts/s of each row, comma-separated; 0 = reads alone (default 0,5,20)",
    )
    p.add_argument("--seconds", type=float, default=10.0, help="length of each row (default 10)")
    p.add_argument(
        "--hello-seconds", type=float, default=5.0, help="each hello-world run (default 5)"
    )
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--readers", type=int, default=200, help="accounts reading (default 200)")
    p.add_argument(
        "--posters", type=int, default=50, help="accounts posting, at least rate/0.4 (default 50)"
    )
    p.add_argument("--users", type=int, default=300, help="demo accounts (default 300)")
    p.add_argument("--posts", type=int, default=3000, help="demo posts (default 3000)")
    p.add_argument("--fresh", action="store_true", help="rebuild the cached demo data set")
    p.add_argument("--redis", action="store_true", help="also run on SQLite + Redis feeds")
    p.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/12",
        help="an empty Redis database for this bench alone, emptied afterwards (default db 12)",
    )
    p.add_argument("--shield-off", action="store_true", help="serve without the shield")
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="ROOST_X=V",
        help="a setting for the server, e.g. ROOST_SHIELD_CONCURRENCY_MAX=8 (repeatable)",
    )
    p.add_argument(
        "--results", type=Path, default=RESULTS, help="where the JSON (and demo cache) go"
    )
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.results.mkdir(parents=True, exist_ok=True)
    results = in_scratch(args, run, "roost-steady-")
    results["args"] = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    report = table(results)
    print(report)
    print(footnote(results))
    name = args.results / f"steady-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    name.write_text(json.dumps({**results, "table": report}, indent=2))
    print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
