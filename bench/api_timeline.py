"""The Mastodon API's own figures (issue 3): home-timeline reads against hello-world, SSE fan-out.

    .venv/bin/python bench/api_timeline.py [--seconds 10] [--streams 1000] [--posts 20]

Server pinned to CPU 0, load (wrk, the stream readers) to CPU 1; shield off, so the figures are
the API's. On a copy of the demo set (300 users, 3,000 posts; built once by bench/run.py's
helpers and cached in bench/results/):

1. hello-world requests/s: bench/foundation_hello.py, a Starlette app on `roost serve`'s uvicorn
   options; then `roost serve` on /health and GET /api/v1/timelines/home as the demo account
   following the most people (a realistic token and a full feed). Target: home >= 35% of hello.
   Repeated reads of one page are served by the in-process response cache (roost/api/cache.py,
   valid until the next commit); "no cache" adds a distinct dummy parameter to every request,
   so every one runs the queries: the figure for a page nobody has read since the last write.
2. SSE fan-out: 1,000 followers of one author hold /api/v1/streaming/user open (tokens minted
   straight into the database: 1,000 password logins would cost 1,000 argon2 hashes); the author
   posts N times, 0.5 s apart; latency = update arrival on each stream - the POST's start.
   Target: p99 <= 250 ms.

The machine is shared and noisy: read one run's ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from foundation_data import add_followers, demo_database  # noqa: E402
from foundation_wrk import Wrk, ensure_wrk, parse  # noqa: E402
from harness import LOAD_CPU, SECRET, Server, free_port, roost_server, token_for  # noqa: E402

from roost.domain.ids import IdGenerator  # noqa: E402
from roost.domain.signed import mint_token, token_digest  # noqa: E402

STATUS_ID = re.compile(rb'"id": ?"(\d+)"')  # a Status entity starts with its id
TARGETS = {"home_ratio": 0.35, "sse_p99_ms": 250.0}
RESULTS = ROOT / "bench" / "results"


def pick_reader(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT email FROM accounts WHERE email LIKE '%@demo.roost' "
            "ORDER BY following_count DESC, id LIMIT 1"
        ).fetchone()[0]


def followers_with_tokens(db: Path, count: int) -> tuple[str, list[str]]:
    """An author (the demo's least followed) with ``count`` new followers, each with a token."""
    with sqlite3.connect(db) as conn:
        author_id, email = conn.execute(
            "SELECT id, email FROM accounts WHERE email LIKE '%@demo.roost' "
            "ORDER BY followers_count, id LIMIT 1"
        ).fetchone()
    crowd = asyncio.run(add_followers(f"sqlite:///{db}", author_id, count, "sse_crowd_"))
    ids = IdGenerator(1003)
    moment = datetime.now(UTC)
    tokens, rows = [], []
    with sqlite3.connect(db) as conn:
        created = dict(
            conn.execute(
                f"SELECT id, created_at FROM accounts WHERE id IN ({','.join('?' * len(crowd))})",
                crowd,
            )
        )
        for account_id in crowd:
            stamp = datetime.fromisoformat(str(created[account_id])).replace(tzinfo=UTC)
            token = mint_token(SECRET.encode(), account_id, int(stamp.timestamp()))
            tokens.append(token)
            rows.append((ids.next_id(), token_digest(token), account_id, "read", str(moment)))
        conn.executemany(
            "INSERT INTO oauth_tokens (id, token_digest, account_id, scopes, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    return email, tokens


# Each request carries a distinct dummy parameter, so no page is served from the response cache.
DISTINCT_SCRIPT = """
counter = 0
local sep = string.find(wrk.path, "?", 1, true) and "&" or "?"
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. sep .. "distinct=" .. counter)
end
"""


def wrk_distinct(wrk: Wrk, url: str, token: str, work: Path) -> dict:
    script = work / "distinct.lua"
    script.write_text(DISTINCT_SCRIPT)
    command = ["taskset", "-c", wrk.cpu, "wrk", "-t1", f"-c{wrk.connections}"]
    command += [f"-d{round(wrk.seconds)}s", "--latency", "--timeout", "10s"]
    command += ["-H", f"Authorization: Bearer {token}", "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse(done.stdout)


def hello_rate(wrk: Wrk, work: Path) -> dict:
    port = free_port()
    command = [sys.executable, str(ROOT / "bench" / "foundation_hello.py"), str(port)]
    server = Server(command, {"PATH": "/usr/bin:/bin"}, port, work / "hello.log")
    server.start(probe="/")
    try:
        wrk.get(server.url + "/", warm=True)
        return wrk.get(server.url + "/")
    finally:
        server.stop()


# --- SSE readers: raw asyncio streams, light enough for 1,000 on one core --------------------


async def open_stream(host: str, port: int, token: str, arrivals: dict, ready: asyncio.Event):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET /api/v1/streaming/user HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    ready.set()
    event = None
    try:
        while line := await reader.readline():
            if line.startswith(b"event: "):
                event = line[7:].strip()
            elif line.startswith(b"data: ") and event == b"update":
                arrived = time.monotonic()  # before any parsing: the reader shares a core
                status_id = STATUS_ID.search(line, 0, 64).group(1).decode()
                arrivals.setdefault(status_id, []).append(arrived)
    finally:
        writer.close()


async def sse_fanout(url: str, author_token: str, tokens: list[str], posts: int) -> dict:
    host, port = url.removeprefix("http://").split(":")
    arrivals: dict[str, list[float]] = {}
    readies = [asyncio.Event() for _ in tokens]
    tasks = []
    for token, ready in zip(tokens, readies, strict=True):
        tasks.append(asyncio.create_task(open_stream(host, int(port), token, arrivals, ready)))
        if len(tasks) % 50 == 0:
            await asyncio.sleep(0.05)  # do not stampede the accept queue
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    await asyncio.sleep(1.0)
    sent: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        headers = {"Authorization": f"Bearer {author_token}"}
        for n in range(posts):
            started = time.monotonic()
            reply = await client.post(
                "/api/v1/statuses", data={"status": f"sse bench {n}"}, headers=headers
            )
            sent[reply.json()["id"]] = started
            await asyncio.sleep(0.5)
    await asyncio.sleep(2.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted(
        (t - sent[sid]) * 1000 for sid, times in arrivals.items() if sid in sent for t in times
    )
    firsts = sorted(
        (min(times) - sent[sid]) * 1000 for sid, times in arrivals.items() if sid in sent
    )
    spreads = sorted((max(t) - min(t)) * 1000 for sid, t in arrivals.items() if sid in sent)
    expected = posts * len(tokens)
    return {
        "streams": len(tokens),
        "posts": posts,
        "delivered": len(latencies),
        "expected": expected,
        "p50_ms": statistics.median(latencies) if latencies else None,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] if latencies else None,
        "max_ms": latencies[-1] if latencies else None,
        # where the time goes: post -> first stream (the write, the fan-out, the publish), then
        # first -> last stream (writing to 1,000 sockets from one process)
        "first_stream_p50_ms": statistics.median(firsts) if firsts else None,
        "spread_p50_ms": statistics.median(spreads) if spreads else None,
    }


def run(args: argparse.Namespace, work: Path) -> dict:
    ensure_wrk()
    db = work / "roost.db"
    demo_database(RESULTS, 300, 3000, args.fresh, db)
    reader_email = pick_reader(db)
    author_email, tokens = followers_with_tokens(db, args.streams)
    wrk = Wrk(LOAD_CPU, args.seconds, args.connections, work)
    out: dict = {"hello": hello_rate(wrk, work) if not args.sse_only else {"rps": 1.0}}
    server = roost_server(db, work, "roost-api", ROOST_SHIELD_ENABLED="0").start()
    try:
        reader = token_for(server.url, reader_email)
        author = token_for(server.url, author_email)
        page = httpx.get(
            server.url + "/api/v1/timelines/home", headers={"Authorization": f"Bearer {reader}"}
        ).json()
        out["home_page_statuses"] = len(page)
        if args.sse_only:
            out["sse"] = asyncio.run(sse_fanout(server.url, author, tokens, args.posts))
            return out
        out["health"] = wrk.get(server.url + "/health")
        wrk.get(server.url + "/api/v1/timelines/home", token=reader, warm=True)
        out["home"] = wrk.get(server.url + "/api/v1/timelines/home", token=reader)
        out["home_uncached"] = wrk_distinct(
            wrk, server.url + "/api/v1/timelines/home", reader, work
        )
        out["sse"] = asyncio.run(sse_fanout(server.url, author, tokens, args.posts))
    finally:
        server.stop()
    out["home_ratio"] = out["home"]["rps"] / out["hello"]["rps"]
    out["health_ratio"] = out["health"]["rps"] / out["hello"]["rps"]
    out["home_uncached_ratio"] = out["home_uncached"]["rps"] / out["hello"]["rps"]
    return out


def report(out: dict) -> None:
    sse = out["sse"]
    print(f"hello-world        {out['hello']['rps']:9.0f} req/s")
    print(f"/health            {out['health']['rps']:9.0f} req/s  ({out['health_ratio']:.0%})")
    print(
        f"home timeline      {out['home']['rps']:9.0f} req/s  ({out['home_ratio']:.0%} of hello,"
        f" target >= {TARGETS['home_ratio']:.0%}; p99 {out['home'].get('p99_ms', 0):.1f} ms;"
        f" {out['home_page_statuses']} statuses a page; non-2xx {out['home']['non2xx']})"
    )
    cold = out["home_uncached"]
    print(
        f"home, no cache     {cold['rps']:9.0f} req/s  ({out['home_uncached_ratio']:.0%} of hello;"
        f" p99 {cold.get('p99_ms', 0):.1f} ms; every URL distinct, non-2xx {cold['non2xx']})"
    )
    print(
        f"SSE fan-out        {sse['streams']} streams x {sse['posts']} posts: delivered "
        f"{sse['delivered']}/{sse['expected']}; p50 {sse['p50_ms']:.0f} ms, p99 "
        f"{sse['p99_ms']:.0f} ms (target <= {TARGETS['sse_p99_ms']:.0f}), "
        f"max {sse['max_ms']:.0f} ms; to the first stream p50 {sse['first_stream_p50_ms']:.0f} ms,"
        f" first to last p50 {sse['spread_p50_ms']:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--sse-only", action="store_true", help="only the SSE fan-out")
    parser.add_argument("--fresh", action="store_true", help="rebuild the demo data set")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="roost-api-bench-") as tmp:
        out = run(args, Path(tmp))
    if args.sse_only:
        print(json.dumps(out["sse"]))
        return
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"api-{stamp}.json").write_text(json.dumps(out, indent=2))
    report(out)


if __name__ == "__main__":
    main()
