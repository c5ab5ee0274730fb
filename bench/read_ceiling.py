"""What this stack allows an uncached home page: a bare lane, hello-world and Roost (issue 13).

    .venv/bin/python bench/read_ceiling.py [--seconds 5] [--rounds 2]

Three servers in turn on the same CPU and uvicorn settings, measured by the same wrk script as
`bench/uncached_reads.py` (a new query string every request): hello-world; a *bare lane*, a
raw ASGI app (this file, ``--serve``) that does the least an uncached home page can do (a
token looked up in a dict, Roost's own three home statements run on sqlite3 against a copy of
the demo set, and 20 kept 1.25 KB fragments joined around the viewer's flags: a body of the
real page's size); and `roost serve` answering the same reader's real home timeline, shield on.

The bare lane has no shield, no parameters, no caches, no visibility rules, no errors: it is
a ceiling, not a design. It says how much of hello-world's rate three statements and a 25 KB
body leave, and so how much of the gap to issue 13's 0.20 is Roost's own code.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_timeline import hello_rate, pick_reader, wrk_distinct  # noqa: E402
from foundation_data import demo_database  # noqa: E402
from foundation_wrk import Wrk, ensure_wrk  # noqa: E402
from harness import LOAD_CPU, RESULTS, Server, free_port, roost_server, token_for  # noqa: E402

BARE_TOKEN = "bare-lane-token"
FRAGMENT = 1250  # bytes a kept status takes; 20 make the real page's 25 KB


def bare_lane(db: Path, reader: int):
    """The raw ASGI app: token, three statements, a joined body, two sends."""
    import orjson
    from sqlalchemy.dialects import sqlite

    from roost.services.hydrate import ABOUT_VIEWER_SPAN
    from roost.services.timelines import HOME_READER
    from roost.store.feeds import FEED_NEWEST

    dialect = sqlite.dialect()
    feed, about_reader, span = (
        s._compile(dialect) for s in (FEED_NEWEST, HOME_READER, ABOUT_VIEWER_SPAN)
    )
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    tokens = {hashlib.sha256(BARE_TOKEN.encode()).digest(): reader}
    kept = [
        b'{"id":"%d","content":"' % i + b"x" * (FRAGMENT - 40) + b'","favourited":'
        for i in range(20)
    ]
    head = [(b"content-type", b"application/json; charset=utf-8")]

    def run(compiled, params: dict) -> list:
        values = [params.get(name, compiled.defaults.get(name)) for name in compiled.order]
        return conn.execute(compiled.sql, values).fetchall()

    async def answer(send, status: int, body: bytes) -> None:
        headers = [*head, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/health":
            await answer(send, 200, b"ok")
            return
        authorization = dict(scope["headers"]).get(b"authorization", b"")
        viewer = tokens.get(hashlib.sha256(authorization[7:]).digest())
        if viewer is None:
            await answer(send, 401, b'{"error":"The access token is invalid"}')
            return
        page = {"owner": viewer, "below": 2**62, "above": 0, "limit": 20}
        ids = [row[0] for row in run(feed, page)]
        run(about_reader, {"viewer": viewer, "threshold": 1000})
        low, high = (min(ids), max(ids)) if ids else (0, 0)
        marks = run(span, {"viewer": viewer, "low": low, "high": high, "ids": orjson.dumps(ids)})
        marked = {row[1] for row in marks}
        parts = (kept[n] + (b"true}" if i in marked else b"false}") for n, i in enumerate(ids))
        await answer(send, 200, b"[" + b",".join(parts) + b"]")

    return app


def serve(db: Path, reader: int, port: int) -> None:
    import uvicorn

    from roost.config import Settings
    from roost.server import uvicorn_options

    uvicorn.run(bare_lane(db, reader), **uvicorn_options(Settings.from_env({}, port=port)))


def reader_id(db: Path, email: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()[0]


def measure(seconds: float, rounds: int, work: Path, users: int, posts: int) -> list[dict]:
    db = work / "roost.db"
    demo_database(RESULTS, users, posts, False, db)
    email = pick_reader(db)
    wrk = Wrk(LOAD_CPU, seconds, 16, work)
    runs = []
    for _ in range(rounds):
        hello = hello_rate(wrk, work)["rps"]
        port = free_port()
        command = [
            sys.executable,
            __file__,
            "--serve",
            str(db),
            str(reader_id(db, email)),
            str(port),
        ]
        bare = Server(command, {"PATH": "/usr/bin:/bin"}, port, work / "bare.log").start()
        try:
            wrk_distinct(wrk, bare.url + "/home", BARE_TOKEN, work)  # warm
            lane = wrk_distinct(wrk, bare.url + "/home", BARE_TOKEN, work)
        finally:
            bare.stop()
        roost = roost_server(db, work, "roost").start()
        try:
            token = token_for(roost.url, email)
            wrk_distinct(wrk, roost.url + "/api/v1/timelines/home", token, work)  # warm
            home = wrk_distinct(wrk, roost.url + "/api/v1/timelines/home", token, work)
        finally:
            roost.stop()
        runs.append({"hello": hello, "bare": lane, "roost": home})
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument(
        "--serve", nargs=3, metavar=("DB", "READER", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), int(args.serve[2]))
        return
    ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        runs = measure(args.seconds, args.rounds, Path(tmp), args.users, args.posts)
    for n, run in enumerate(runs, 1):
        hello = run["hello"]
        print(f"round {n}: hello-world {hello:7.0f} req/s   1.000")
        for name in ("bare", "roost"):
            figures = run[name]
            label = "bare lane" if name == "bare" else "roost home"
            rate = figures["rps"]
            print(
                f"round {n}: {label:11s} {rate:7.0f} req/s   {rate / hello:5.3f}"
                f"   (p99 {figures.get('p99_ms', 0):.1f} ms, non-2xx {figures.get('non2xx', 0)})"
            )


if __name__ == "__main__":
    main()
