"""The service in process: probes and shield events become a stored, rendered incident."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from status_support import SHIELD_EVENT, T0, Clock, auth, status_settings

from roost.status import startup
from roost.status.model import ProbeResult
from roost.status.server import thresholds
from roost.status.service import StatusService
from roost.status.store import make_engine

CHECKS = [("home", "web"), ("public_timeline", "api"), ("search", "search")]


async def round_(service: StatusService, clock: Clock, ok: bool, seconds: float = 5) -> None:
    clock.advance(seconds)
    await service.record_round(
        [ProbeResult(clock(), check, cid, ok, 20.0 if ok else 3000.0) for check, cid in CHECKS]
    )


async def summary(client: httpx.AsyncClient) -> dict:
    return (await client.get("/api/v2/summary.json")).json()


async def test_full_outage_story(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    await round_(service, clock, True)  # 11:00:05
    await round_(service, clock, False)  # 11:00:10 first failure
    await round_(service, clock, False)  # 11:00:15 down (fail_after=2)
    (incident,) = (await summary(client))["incidents"]
    assert incident["status"] == "investigating"
    assert incident["started_at"] == "2026-11-28T11:00:10.000Z"
    assert incident["impact"] == "major"
    assert incident["incident_updates"][0]["body"] == (
        "Web, API and Search down; we are determining the cause."
    )

    clock.advance(2)
    sent = await _shield(client, "attack_started")
    assert sent.status_code == 202
    assert (await summary(client))["incidents"][0]["status"] == "identified"

    await round_(service, clock, True)  # 11:00:22 first good probe
    await round_(service, clock, True)  # 11:00:27 up again
    now = await summary(client)
    assert now["incidents"][0]["status"] == "monitoring"
    assert now["incidents"][0]["monitoring_at"] == "2026-11-28T11:00:27.000Z"
    web = next(c for c in now["components"] if c["id"] == "web")
    assert web["status"] == "degraded_performance"

    clock.advance(30)
    await _shield(client, "attack_ended")  # 11:00:57
    clock.advance(59)
    await service.tick()
    assert (await summary(client))["incidents"]
    clock.advance(1)  # 11:01:57: a quiet minute after the attack ended
    await service.tick()
    final = await summary(client)
    assert final["incidents"] == [] and final["status"]["indicator"] == "none"
    every = (await client.get("/api/v2/incidents.json")).json()["incidents"]
    resolved = every[0]
    assert resolved["status"] == "resolved"
    assert resolved["resolved_at"] == "2026-11-28T11:01:57.000Z"
    assert [u["status"] for u in resolved["incident_updates"]] == [
        "resolved",
        "monitoring",
        "identified",
        "investigating",
    ]
    assert resolved["incident_updates"][0]["body"].startswith(
        "Web, API and Search were down from 2026-11-28 11:00:10 UTC to 11:00:22 UTC (12 s)"
    )


async def _shield(client: httpx.AsyncClient, kind: str) -> httpx.Response:
    event = {**SHIELD_EVENT, "type": kind}
    return await client.post("/api/admin/shield-events", headers=auth(), json=event)


async def test_history_survives_a_restart(tmp_path: Path, clock: Clock) -> None:
    settings = status_settings(tmp_path).status

    def make(grace: timedelta = startup.GRACE) -> StatusService:
        return StatusService(
            make_engine(settings.database_url),
            name="Roost",
            url="http://status",
            components=settings.components,
            thresholds=thresholds(settings),
            clock=clock,
            start_grace=grace,
        )

    first = make(timedelta(0))  # past its start-up grace
    await first.start()
    await round_(first, clock, False)
    await round_(first, clock, False)
    opened = first.auto_incident_id
    await first.close()

    second = make()  # with its incident open, nothing is held back at start-up
    await second.start()
    try:
        assert second.auto_incident_id == opened
        assert second.gate.closed and second.view().waiting is None
        incident = second.incidents[opened or ""]
        assert incident.started_at == clock.now.replace(second=5)
        assert second.components["web"].status == "major_outage"
        assert sum(total for (_, _), (_, total) in second.tallies.days.items()) == 6
        assert second.automaton.phase == "investigating"
        await round_(second, clock, True)
        await round_(second, clock, True)
        assert incident.status == "monitoring"
    finally:
        await second.close()


async def test_a_broken_store_does_not_stop_the_page(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    await service.engine.dispose()
    service.engine = make_engine("sqlite:////nonexistent-dir/x.db")
    await round_(service, clock, False)
    await round_(service, clock, False)
    assert (await summary(client))["incidents"][0]["status"] == "investigating"


async def test_maintenance_window_opens_and_closes(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    made = await client.post(
        "/api/admin/incidents",
        headers=auth(),
        json={
            "name": "Database upgrade",
            "body": "We will upgrade the database.",
            "scheduled_for": "2026-11-28T11:10:00Z",
            "scheduled_until": "2026-11-28T11:20:00Z",
            "components": {"posting": "operational"},
        },
    )
    assert made.status_code == 201
    page = (await client.get("/")).text
    box = page[page.index("Scheduled maintenance") :]
    assert "Database upgrade" in box and "Scheduled " in box
    assert "Started " not in box[: box.index("Components")]  # not started yet: no "Started"
    clock.advance(600)
    await service.tick()
    assert service.components["posting"].status == "under_maintenance"
    assert (await summary(client))["status"]["indicator"] == "maintenance"
    clock.advance(600)
    await service.tick()
    assert service.components["posting"].status == "operational"
    maintenance = service.incidents[made.json()["id"]]
    assert [u.status for u in maintenance.updates] == ["scheduled", "in_progress", "completed"]
    page = (await client.get("/")).text
    assert "Database upgrade" in page[page.index("Past incidents") :]  # done: it is history


async def test_slow_probes_show_degraded_performance(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    for _ in range(2):  # fail_after=2 in these settings; 2,000 ms is the default threshold
        clock.advance(5)
        await service.record_round([ProbeResult(clock(), "search", "search", True, 2500.0)])
    assert service.components["search"].status == "degraded_performance"
    summary = (await client.get("/api/v2/summary.json")).json()
    assert summary["status"]["description"] == "Partially Degraded Service"
    assert summary["incidents"] == []


async def test_outage_times_are_the_probes_own(service: StatusService, clock: Clock) -> None:
    """The signed-in chain runs one probe after another (3 s apart against a hanging site): the
    incident starts at the first failed probe and the outage ends at the first good one, not at
    the round's latest probe."""

    async def chain(post_ok: bool) -> None:
        start = clock.advance(10)
        await service.record_round(
            [
                ProbeResult(start, "home", "web", True, 20.0),
                ProbeResult(start, "sign_in", "sign-in", True, 20.0),
                ProbeResult(clock.advance(3), "post", "posting", post_ok, 3000.0),
                ProbeResult(clock.advance(3), "home_timeline", "timelines", True, 20.0),
            ]
        )

    await chain(True)  # 11:00:10
    await chain(False)  # round 11:00:26, its post failed at 11:00:29
    await chain(False)  # down (fail_after=2)
    incident = service.incidents[service.auto_incident_id or ""]
    assert incident.started_at == T0 + timedelta(seconds=29)
    assert incident.created_at == T0 + timedelta(seconds=48)  # when the round was judged
    await chain(True)  # the post works again at 11:01:01
    await chain(True)
    assert incident.status == "monitoring"
    assert service.automaton.outage_ended_at == T0 + timedelta(seconds=61)
    clock.advance(60)
    await service.tick()
    assert incident.status == "resolved"
    assert incident.updates[-1].body.startswith(
        "Posting was down from 2026-11-28 11:00:29 UTC to 11:01:01 UTC (32 s)"
    )


async def test_a_component_is_timed_by_its_earliest_failed_probe(
    service: StatusService, clock: Clock
) -> None:
    """Two checks of one component in a round: one failure fails it, dated by the earliest."""
    for _ in range(2):  # fail_after=2
        start = clock.advance(10)
        await service.record_round(
            [
                ProbeResult(start + timedelta(seconds=s), check, "web", ok, 20.0)
                for s, check, ok in ((1, "home", True), (3, "home", False), (2, "page", False))
            ]
        )
    incident = service.incidents[service.auto_incident_id or ""]
    assert incident.started_at == T0 + timedelta(seconds=12)
    assert incident.created_at == T0 + timedelta(seconds=23)
