"""Benchmark data: the demo data set (built once, then copied) and a crowd of followers.

Building the demo set costs about a minute (argon2 hashes, one API-sized write per post), so the
SQLite file is cached in bench/results/ and copied for each run; ``--fresh`` rebuilds it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, update

from roost.domain.ids import IdGenerator
from roost.store.db import make_engine
from roost.store.tables import accounts, follows

CHUNK = 2000  # rows per INSERT: SQLite's default limit is 32,766 bound parameters


def demo_database(cache_dir: Path, users: int, posts: int, fresh: bool, target: Path) -> float:
    """Copy a demo database of that size to ``target``; seconds spent building (0 if cached)."""
    cached = cache_dir / f"demo-{users}u-{posts}p.db"
    built = 0.0
    if fresh or not cached.exists():
        built = _build_demo(cached, users, posts)
    shutil.copyfile(cached, target)
    return built


def _build_demo(path: Path, users: int, posts: int) -> float:
    import time

    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOST_")}
    env["ROOST_DATABASE_URL"] = f"sqlite:///{path}"
    env["ROOST_SECRET_KEY"] = "bench-secret-" + "b" * 32
    started = time.monotonic()
    command = [sys.executable, "-m", "roost.cli", "demo", "--users", str(users)]
    subprocess.run([*command, "--posts", str(posts)], env=env, check=True)
    # Fold the WAL into the main file so a plain copy carries everything.
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.monotonic() - started


async def add_followers(database_url: str, target_id: int, count: int, prefix: str) -> list[int]:
    """Insert ``count`` accounts that follow ``target_id``; their ids (worker 1001: no clashes)."""
    ids = IdGenerator(1001)
    moment = datetime.now(UTC)
    people = [_person(ids.next_id(), f"{prefix}{i}", moment) for i in range(count)]
    edges = [
        {
            "id": ids.next_id(),
            "account_id": person["id"],
            "target_account_id": target_id,
            "state": "accepted",
            "show_reblogs": True,
            "created_at": moment,
        }
        for person in people
    ]
    engine = make_engine(database_url)
    try:
        async with engine.begin() as conn:
            for start in range(0, count, CHUNK):
                await conn.execute(insert(accounts), people[start : start + CHUNK])
                await conn.execute(insert(follows), edges[start : start + CHUNK])
            await conn.execute(
                update(accounts)
                .where(accounts.c.id == target_id)
                .values(followers_count=accounts.c.followers_count + count)
            )
    finally:
        await engine.dispose()
    return [person["id"] for person in people]


def _person(account_id: int, username: str, moment: datetime) -> dict:
    return {
        "id": account_id,
        "username": username,
        "display_name": "",
        "note": "",
        "note_html": "",
        "locked": False,
        "bot": False,
        "role": "user",
        "statuses_count": 0,
        "followers_count": 0,
        "following_count": 1,
        "created_at": moment,
        "updated_at": moment,
    }
