"""Attack detection, events to the status server, and the brownout cache."""

from __future__ import annotations

import json

import httpx

from roost.shield.brownout import BrownoutCache, Entry, cacheable
from roost.shield.detector import CONFIRM, MITIGATED_AFTER, QUIET, Detector
from roost.shield.events import EventSender
from tests.support.waiting import wait_for


def flood_second(d: Detector, second: int, rps: int, rejected: int, urls: bool = False) -> None:
    for i in range(rps):
        d.request(
            second + i / rps,
            f"10.{i % 50}.0.{i % 200}",
            f"10.{i % 50}.0.0/24",
            3,
            "GET",
            hash((second, i)) if urls else 1,
        )
    b = d.bucket(second)
    b.rejected += rejected
    b.admitted += rps - rejected
    b.latency_sum += (rps - rejected) * 0.01


def run(d: Detector, seconds: range, rps: int, rejected: int, **kw) -> list[dict]:
    events = []
    for second in seconds:
        flood_second(d, second, rps, rejected, **kw)
        event = d.tick(second + 0.99, 1_800_000_000 + second, queue_standing=False)
        if event:
            events.append(event)
    return events


def test_calm_traffic_raises_nothing() -> None:
    d = Detector(attack_rps=100)
    assert run(d, range(0, 20), rps=50, rejected=0) == []
    assert d.state == "calm"


def test_flood_starts_is_mitigated_and_ends() -> None:
    d = Detector(attack_rps=100)
    events = run(d, range(0, 30), rps=400, rejected=300)
    assert [e["type"] for e in events] == ["attack_started", "attack_mitigated"]
    started = events[0]
    assert "volumetric_get_flood" in started["classification"]
    assert started["figures"]["sources"] > 100 and started["figures"]["reject_ratio"] > 0.5
    assert started["at"].endswith("Z") and started["started_at"] <= started["at"]
    assert "addresses" in started["summary"]
    later = run(d, range(30, 30 + QUIET + 15), rps=10, rejected=0)
    assert [e["type"] for e in later] == ["attack_ended"]
    assert CONFIRM < MITIGATED_AFTER


def test_cache_busting_is_classified() -> None:
    d = Detector(attack_rps=100)
    events = run(d, range(0, 6), rps=300, rejected=100, urls=True)
    assert "cache_busting" in events[0]["classification"]


def test_login_brute_force_and_slow_clients_are_classified() -> None:
    d = Detector(attack_rps=100)
    for second in range(6):
        b = d.bucket(second)
        b.slow_closes += 20
        b.failed_logins += 10
        event = d.tick(second + 0.5, 1_800_000_000 + second, queue_standing=False)
    assert event is not None or d.state == "attack"
    assert set(d.classify(d.figures(5.5))) >= {"slow_clients", "login_brute_force"}


async def test_events_are_posted_with_the_admin_token() -> None:
    received: list[tuple[str, dict]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append((request.headers["authorization"], json.loads(request.content)))
        return httpx.Response(202)

    sender = EventSender("http://status.test/", "tok", transport=httpx.MockTransport(handler))
    sender.start()
    sender.emit({"type": "attack_started", "figures": {}})
    await wait_for(lambda: received, "the event at the status server")
    await sender.stop()
    assert received[0][0] == "Bearer tok"
    assert received[0][1]["type"] == "attack_started"
    assert received[0][1]["source"].startswith("roost-shield/")


async def test_status_server_down_does_not_raise() -> None:
    tried: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        tried.append(request)
        raise httpx.ConnectError("down")

    sender = EventSender("http://status.test", "tok", transport=httpx.MockTransport(handler))
    sender.start()
    sender.emit({"type": "attack_started"})
    await wait_for(lambda: tried, "an attempt to reach the status server")
    await sender.stop()
    assert sender.sent[-1]["type"] == "attack_started"


def test_no_url_means_log_only() -> None:
    sender = EventSender("", "")
    sender.emit({"type": "attack_ended"})
    assert sender.queue.empty()


def entry(now: float, headers=None) -> Entry:
    return Entry(200, headers or [(b"content-type", b"text/html")], b"page", now)


def test_brownout_cache_fresh_stale_and_single_refresh() -> None:
    cache = BrownoutCache(ttl=2, stale=10)
    assert cache.lookup(b"/a", 0.0) == (None, True)  # first: go and fetch
    assert cache.lookup(b"/a", 0.0) == (None, False)  # someone is fetching
    cache.store(b"/a", entry(0.0))
    assert cache.lookup(b"/a", 1.0)[0] is not None
    stale, refresh = cache.lookup(b"/a", 5.0)
    assert stale is not None and refresh  # stale: this one refreshes...
    other, other_refresh = cache.lookup(b"/a", 5.0)
    assert other is stale and not other_refresh  # ...the others get the stale copy
    cache.done(b"/a")
    assert cache.lookup(b"/a", 20.0) == (None, True)  # too old even to be stale


def test_only_shareable_responses_are_cached() -> None:
    assert cacheable(200, [(b"cache-control", b"public, max-age=5")])
    assert not cacheable(200, [(b"set-cookie", b"a=b")])
    assert not cacheable(200, [(b"cache-control", b"private")])
    assert not cacheable(404, [])
    cache = BrownoutCache(ttl=2, stale=10, capacity=2)
    for key in (b"/1", b"/2", b"/3"):
        cache.store(key, entry(0.0))
    assert len(cache) == 2
