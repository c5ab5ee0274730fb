"""Start-up truth: probes before the site's first successful start are not an outage.

The gate replayed with exact times, its invariants over arbitrary rounds (Hypothesis), and the
stories a user sees through the service: a fresh `roost up`, a site that never comes up, a site
seen up that goes down, and restarts of the status server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from status_support import T0, Clock, status_settings

from roost.status.app import StatusApp
from roost.status.model import ProbeResult
from roost.status.server import thresholds
from roost.status.service import StatusService
from roost.status.startup import GRACE, StartGate
from roost.status.store import make_engine

CHECKS = [("home", "web"), ("public_timeline", "api"), ("search", "search")]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def probe(seconds: float, component: str, ok: bool) -> ProbeResult:
    return ProbeResult(at(seconds), component, component, ok, 20.0 if ok else 3000.0)


def everything(seconds: float, ok: bool) -> list[ProbeResult]:
    return [probe(seconds, cid, ok) for _, cid in CHECKS]


# -- the gate, replayed --------------------------------------------------------------------------


def test_failures_before_the_site_first_serves_are_dropped() -> None:
    gate = StartGate(T0)
    assert gate.waiting is not None and not gate.waiting.checked
    for t in (0, 5, 10, 15):
        assert gate.admit(everything(t, False), at(t)) == []
    waiting = gate.waiting
    assert waiting is not None and waiting.checked and not waiting.site_started
    assert waiting.unanswered == {"web", "api", "search"}
    up = everything(20, True)
    assert gate.admit(up, at(20)) == [up]
    assert gate.held == [] and gate.waiting is None
    assert gate.admit(everything(25, True), at(25)) == [everything(25, True)]
    assert gate.expire(at(90)) == [] and gate.closed


def test_a_site_that_never_serves_counts_from_its_first_failed_probe() -> None:
    gate = StartGate(T0, timedelta(seconds=30))
    for t in (0.2, 5.2, 10.2, 15.2, 20.2, 25.2):
        assert gate.admit(everything(t, False), at(t)) == []
    assert gate.expire(at(29.9)) == []
    released = gate.expire(at(30))
    assert [b[0].at for b in released] == [at(t) for t in (0.2, 5.2, 10.2, 15.2, 20.2, 25.2)]
    assert all(not r.ok for b in released for r in b) and sum(map(len, released)) == 18
    assert gate.closed and gate.waiting is None
    late = everything(30.2, False)
    assert gate.admit(late, at(30.2)) == [late]  # after the grace every probe counts at once


def test_a_round_after_the_grace_releases_the_held_ones_first() -> None:
    gate = StartGate(T0, timedelta(seconds=10))
    gate.admit(everything(0, False), at(0))
    gate.admit(everything(5, False), at(5))
    released = gate.admit(everything(10, False), at(10))
    assert [b[0].at for b in released] == [at(0), at(5), at(10)]


def test_a_component_seen_serving_counts_its_failures_at_once() -> None:
    gate = StartGate(T0)
    gate.admit(everything(0, True), at(0))
    down = [probe(5, "web", False), probe(5, "api", True)]
    assert gate.admit(down, at(5)) == [down]


def test_a_component_still_starting_when_the_site_serves() -> None:
    """Web answers first; the signed-in chain's post still failed ("not signed in"), after it.

    Posting serves the next round: its failure was part of the start and is dropped. Search
    never serves: it is held, then counted from its first failure after the site served (the
    failures before that were the site's start).
    """
    gate = StartGate(T0, timedelta(seconds=60))
    gate.admit(everything(0, False), at(0))
    straddle = [
        probe(5.0, "search", False),
        probe(5.1, "web", True),
        probe(5.2, "posting", False),
        probe(5.3, "search", False),
    ]
    assert gate.admit(straddle, at(5.3)) == [[straddle[1]]]
    waiting = gate.waiting
    assert waiting is not None and waiting.site_started
    assert waiting.unanswered == {"posting", "search"}
    later = [probe(10, "web", True), probe(10, "posting", True), probe(10.1, "search", False)]
    assert gate.admit(later, at(10.1)) == [[later[0], later[1]]]
    assert gate.waiting is not None and gate.waiting.unanswered == {"search"}
    released = gate.expire(at(60))
    assert released == [[straddle[3]], [later[2]]]


def test_closed_from_the_start_holds_nothing() -> None:
    """With an automatic incident open (the outage is known), or without a grace."""
    for gate in (StartGate(T0, closed=True), StartGate(T0, timedelta(0))):
        down = everything(0, False)
        assert gate.admit(down, at(0)) == [down]
        assert gate.waiting is None


rounds = st.lists(
    st.tuples(
        st.floats(3.0, 10.0),  # gap to the round before (rounds do not overlap: 3 s timeout)
        st.lists(
            st.tuples(st.sampled_from(["web", "api", "search"]), st.booleans(), st.floats(0, 3)),
            min_size=1,
            max_size=4,
        ),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(rounds)
def test_every_probe_counts_once_or_is_a_start(plan: list) -> None:
    """Nothing is counted twice; good probes count at once; a failure is dropped only when its
    component, or the site, served after it; after the grace nothing is held."""
    gate = StartGate(T0, timedelta(seconds=60))
    now, seen, counted = T0, [], []
    for gap, probes in plan:
        now += timedelta(seconds=gap)
        results = [
            ProbeResult(now + timedelta(seconds=d), cid, cid, ok, 1.0) for cid, ok, d in probes
        ]
        seen += results
        out = [r for batch in gate.admit(results, now) for r in batch]
        assert all(r in out for r in results if r.ok)
        counted += out
    counted += [r for batch in gate.expire(T0 + timedelta(seconds=60)) for r in batch]
    assert len({id(r) for r in counted}) == len(counted)
    first_ok = {}
    for r in seen:
        if r.ok:
            first_ok[r.component] = min(first_ok.get(r.component, r.at), r.at)
    site_up = min(first_ok.values(), default=None)
    for r in seen:
        if not any(r is c for c in counted):
            assert not r.ok
            assert (r.component in first_ok and r.at < first_ok[r.component]) or (
                site_up is not None and r.at < site_up
            )
    assert gate.closed and gate.held == []


# -- through the service: what the page says -----------------------------------------------------


@pytest.fixture
async def fresh(tmp_path: Path, clock: Clock) -> AsyncIterator[StatusService]:
    """A status server just started with the default start-up grace, its site not listening."""
    svc = make(tmp_path, clock)
    await svc.start()
    yield svc
    await svc.close()


def make(tmp_path: Path, clock: Clock) -> StatusService:
    s = status_settings(tmp_path).status  # fail_after=2, recover_after=2
    return StatusService(
        make_engine(s.database_url),
        name="Roost",
        url="http://status",
        components=s.components,
        thresholds=thresholds(s),
        clock=clock,
    )


@pytest.fixture
async def page(fresh: StatusService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=StatusApp(fresh, ""))
    async with httpx.AsyncClient(transport=transport, base_url="http://status") as c:
        yield c


async def round_(service: StatusService, clock: Clock, ok: bool, seconds: float = 5) -> None:
    clock.advance(seconds)
    await service.record_round(everything((clock() - T0).total_seconds(), ok))


async def summary(client: httpx.AsyncClient) -> dict:
    return (await client.get("/api/v2/summary.json")).json()


async def test_a_fresh_start_is_not_an_outage(
    fresh: StatusService, page: httpx.AsyncClient, clock: Clock
) -> None:
    """`roost up`: the site listens after 4 failed rounds (20 s); 100% uptime, no incident."""
    first = await summary(page)
    assert first["status"] == {"indicator": "none", "description": "Waiting for the first check"}
    assert "Not checked yet" in (await page.get("/")).text
    for _ in range(4):  # twice fail_after: without the gate this opened an incident
        await round_(fresh, clock, False)
    starting = await summary(page)
    assert starting["status"]["description"] == "Waiting for Roost to answer"
    assert starting["incidents"] == []
    assert {c["status"] for c in starting["components"]} == {"operational"}
    html = (await page.get("/")).text
    assert "No answer yet" in html and "ind-waiting" in html and "no data yet" in html
    assert "With no answer by 11:01:30 UTC they are, from the first failed probe." in html
    assert b"waiting" in (await page.get("/badge.svg")).content
    for _ in range(3):
        await round_(fresh, clock, True)
    up = await summary(page)
    assert up["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert up["incidents"] == [] and fresh.incidents == {}
    html = (await page.get("/")).text
    assert html.count("100.000% uptime") == 3 and "No answer yet" not in html
    assert all(b.failed == 0 for b in fresh.tallies.latency(clock()))  # no red band either
    assert all(ok == total for ok, total in fresh.tallies.days.values())
    assert "<entry>" not in (await page.get("/history.atom")).text
    assert len(fresh.recent) == 21  # the held probes are still there for "why?"


async def test_the_dropped_start_is_not_stored(
    fresh: StatusService, tmp_path: Path, clock: Clock
) -> None:
    """A restart reads the history from the store: the start's failures are not in it."""
    await round_(fresh, clock, False)
    await round_(fresh, clock, True)
    await fresh.close()
    again = make(tmp_path, clock)
    await again.start()
    try:
        assert all(ok == total for ok, total in again.tallies.days.values())
        assert sum(total for _, total in again.tallies.days.values()) == 3
    finally:
        await again.close()


async def test_a_site_that_never_comes_up_is_an_outage_from_its_first_failed_probe(
    fresh: StatusService, page: httpx.AsyncClient, clock: Clock
) -> None:
    clock.advance(0.3)  # the first round, right after the status server started
    await fresh.record_round(everything(0.3, False))
    while clock() < T0 + GRACE - timedelta(seconds=5):
        await round_(fresh, clock, False)
        assert (await summary(page))["incidents"] == []
    clock.now = T0 + GRACE
    await fresh.tick()  # the grace ends on the clock, without waiting for a round
    (incident,) = (await summary(page))["incidents"]
    assert incident["status"] == "investigating"
    assert incident["started_at"] == "2026-11-28T11:00:00.300Z"  # the first failed probe
    assert incident["created_at"] == "2026-11-28T11:01:30.000Z"  # told when the grace ended
    shown = {c["id"]: c["status"] for c in (await summary(page))["components"]}
    assert [shown[cid] for _, cid in CHECKS] == ["major_outage"] * 3
    assert "0.000% uptime" in (await page.get("/")).text
    held = sum(total for _, total in fresh.tallies.days.values())
    assert held == 3 * 18 and all(ok == 0 for ok, _ in fresh.tallies.days.values())
    await round_(fresh, clock, False)
    assert len(fresh.incidents) == 1  # the same outage goes on


async def test_a_site_seen_up_that_goes_down_is_an_outage_as_before(
    fresh: StatusService, page: httpx.AsyncClient, clock: Clock
) -> None:
    await round_(fresh, clock, False)  # 11:00:05, before the site listened: dropped
    await round_(fresh, clock, True)  # 11:00:10, up
    await round_(fresh, clock, False)  # 11:00:15, down: counts at once, within the grace
    await round_(fresh, clock, False)  # 11:00:20, fail_after=2
    (incident,) = (await summary(page))["incidents"]
    assert incident["started_at"] == "2026-11-28T11:00:15.000Z"
    assert incident["created_at"] == "2026-11-28T11:00:20.000Z"
    assert all(total == 3 for _, total in fresh.tallies.days.values())
    assert all(ok == 1 for ok, _ in fresh.tallies.days.values())


async def test_a_component_that_never_comes_up_while_the_site_does(
    fresh: StatusService, page: httpx.AsyncClient, clock: Clock
) -> None:
    """Web and API answer, Search never does: the page waits for Search only, then tells its
    outage from its first failure after the site answered (the ones before were the start)."""
    await round_(fresh, clock, False)  # 11:00:05: nothing listens yet

    async def search_broken() -> None:
        now = (clock.advance(5) - T0).total_seconds()
        await fresh.record_round([probe(now, "web", True), probe(now, "api", True)])
        await fresh.record_round([probe(now + 0.5, "search", False)])

    await search_broken()  # 11:00:10 web answers; search fails at 11:00:10.5
    await search_broken()
    status = (await summary(page))["status"]
    assert status == {"indicator": "none", "description": "Waiting for Search to answer"}
    html = (await page.get("/")).text
    assert html.count("No answer yet") == 1 and "before the first answer from Search" in html
    clock.now = T0 + GRACE
    await fresh.tick()
    (incident,) = fresh.incidents.values()
    assert incident.name == "Search down"
    assert incident.started_at == T0 + timedelta(seconds=10.5)


async def test_a_restart_while_the_site_is_down_still_tells_the_outage(
    tmp_path: Path, clock: Clock
) -> None:
    """The site was up; the status server restarts and finds it down (no incident yet): it
    cannot tell a start from a crash, so the outage is told when the grace ends, from the first
    failed probe after the restart."""
    first = make(tmp_path, clock)
    await first.start()
    for _ in range(3):
        await round_(first, clock, True)
    await first.close()
    clock.advance(60)
    second = make(tmp_path, clock)
    await second.start()
    restarted = clock()
    try:
        await round_(second, clock, False, 1)
        while clock() < restarted + GRACE - timedelta(seconds=5):
            await round_(second, clock, False)
            assert second.incidents == {}
        clock.now = restarted + GRACE
        await second.tick()
        (incident,) = second.incidents.values()
        assert incident.started_at == restarted + timedelta(seconds=1)
        web = [v for (cid, _), v in second.tallies.days.items() if cid == "web"]
        assert web == [(3, 3 + 18)]  # before the restart, then every probe since
    finally:
        await second.close()


async def test_a_restart_with_the_outage_open_holds_nothing(tmp_path: Path, clock: Clock) -> None:
    """The outage is known: a restart must not wait for the site to start again."""
    first = make(tmp_path, clock)
    await first.start()
    await round_(first, clock, True)
    for _ in range(2):
        await round_(first, clock, False)
    (incident,) = first.incidents.values()
    await first.close()
    second = make(tmp_path, clock)
    await second.start()
    try:
        assert second.view().waiting is None
        await round_(second, clock, False)
        assert sum(total for _, total in second.tallies.days.values()) == 12
        for _ in range(2):
            await round_(second, clock, True)
        assert second.incidents[incident.id].status == "monitoring"
    finally:
        await second.close()
