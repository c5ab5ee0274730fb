"""Uncached reads against hello-world, in one run (issue 13): home, public, a profile, a thread.

    .venv/bin/python bench/uncached_reads.py [--shield on|off] [--seconds 5] [--json FILE]

On a copy of the demo set (bench/run.py builds it once), hello-world (bench/foundation_hello.py)
and then `roost serve` run pinned to CPU 0; wrk (CPU 1, 16 connections) asks for each path as
the demo account following the most people, with a new query string on every request, so the
response cache never answers and every request runs the read path. Targets: home >= 0.20 of
hello-world, the others >= 0.15, with the shield on (its limits out of reach: what it costs,
not what it refuses). A last row, "floor", asks for a timeline that is always empty
(``only_media=true``): the token, parameters, caches, shield and HTTP with no page.
bench/run.py prints the same rows within its full table.

The machine is shared and noisy: read one run's ratios, not absolute numbers. To compare with
an older commit, run this file from a checkout of that commit (`git worktree add`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_timeline import hello_rate, pick_reader, wrk_distinct  # noqa: E402
from foundation_data import demo_database  # noqa: E402
from foundation_wrk import Wrk, ensure_wrk  # noqa: E402
from harness import LOAD_CPU, RESULTS, SHIELD_WIDE_OPEN, other_reads, roost_server, token_for  # noqa: E402

TARGETS = {"home": 0.20, "public": 0.15, "profile": 0.15, "thread": 0.15}
# The same road with no page on it: a cacheable timeline route that answers [] once the token,
# the parameters and the caches have been dealt with. What the stack costs before any page.
FLOOR = "/api/v1/timelines/public?only_media=true"


def measure(shield: bool, seconds: float, work: Path, users: int = 300, posts: int = 3000) -> dict:
    db = work / "roost.db"
    demo_database(RESULTS, users, posts, False, db)
    wrk = Wrk(LOAD_CPU, seconds, 16, work)
    hello = hello_rate(wrk, work)["rps"]
    env = dict(SHIELD_WIDE_OPEN) if shield else {"ROOST_SHIELD_ENABLED": "0"}
    server = roost_server(db, work, "uncached", **env).start()
    rows = {}
    try:
        token = token_for(server.url, pick_reader(db))
        paths = {"home": "/api/v1/timelines/home", **other_reads(db), "floor": FLOOR}
        for name, path in paths.items():
            rows[name] = wrk_distinct(wrk, server.url + path, token, work)
    finally:
        server.stop()
    return {"hello": hello, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shield", choices=("on", "off"), default="on")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=300, help="demo accounts (default 300)")
    parser.add_argument("--posts", type=int, default=3000, help="demo posts (default 3000)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        out = measure(args.shield == "on", args.seconds, Path(tmp), args.users, args.posts)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    hello = out["hello"]
    print(f"hello-world  {hello:7.0f} req/s   1.00   (shield {args.shield} below)")
    for name, figures in out["rows"].items():
        ratio = figures["rps"] / hello
        if name in TARGETS:
            verdict = "PASS" if ratio >= TARGETS[name] else "FAIL"
            target = f"{verdict} >= {TARGETS[name]:.2f}"
        else:
            target = "(no page: the stack alone)"
        print(
            f"{name:12s} {figures['rps']:7.0f} req/s  {ratio:5.3f}  {target}"
            f"  (p99 {figures.get('p99_ms', 0):.1f} ms, non-2xx {figures.get('non2xx', 0)})"
        )


if __name__ == "__main__":
    main()
