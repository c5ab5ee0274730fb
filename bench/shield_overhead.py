"""The shield's cost per admitted request when nothing is attacking, in-process (no sockets).

Calls the ``Shield`` ASGI app directly with fake scope/receive/send, against the same app called
bare, for a few request shapes (anonymous API GET, browser page GET, bearer-token GET, session
cookie GET) and two app costs (hello-world: nothing; a realistic Roost request: ``--work-us`` of
CPU, a fixed number of loops). Rounds alternate bare and shielded runs.

Each request is timed alone, and the app's own work is timed inside it and taken out: what is
compared is the *median* time outside the app's work (the shield, or nothing) plus the work's
mean. The work's own jitter (tens of microseconds on a shared machine) would otherwise drown the
difference, and a median shrugs off the requests a neighbour's load preempts. The shield's code
runs slower after the app's work than back to back (colder caches: about 5 us here), so the
realistic row is the one to read. ``ratio`` is bare / shielded time per request: the throughput
the shield leaves, as ``bench/shield_ceilings.py``'s "x hello".

Run: .venv/bin/python bench/shield_overhead.py [--requests 2000] [--rounds 10] [--work-us 250]
     .venv/bin/python bench/shield_overhead.py --count   # bytecodes and calls per request
The machine is shared: compare ratios within one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import itsdangerous

from roost.config import Settings, ShieldSettings
from roost.domain.signed import mint_token
from roost.shield.layer import Shield

SECRET = b"bench-secret-0123456789abcdef!!!"
BODY = b'{"hello":"world"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"17")]
START = {"type": "http.response.start", "status": 200, "headers": HEADERS}
END = {"type": "http.response.body", "body": BODY}
REQUEST = {"type": "http.request", "body": b"", "more_body": False}
# Limits out of the way: a tight loop from one address must measure the calm path, not 429s.
OPEN = {
    f"{kind}_{what}": 1e9
    for kind in ("ip", "prefix", "account", "global")
    for what in ("rate", "burst")
}


def burn(loops: int) -> None:
    total = 0
    for i in range(loops):
        total += i


def loops_for(work_us: float) -> int:
    """How many ``burn`` loops cost ``work_us`` of CPU (a fixed amount of work, not a deadline:
    a deadline would stretch with a neighbour's load)."""
    if not work_us:
        return 0
    best = min(_cpu_seconds(burn, 100_000) for _ in range(5))
    return round(100_000 * work_us / 1e6 / best)


def _cpu_seconds(fn: Callable[[int], None], arg: int) -> float:
    started = time.process_time()
    fn(arg)
    return time.process_time() - started


class Clock:
    """Seconds the app spent working, summed."""

    inside = 0.0


def make_app(loops: int) -> Callable[..., Any]:
    async def app(scope: dict, receive: Any, send: Any) -> None:
        if loops:
            started = time.perf_counter()
            burn(loops)
            Clock.inside += time.perf_counter() - started
        await send(START)
        await send(END)

    return app


async def receive() -> dict:
    return REQUEST


async def send(message: dict) -> None:
    pass


def session_cookie(account_id: int, created: int) -> bytes:
    """A ``roost_session`` as Starlette's SessionMiddleware signs it (signer: the secret)."""
    session = {"account_id": account_id, "account_created": created}
    data = base64.b64encode(json.dumps(session).encode())
    return b"roost_session=" + itsdangerous.TimestampSigner(SECRET).sign(data)


def shapes() -> dict[str, tuple[str, list[tuple[bytes, bytes]]]]:
    created = int(time.time()) - 400 * 86400
    token = mint_token(SECRET, 42, created).encode()
    api = [(b"host", b"roost.test"), (b"user-agent", b"Tusky/25.2"), (b"accept", b"*/*")]
    browser = [
        (b"host", b"roost.test"),
        (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        (b"accept", b"text/html"),
        (b"accept-language", b"en"),
        (b"accept-encoding", b"gzip"),
        (b"connection", b"keep-alive"),
    ]
    return {
        "anonymous API GET": ("/api/v1/timelines/public", api),
        "anonymous page GET": ("/public", browser),
        "bearer GET": ("/api/v1/timelines/home", [*api, (b"authorization", b"Bearer " + token)]),
        "session GET": ("/home", [*browser, (b"cookie", session_cookie(42, created))]),
    }


def scope_for(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("198.51.100.7", 40000),
        "server": ("127.0.0.1", 8000),
    }


async def per_request(app: Any, template: dict, n: int) -> tuple[list[float], float]:
    """Each request's microseconds outside the app's work, and the work's total, over ``n``
    requests (a fresh scope each, as a server gives)."""
    clock = time.perf_counter
    outside = []
    Clock.inside = 0.0
    for i in range(n):
        scope = dict(template)
        inside = Clock.inside
        started = clock()
        await app(scope, receive, send)
        outside.append((clock() - started - (Clock.inside - inside)) * 1e6)
        if i % 1000 == 999:
            await asyncio.sleep(0)  # let the shield's background tasks run, as they would
    return outside, Clock.inside * 1e6


async def compare(shield: Any, app: Any, template: dict, n: int, rounds: int) -> tuple:
    """(app us, bare us, shielded us) per request: the median time outside the app's work over
    all rounds, plus the work's mean."""
    await per_request(shield, template, n)  # warm caches and tables
    bare: list[float] = []
    shielded: list[float] = []
    work = 0.0
    for _ in range(rounds):
        for runner, outside in ((app, bare), (shield, shielded)):
            samples, inside = await per_request(runner, template, n)
            outside.extend(samples)
            work += inside
    work /= 2 * rounds * n
    return work, work + statistics.median(bare), work + statistics.median(shielded)


async def measure(args: argparse.Namespace, tmp: str) -> None:
    shield_settings = ShieldSettings(mode_file=f"{tmp}/mode", **OPEN)
    settings = Settings.from_env({}, shield=shield_settings)
    columns = ("app us", 8), ("bare us", 9), ("shield us", 11), ("extra us", 10), ("ratio", 8)
    print("request".ljust(22) + "".join(name.rjust(width) for name, width in columns))
    for work in (0.0, args.work_us):
        app = make_app(loops_for(work))
        shield = Shield(app, settings, secret=SECRET)
        n = args.requests if not work else max(200, args.requests // 10)
        for name, (path, headers) in shapes().items():
            template = scope_for(path, headers)
            w, b, s = await compare(shield, app, template, n, args.rounds)
            print(f"{name:<22}{w:>8.1f}{b:>9.1f}{s:>11.1f}{s - b:>10.1f}{b / s:>8.3f}")
        await shield.aclose()


def tracer(tally: list[int]) -> Callable[..., Any]:
    def trace(frame: Any, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        tally[event == "call"] += event in ("call", "opcode")
        return trace

    return trace


async def count(tmp: str) -> None:
    """Python bytecodes and calls per shielded request: a figure no neighbour's load can move
    (the timings on a shared machine swing by a third from run to run)."""
    settings = Settings.from_env({}, shield=ShieldSettings(mode_file=f"{tmp}/mode", **OPEN))
    shield = Shield(make_app(0), settings, secret=SECRET)
    print(f"{'request':<22}{'bytecodes':>10}{'calls':>8}  (per shielded request, hello app)")
    for name, (path, headers) in shapes().items():
        template = scope_for(path, headers)
        await per_request(shield, template, 50)  # warm: first-time inserts are not the calm path
        tally = [0, 0]  # bytecodes, calls
        sys.settrace(tracer(tally))
        for _ in range(100):
            await shield(dict(template), receive, send)
        sys.settrace(None)
        print(f"{name:<22}{tally[0] / 100:>10.0f}{tally[1] / 100:>8.0f}")
    await shield.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", action="store_true", help="bytecodes and calls instead")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--work-us", type=float, default=250.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(count(tmp) if args.count else measure(args, tmp))


if __name__ == "__main__":
    main()
