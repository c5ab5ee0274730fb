"""bench/steady_state.py: its arithmetic, and a tiny real run so the benchmark cannot rot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.bench import bench_module

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def steady():
    yield from bench_module("steady_state")


def _row(store: str, rate: float, rps: float, posts: dict | None, cache: dict) -> dict:
    reads = {"rps": rps, "non2xx": 0, "p50_ms": 2.0, "p99_ms": 9.0}
    return {
        "store": store,
        "post_rate": rate,
        "reads": reads,
        "posts": posts,
        "ceiling_rps": 1000.0,
        "read_ratio": rps / 1000.0,
        "cache": cache,
    }


def test_each_read_carries_the_next_token_and_each_post_a_distinct_text(steady) -> None:
    reads = steady.rotating_script(["aaa", "bbb"])
    assert '"aaa",\n  "bbb"' in reads and "tokens[counter % #tokens + 1]" in reads
    assert "wrk.format(nil, nil, headers)" in reads
    posts = steady.rotating_script(["aaa"], post="steady+post")
    assert 'wrk.format("POST", nil, headers, "status=steady+post+" .. counter)' in posts
    assert "application/x-www-form-urlencoded" in posts


def test_the_table_gives_ratios_verdicts_and_says_when_hits_are_not_counted(steady) -> None:
    ack = {"acked": 100, "refused": 2, "p50_ms": 8.0, "p99_ms": 30.0}
    hidden = {"exposed": False}
    rows = [
        _row("SQLite", 0, 800.0, None, hidden),
        _row("SQLite", 5, 30.0, ack, {"exposed": True, "hit_rate": 0.25}),
    ]
    text = steady.table({"rows": rows})
    assert re.search(r"SQLite\s+0\s+800\s+1,000\s+0\.80\s+2\.0 ms\s+9\.0 ms\s+-", text)
    assert "100 (2)" in text and "FAIL <= 25 ms" in text
    assert "not exposed" in text and "25%" in text


def test_posts_of_the_warm_up_are_reported_apart_not_dropped(steady) -> None:
    poster = steady.Poster("http://127.0.0.1:1", ["t"], 5.0, "x", warmup=1.0)
    poster.cold = [0.150, 0.090]  # the row's first second: the cold start
    poster.latencies = [0.010, 0.012, 0.020]
    poster.statuses[200] = 5
    figures = poster.figures(2.0)
    assert figures["acked"] == 5 and figures["refused"] == 0  # every answer counted
    assert figures["p99_ms"] == pytest.approx(20.0) and figures["max_ms"] == pytest.approx(20.0)
    assert figures["warmup_acked"] == 2 and figures["warmup_max_ms"] == pytest.approx(150.0)
    row = _row("SQLite", 5, 30.0, figures, {"exposed": False})
    assert "150.0 ms" in steady.table({"rows": [row]})


def test_a_hit_rate_needs_both_hits_and_misses_counted(steady) -> None:
    assert steady.hit_rate({}, {}) == {
        "exposed": False,
        "note": "not exposed (no response-cache counter)",
    }
    before = {"roost_api_cache_hits_total": 10.0, "roost_api_cache_misses_total": 10.0}
    after = {"roost_api_cache_hits_total": 40.0, "roost_api_cache_misses_total": 20.0}
    assert steady.hit_rate(before, after)["hit_rate"] == 0.75
    metrics = 'roost_api_cache_hits_total{kind="page"} 3.0\nroost_shield_brownout_total{a="x"} 1\n'
    assert steady.CACHE_SERIES.findall(metrics) == [("roost_api_cache_hits_total", "3.0")]


def test_post_rates_are_a_list_of_non_negative_numbers(steady) -> None:
    assert steady.post_rates("0,5,20") == [0.0, 5.0, 20.0]
    with pytest.raises(Exception, match="each >= 0"):
        steady.post_rates("-1")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (scripts/system-deps)")
def test_a_tiny_run_reads_while_posting_and_writes_its_json(tmp_path: Path) -> None:
    command = [sys.executable, str(BENCH / "steady_state.py"), "--results", str(tmp_path)]
    command += ["--users", "20", "--posts", "60", "--readers", "10", "--posters", "5"]
    command += ["--seconds", "1", "--hello-seconds", "1", "--post-rates", "0,4"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "posts/s asked" in done.stdout
    (written,) = tmp_path.glob("steady-*.json")
    results = json.loads(written.read_text())
    frozen, steady_row = results["rows"]
    # the site counts its response cache on /metrics: reads alone are mostly hits
    assert frozen["cache"]["exposed"] and frozen["cache"]["hit_rate"] > 0.5
    assert frozen["posts"] is None and frozen["reads"]["rps"] > 0
    assert steady_row["posts"]["acked"] >= 2 and steady_row["posts"]["refused"] == 0
    assert steady_row["reads"]["non2xx"] == 0 and steady_row["page_statuses"] > 0
    assert results["hello"]["rps"] > 0
