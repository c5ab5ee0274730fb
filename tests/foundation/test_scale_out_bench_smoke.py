"""bench/scale_out.py: its loopback edge, its table, and a tiny real run (1 and 2 processes
behind the edge on PostgreSQL + Redis) so the benchmark cannot rot."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
import redis

from tests.conftest import need_service
from tests.support.bench import bench_module

BENCH = Path(__file__).resolve().parents[2] / "bench"
HAPROXY = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")


@pytest.fixture(scope="module")
def scale():
    yield from bench_module("scale_out")


def test_the_edge_of_start_sh_listens_on_loopback_when_asked(tmp_path: Path) -> None:
    """The run passes ``--host 127.0.0.1``: the rendered edge must bind there, not everywhere."""
    start = Path(__file__).resolve().parents[2] / "deploy" / "start.sh"
    run = tmp_path / "run"
    done = subprocess.run(
        ["sh", str(start), "--check", "--host", "127.0.0.1", "--listen", "18999",
         "--processes", "1", "--run-dir", str(run)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    config = (run / "edge" / "haproxy.cfg").read_text()
    assert "bind 127.0.0.1:18999" in config
    assert "bind 0.0.0.0" not in config


def test_the_table_gives_each_rate_as_a_ratio_to_one_process(scale) -> None:
    def row(n: int, reads: float, posts: float) -> dict:
        steady = {"p50_ms": 5.0, "p99_ms": 20.0, "acked": 50}
        return {
            "processes": n,
            "reads": {"rps": reads, "non2xx": 0, "p50_ms": 10.0, "p99_ms": 50.0},
            "posts": {"rps": posts, "non2xx": 3, "p50_ms": 20.0, "p99_ms": 90.0},
            "steady_posts": steady,
            "per_process_requests": {f"127.0.0.1:{9000 + i}": 1000 for i in range(n)},
        }

    text = scale.table({"rows": [row(1, 200.0, 100.0), row(2, 300.0, 150.0)]})
    lines = text.splitlines()
    assert lines[0].startswith("processes  reads/s  x 1 proc")
    assert lines[3].split()[:3] == ["2", "300", "1.50"]
    assert "150 (3 non-2xx)" in lines[3] and "1,000 / 1,000" in lines[3]
    assert scale.counts("1,2,4") == [1, 2, 4]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.skipif(HAPROXY is None or shutil.which("wrk") is None, reason="needs haproxy, wrk")
def test_a_tiny_run_measures_one_and_two_processes_and_cleans_up(tmp_path: Path) -> None:
    need_service("postgres")
    need_service("redis")
    redis_url = "redis://127.0.0.1:6379/14"  # not the bench's default: a real run may be on
    command = [sys.executable, str(BENCH / "scale_out.py"), "--results", str(tmp_path)]
    command += ["--users", "20", "--posts", "60", "--readers", "10", "--posters", "10"]
    command += ["--seconds", "1", "--processes", "1,2", "--post-rate", "2"]
    done = subprocess.run(
        [*command, "--redis-url", redis_url], capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (written,) = tmp_path.glob("scale-out-*.json")
    results = json.loads(written.read_text())
    one, two = results["rows"]
    assert one["reads"]["rps"] > 0 and two["posts"]["rps"] > 0
    assert len(two["per_process_requests"]) == 2
    assert all(n > 0 for n in two["per_process_requests"].values())

    async def databases() -> list[str]:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
        try:
            return [r[0] for r in await conn.fetch("SELECT datname FROM pg_database")]
        finally:
            await conn.close()

    assert results["database"] not in asyncio.run(databases())
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0
    finally:
        client.close()
