"""bench/signed_in_calm.py's own arithmetic: the summary and the verdict (no servers)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.support.bench import bench_module

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def calm():
    yield from bench_module("signed_in_calm")


def reader(calm, statuses: dict[int, int], latency_ms: float):
    tally = calm.Reader(Counter(statuses))
    tally.latencies = [latency_ms / 1000] * sum(statuses.values())
    return tally


def test_summary_counts_refusals_and_the_slowest_reader(calm) -> None:
    readers = [
        reader(calm, {200: 98, 503: 2}, 40.0),
        reader(calm, {200: 10}, 400.0),
    ]
    row = calm.summarise(readers, seconds=10.0)
    assert row["requests"] == 110 and row["rps"] == 11.0
    assert row["statuses"] == {200: 108, 503: 2} and row["refused"] == 2
    assert row["slowest_reader_rps"] == 1.0 and row["busiest_reader_rps"] == 10.0
    assert row["p50_ms"] == pytest.approx(40.0) and row["p99_ms"] == pytest.approx(400.0)


def test_any_429_or_503_fails_the_row(calm) -> None:
    clean = calm.summarise([reader(calm, {200: 50}, 20.0)], seconds=5.0)
    limited = calm.summarise([reader(calm, {200: 49, 429: 1}, 20.0)], seconds=5.0)
    text = calm.table("SQLite, 1 process", [clean, limited])
    lines = text.splitlines()[2:]
    assert "PASS" in lines[0] and "FAIL" in lines[1]
    assert re.search(r" 1 +0 +0 +\d+% +FAIL", lines[1])  # 429s, 503s, errors, client CPU


def test_readers_never_use_the_admin_address(calm) -> None:
    sources = {calm.source(n) for n in range(64)}
    assert len(sources) == 64 and "127.0.0.1" not in sources
