"""Where an uncached read's time goes: a sampling profile of `roost serve` under wrk (issue 13).

    .venv/bin/python bench/profile_reads.py [--path /api/v1/timelines/home] [--seconds 10]

On a copy of the demo set (bench/run.py builds it once), the server runs pinned to CPU 0 with
the shield off; wrk (CPU 1) asks for the path as the demo account following the most people,
with a new query string on every request, so every one runs the full read path (no response
cache). py-spy samples the server at 200 Hz meanwhile. Each sample is charged to one bucket,
the innermost frame that belongs to a named part of the stack (Roost's own code by package,
SQLAlchemy, the SQLite driver, JSON, Starlette, the HTTP server); the table says what share of
the server's busy time each part took, and the requests per second wrk saw.

SQLAlchemy runs statements in greenlets, so py-spy sees its frames detached from the Roost
frame that asked for them: the SQLAlchemy and driver rows are all statements together.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_timeline import DISTINCT_SCRIPT, pick_reader  # noqa: E402
from bench.foundation_data import demo_database  # noqa: E402
from bench.harness import RESULTS, roost_server, token_for  # noqa: E402

# (bucket, substring of a frame's file path), innermost match wins; first match in this order
BUCKETS = [
    ("sqlite driver", "inline_sqlite.py"),
    ("sqlalchemy", "sqlalchemy/"),
    ("json", "json/"),
    ("roost.services", "roost/services/"),
    ("roost.present", "roost/present/"),
    ("roost.api", "roost/api/"),
    ("roost.web", "roost/web/"),
    ("roost.shield", "roost/shield/"),
    ("roost.store", "roost/store/"),
    ("starlette", "starlette/"),
    ("http server", "uvicorn/"),
    ("http server", "roost/server.py"),
    ("asyncio", "asyncio/"),
]


def bucket_of(stack: str) -> str:
    for frame in reversed(stack.split(";")):
        for name, marker in BUCKETS:
            if marker in frame:
                return name
    return "other"


def profile(path: str, seconds: float, work: Path) -> dict:
    db = work / "roost.db"
    demo_database(RESULTS, 300, 3000, False, db)
    server = roost_server(db, work, "profiled", ROOST_SHIELD_ENABLED="0").start()
    try:
        token = token_for(server.url, pick_reader(db))
        (work / "distinct.lua").write_text(DISTINCT_SCRIPT)
        wrk = subprocess.Popen(
            ["taskset", "-c", "1", "wrk", "-t1", "-c16", f"-d{round(seconds) + 3}s",
             "-H", f"Authorization: Bearer {token}", "-s", str(work / "distinct.lua"),
             server.url + path],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(1.5)
        raw = work / "samples.txt"
        spy = Path(sys.executable).with_name("py-spy")
        subprocess.run(
            [str(spy), "record", "-p", str(server.process.pid), "-d", str(round(seconds)),
             "-r", "200", "-f", "raw", "-o", str(raw), "--nonblocking"],
            capture_output=True, check=True,
        )  # fmt: skip
        out = wrk.communicate()[0]
    finally:
        server.stop()
    rate = next((float(line.split()[1]) for line in out.splitlines() if "Requests/sec" in line), 0)
    shares: Counter = Counter()
    leaves: Counter = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        shares[bucket_of(stack)] += int(count)
        leaves[stack.split(";")[-1]] += int(count)
    total = sum(shares.values()) or 1
    return {
        "path": path,
        "rps": rate,
        "samples": total,
        "shares": {k: v / total for k, v in shares.most_common()},
        "leaves": {k: v / total for k, v in leaves.most_common(25)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="/api/v1/timelines/home")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--leaves", type=int, default=0, help="also list the N busiest frames")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: scripts/system-deps installs it")
    with tempfile.TemporaryDirectory() as tmp:
        result = profile(args.path, args.seconds, Path(tmp))
    print(f"{result['path']}: {result['rps']:.0f} req/s, {result['samples']} samples")
    for name, share in result["shares"].items():
        print(f"  {name:16s} {share:6.1%}")
    for frame, share in list(result["leaves"].items())[: args.leaves]:
        print(f"  {share:6.1%}  {frame}")
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"profile-{stamp}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
