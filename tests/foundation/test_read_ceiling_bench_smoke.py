"""bench/read_ceiling.py: the bare lane answers a real page; a tiny run prints all three rows."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from foundation_data import demo_database  # noqa: E402
from read_ceiling import BARE_TOKEN, bare_lane  # noqa: E402

ROW = re.compile(r"^round 1: (hello-world|bare lane|roost home) +(\d+) req/s +([\d.]+)")


async def _get(app, token: str) -> tuple[int, bytes]:
    sent: list[dict] = []
    scope = {
        "type": "http",
        "path": "/home",
        "headers": [(b"authorization", b"Bearer " + token.encode())],
    }

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, None, send)
    return sent[0]["status"], sent[1]["body"]


def test_the_bare_lane_reads_the_readers_feed_and_refuses_other_tokens(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    demo_database(tmp_path, 20, 60, False, db)
    with sqlite3.connect(db) as conn:
        reader, feed = conn.execute(
            "SELECT owner_id, count(*) FROM home_feed GROUP BY owner_id ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
        newest = [
            r[0]
            for r in conn.execute(
                "SELECT status_id FROM home_feed WHERE owner_id = ?"
                " ORDER BY status_id DESC LIMIT 20",
                (reader,),
            )
        ]
    app = bare_lane(db, reader)
    status, body = asyncio.run(_get(app, BARE_TOKEN))
    page = orjson.loads(body)
    assert status == 200 and len(page) == min(feed, 20) == len(newest)
    assert len(body) > 1200 * len(page)  # the real page's weight, not an empty answer
    assert asyncio.run(_get(app, "someone-else"))[0] == 401


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (scripts/system-deps)")
def test_a_tiny_run_prints_hello_world_the_bare_lane_and_roost() -> None:
    command = [sys.executable, str(ROOT / "bench" / "read_ceiling.py"), "--seconds", "1"]
    command += ["--rounds", "1", "--users", "20", "--posts", "60"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {m[1]: float(m[2]) for m in map(ROW.match, done.stdout.splitlines()) if m}
    assert set(rows) == {"hello-world", "bare lane", "roost home"}, done.stdout
    assert all(rate > 0 for rate in rows.values())
    assert "non-2xx 0" in done.stdout
