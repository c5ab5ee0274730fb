"""bench/siege_generator.py's flood runs (briefly) against a real loopback server, so the
benchmark cannot silently fall behind the generator's code."""

from __future__ import annotations

import asyncio

import pytest

from bench.siege_generator import flood


@pytest.mark.parametrize("pipeline", [1, 4])
def test_generator_bench_floods_a_real_server(target_server, pipeline: int) -> None:
    server = target_server()
    answered, cpu_share = asyncio.run(flood(server.url, 0.5, 4, 8, 20, pipeline))
    assert answered > 50
    assert 0 < cpu_share <= 1.5
    per_address = server.stats()["requests"]  # the bench's bots come from several addresses
    assert sum(per_address.values()) >= answered and len(per_address) > 1


@pytest.mark.parametrize("profile", ["botnet_mix", "scraper", "sybil"])
def test_generator_bench_runs_the_reviewers_shapes(target_server, profile: str) -> None:
    server = target_server()
    rotate_after = 1 if profile == "scraper" else 20
    bots = 50_000 if profile == "scraper" else 2000  # more addresses than requests in 0.5 s
    answered, _ = asyncio.run(flood(server.url, 0.5, 8, bots, rotate_after, 1, profile))
    assert answered > 20
    stats = server.stats()
    requests, connections = stats["requests"], stats["connections"]
    if profile == "scraper":  # a connection, and nearly always an address, per request
        assert sum(connections.values()) >= sum(requests.values()) >= answered
        assert len(requests) >= 0.9 * answered
