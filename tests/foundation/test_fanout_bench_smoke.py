"""The benchmark's own arithmetic: wrk output parsing and the report table (no servers)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  400.00us   9.00ms   90.00%
    Req/Sec     3.80k   100.00     4.00k    70.00%
  Latency Distribution
     50%    2.00ms
     75%    2.20ms
     90%  850.00us
     99%    1.20s
  19000 requests in 5.00s, 2.50MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   3800.50
Transfer/sec:    512.00KB
"""


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        import foundation_wrk
        import run

        yield run, foundation_wrk
    finally:
        sys.path.remove(str(BENCH))


def test_wrk_output_is_read_with_its_units(bench):
    _, wrk = bench
    figures = wrk.parse(WRK_OUTPUT)
    assert figures["rps"] == 3800.5
    assert figures["non2xx"] == 7
    assert figures["socket_errors"] == 3
    assert figures["p50_ms"] == 2.0
    assert figures["p90_ms"] == pytest.approx(0.85)
    assert figures["p99_ms"] == 1200.0


def test_table_gives_ratios_to_the_ceiling_and_verdicts(bench):
    run, _ = bench
    rate = {"rps": 1000.0, "non2xx": 0}
    ack = {
        "posts": 100,
        "p50_ms": 5.0,
        "p99_ms": 30.0,
        "max_ms": 40.0,
        "crowd_posts": 8,
        "refused": 0,
    }
    fan = {"median_s": 0.5, "runs": [0.5, 0.4, 0.6], "all_feeds_reached": True}
    part = {"health": rate, "home": {"rps": 400.0}, "rss_mb": 90.0, "rss_peak_mb": 120.0}
    results = {
        "hello": {"rps": 1000.0},
        "shield_on": part,
        "shield_off": {**part, "post": rate, "ack_while_fanout": ack, "fanout_10k": fan},
        "redis": {"ack_while_fanout": {**ack, "p99_ms": 10.0}, "fanout_10k": fan},
    }
    text = run.table(results)
    assert re.search(r"home timeline \(20\), shield on\s+400 req/s\s+0\.40\s+PASS >= 0\.35", text)
    assert "FAIL <= 25 ms" in text and "PASS <= 25 ms" in text
    assert "PASS <= 1 s" in text and "PASS <= 200 MB" in text
