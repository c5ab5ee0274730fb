"""Limits shared through Redis (one Lua round trip) and the fail-open policy."""

from __future__ import annotations

import time
import uuid

import pytest
import redis.asyncio as aioredis

from roost.shield.gate import Gate
from roost.shield.gcra import Limit
from roost.shield.limiter import Check
from roost.shield.metrics import ShieldMetrics
from roost.shield.shared import SharedState

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def prefix():
    value = f"test:shield:{uuid.uuid4().hex[:8]}:"
    yield value
    client = aioredis.from_url(REDIS)
    keys = [key async for key in client.scan_iter(match=value + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def checks(ip: str, rate: float = 1.0, burst: float = 3.0) -> list[Check]:
    return [
        ("global", "global", Limit(10_000, 10_000), 1.0),
        ("ip", ip, Limit(rate, burst), 1.0),
    ]


@pytest.mark.redis
async def test_two_processes_share_one_budget(prefix: str) -> None:
    a, b = SharedState(REDIS, prefix, ShieldMetrics()), SharedState(REDIS, prefix, ShieldMetrics())
    results = []
    for state in (a, b, a, b, a):
        verdict = await state.check(checks("198.51.100.1"))
        assert verdict is not None
        results.append(verdict.allowed)
    assert results == [True, True, True, False, False]
    refused = await a.check(checks("198.51.100.1"))
    assert refused.refused_by == "ip" and refused.decision.retry_after > 0
    assert (await a.check(checks("198.51.100.2"))).allowed
    await a.aclose()
    await b.aclose()


@pytest.mark.redis
async def test_refusal_spends_nothing_and_headers_are_sane(prefix: str) -> None:
    state = SharedState(REDIS, prefix, ShieldMetrics())
    first = await state.check(checks("198.51.100.3", rate=100, burst=5))
    assert first.allowed and first.decision.limit == 5 and first.decision.remaining == 4
    await state.aclose()


@pytest.mark.redis
async def test_blocks_revocations_and_nonces_are_shared(prefix: str) -> None:
    a, b = SharedState(REDIS, prefix, ShieldMetrics()), SharedState(REDIS, prefix, ShieldMetrics())
    a.publish_block("198.51.100.9", 30)
    a.publish_revocation("pass-1", 30)
    await a.sync(Gate(), set())
    gate, revoked = Gate(), set()
    await b.sync(gate, revoked)
    assert gate.is_blocked("198.51.100.9", time.monotonic())
    assert "pass-1" in revoked
    assert await a.first_use("nonce-1")
    assert not await b.first_use("nonce-1")
    await a.aclose()
    await b.aclose()


@pytest.mark.redis
async def test_reputation_adds_up_across_processes(prefix: str) -> None:
    """A source that spreads its misdeeds over two processes is judged on all of them."""
    from roost.shield.reputation import ReputationTable

    a, b = SharedState(REDIS, prefix, ShieldMetrics()), SharedState(REDIS, prefix, ShieldMetrics())
    here, there = ReputationTable(shared=True), ReputationTable(shared=True)
    now = time.monotonic()
    for table in (here, there):
        for _ in range(4):
            table.add("198.51.100.30", "failed_login", now)
        table.add("198.51.100.31", "good", now)  # clean use is nobody else's business
    alone = here.suspicion("198.51.100.30", now)
    await a.share_scores({"ip": here}, now)
    await b.share_scores({"ip": there}, now)
    assert there.suspicion("198.51.100.30", now) > alone  # b now knows a's four too
    assert here.pending == {} and there.pending == {}
    await a.share_scores({"ip": here}, now)  # nothing new: nothing sent, nothing lost
    here.add("198.51.100.30", "failed_login", now)
    await a.share_scores({"ip": here}, now)
    assert here.suspicion("198.51.100.30", now) >= there.suspicion("198.51.100.30", now)
    client = aioredis.from_url(REDIS)
    stored = await client.get(f"{prefix}score:ip:198.51.100.30")
    assert float(stored.split()[0]) == pytest.approx(9.0, abs=0.05)  # 9 failed logins, weight 1
    assert await client.get(f"{prefix}score:ip:198.51.100.31") is None
    await client.aclose()
    await a.aclose()
    await b.aclose()


async def test_redis_down_fails_open_with_a_metric(caplog: pytest.LogCaptureFixture) -> None:
    metrics = ShieldMetrics()
    state = SharedState("redis://127.0.0.1:1/0", "x:", metrics)
    assert await state.check(checks("198.51.100.4")) is None  # the caller uses local tables
    assert await state.first_use("n") is True
    assert state.failures == 1 and not state.status()["healthy"]
    assert "falls back to local limits" in caplog.text
    assert b"roost_shield_redis_failures_total 1.0" in metrics.render()
    await state.aclose()


async def _get_statuses(shield, n: int) -> list[int]:
    import httpx

    transport = httpx.ASGITransport(app=shield, client=("198.51.100.20", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return [(await client.get("/page")).status_code for _ in range(n)]


def _shield(redis_url: str, prefix: str, tmp_path):
    from roost.config import Settings, ShieldSettings
    from roost.shield.layer import Shield
    from roost.shield.testbed import ToyApp

    shield_settings = ShieldSettings(
        ip_rate=1, ip_burst=2, redis_prefix=prefix, mode_file=str(tmp_path / "mode")
    )
    settings = Settings.from_env({}, redis_url=redis_url, shield=shield_settings)
    return Shield(ToyApp(cost_ms=0), settings, secret=b"k" * 32)


@pytest.mark.redis
async def test_shield_limits_through_redis(prefix: str, tmp_path) -> None:
    one, two = _shield(REDIS, prefix, tmp_path), _shield(REDIS, prefix, tmp_path)
    assert await _get_statuses(one, 2) == [200, 200]
    assert await _get_statuses(two, 1) == [429]  # the other process spent the budget
    await one.aclose()
    await two.aclose()


async def test_shield_keeps_serving_when_redis_is_down(tmp_path) -> None:
    shield = _shield("redis://127.0.0.1:1/0", "x:", tmp_path)
    assert await _get_statuses(shield, 3) == [200, 200, 429]  # local limits apply
    await shield.aclose()


@pytest.mark.redis
async def test_under_attack_mode_reaches_every_process_through_redis(prefix: str, tmp_path) -> None:
    from click.testing import CliRunner

    from roost.shield.cli import shield as shield_cli

    one = _shield(REDIS, prefix, tmp_path)
    env = {
        "ROOST_REDIS_URL": REDIS,
        "ROOST_SHIELD_REDIS_PREFIX": prefix,
        "ROOST_SHIELD_MODE_FILE": str(tmp_path / "cli-mode"),  # another machine's file
    }
    result = CliRunner().invoke(shield_cli, ["under-attack", "on"], env=env)
    assert "all servers sharing this Redis" in result.output
    await one.books.tick()
    assert one.books.mode == "on" and one.books.under_attack
    await one.aclose()


@pytest.mark.redis
async def test_suspicion_is_shared_between_processes(prefix: str, tmp_path) -> None:
    one, two = _shield(REDIS, prefix, tmp_path), _shield(REDIS, prefix, tmp_path)
    now = one.clock()
    for _ in range(30):
        one.note_address("198.51.100.77", "198.51.100.0/24", "rate_limited", now)
    assert one.rep_ip.suspicion("198.51.100.77", now) >= 0.5
    await one.books.tick()  # publishes
    await two.books.tick()  # pulls
    assert two.rep_ip.suspicion("198.51.100.77", two.clock()) >= 0.5
    await one.aclose()
    await two.aclose()
