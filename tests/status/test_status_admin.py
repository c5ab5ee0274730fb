"""The admin API refuses bad calls with the right 4xx and a clear message, never a 500."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from status_support import TOKEN, Clock, auth

from roost.status.app import StatusApp
from roost.status.model import ProbeResult
from roost.status.monitor import as_json
from roost.status.service import StatusService

SHIELD = {
    "type": "attack_started",
    "at": "2026-11-28T11:20:03.123Z",
    "started_at": "2026-11-28T11:19:58.000Z",
    "classification": ["volumetric_get_flood"],
    "summary": "a GET flood from 5,100 addresses in 212 prefixes",
    "figures": {"requests_per_s": 41000, "sources": 5100, "reject_ratio": 0.97},
    "source": "roost-shield/test:1",
}


async def create(client: httpx.AsyncClient, **fields: object) -> httpx.Response:
    body = {"name": "Trouble", "body": "Looking into it", **fields}
    return await client.post("/api/admin/incidents", headers=auth(), json=body)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/incidents"),
        ("POST", "/api/admin/incidents"),
        ("POST", "/api/admin/shield-events"),
        ("POST", "/api/admin/probes"),
        ("PATCH", "/api/admin/components/web"),
        ("GET", "/api/admin/whatever"),
    ],
)
@pytest.mark.parametrize("headers", [{}, auth("wrong"), {"authorization": TOKEN}])
async def test_unauthenticated_is_401(
    client: httpx.AsyncClient, method: str, path: str, headers: dict
) -> None:
    response = await client.request(method, path, headers=headers, json={})
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_empty_admin_token_turns_the_api_off(service: StatusService) -> None:
    transport = httpx.ASGITransport(app=StatusApp(service, ""))
    async with httpx.AsyncClient(transport=transport, base_url="http://s") as c:
        response = await c.get("/api/admin/incidents", headers={"authorization": "Bearer "})
    assert response.status_code == 401
    assert "ROOST_STATUS_ADMIN_TOKEN" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/incidents/nosuchthing"),
        ("POST", "/api/admin/incidents/nosuchthing/updates"),
        ("PATCH", "/api/admin/incidents/nosuchthing/updates/x"),
        ("PATCH", "/api/admin/components/nosuchthing"),
        ("GET", "/api/admin/nothing-here"),
    ],
)
async def test_unknown_things_are_404(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, headers=auth(), json={"body": "x"})
    assert response.status_code == 404
    assert "no " in response.json()["error"]


async def test_unknown_update_is_404(client: httpx.AsyncClient) -> None:
    made = (await create(client)).json()
    path = f"/api/admin/incidents/{made['id']}/updates/nope"
    response = await client.patch(path, headers=auth(), json={"body": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"status": "exploded"}, "'status' must be one of"),
        ({"impact": "apocalyptic"}, "'impact' must be one of"),
        ({"name": ""}, "'name' must not be empty"),
        ({"name": 5}, "'name' must be a string"),
        ({"name": "x" * 201}, "at most 200"),
        ({"body": "x" * 5001}, "at most 5000"),
        ({"components": {"mainframe": "major_outage"}}, "unknown component"),
        ({"components": {"web": "on_fire"}}, "component status"),
        ({"components": ["web"]}, "must be an object"),
        ({"started_at": "yesterday"}, "ISO 8601"),
        ({"scheduled_for": "2026-11-28T12:00:00Z", "scheduled_until": "2026-11-28T11:00:00Z"},
         "must be after"),
        ({"scheduled_until": "2026-11-28T11:00:00Z"}, "needs 'scheduled_for'"),
        ({"scheduled_for": "2026-11-28T12:00:00Z", "status": "investigating"}, "must be one of"),
        ({"impact": "maintenance"}, "impact 'maintenance' is for scheduled maintenance only"),
        ({"status": "postmortem"}, "cannot begin as postmortem"),
        ({"started_at": "2026-11-28T11:01:01Z"}, "'started_at' is in the future"),  # now + 61 s
        ({"started_at": "0001-01-01T00:00:00+01:00", "status": "resolved"}, "ISO 8601"),
        ({"started_at": "0001-01-01T00:00:00Z", "status": "resolved"}, "years 1970 and 2999"),
        ({"scheduled_for": "9999-12-31T23:30:00Z"}, "years 1970 and 2999"),
    ],
)  # fmt: skip
async def test_bad_incidents_are_422(client: httpx.AsyncClient, fields: dict, words: str) -> None:
    response = await create(client, **fields)
    assert response.status_code == 422
    assert words in response.json()["error"]


async def test_what_an_incident_may_begin_with(client: httpx.AsyncClient) -> None:
    skewed = await create(client, started_at="2026-11-28T11:00:30Z")  # within 60 s of clock skew
    assert skewed.status_code == 201
    assert skewed.json()["started_at"] == "2026-11-28T11:00:30.000Z"
    past = await create(client, status="resolved", started_at="2026-11-27T09:00:00Z")
    assert past.status_code == 201 and past.json()["resolved_at"]
    window = await create(client, scheduled_for="2026-11-29T01:00:00Z", impact="maintenance")
    assert window.status_code == 201 and window.json()["started_at"] == "2026-11-29T01:00:00.000Z"


async def test_maintenance_impact_is_refused_on_an_incident_update(
    client: httpx.AsyncClient,
) -> None:
    made = (await create(client)).json()
    path = f"/api/admin/incidents/{made['id']}/updates"
    wrong = await client.post(path, headers=auth(), json={"body": "x", "impact": "maintenance"})
    assert wrong.status_code == 422
    assert "for scheduled maintenance only" in wrong.json()["error"]
    right = await client.post(path, headers=auth(), json={"body": "x", "impact": "major"})
    assert right.status_code == 201 and right.json()["impact"] == "major"
    window = (await create(client, scheduled_for="2026-11-29T01:00:00Z")).json()
    path = f"/api/admin/incidents/{window['id']}/updates"
    kept = await client.post(path, headers=auth(), json={"body": "y", "impact": "maintenance"})
    assert kept.status_code == 201


async def test_impossible_transitions_are_422(client: httpx.AsyncClient) -> None:
    made = (await create(client)).json()
    path = f"/api/admin/incidents/{made['id']}/updates"
    ok = await client.post(path, headers=auth(), json={"status": "resolved", "body": "Done"})
    assert ok.status_code == 201 and ok.json()["resolved_at"]
    back = await client.post(path, headers=auth(), json={"status": "investigating", "body": "?"})
    assert back.status_code == 422
    assert "resolved incident cannot move to investigating" in back.json()["error"]
    post = await client.post(path, headers=auth(), json={"status": "postmortem", "body": "Why"})
    assert post.status_code == 201
    after = await client.post(path, headers=auth(), json={"status": "resolved", "body": "again"})
    assert after.status_code == 422


async def test_maintenance_only_moves_forward(client: httpx.AsyncClient) -> None:
    made = (await create(client, scheduled_for="2026-11-29T01:00:00Z")).json()
    assert made["status"] == "scheduled" and made["impact"] == "maintenance"
    path = f"/api/admin/incidents/{made['id']}/updates"
    done = await client.post(path, headers=auth(), json={"status": "completed", "body": "Done"})
    assert done.status_code == 201
    again = await client.post(path, headers=auth(), json={"status": "in_progress", "body": "?"})
    assert again.status_code == 422
    wrong = await client.post(path, headers=auth(), json={"status": "monitoring", "body": "?"})
    assert wrong.status_code == 422


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{not json", 400), (b"[1, 2]", 422), (b"x" * 70_000, 413), (b"\xff\xfe", 400)],
)
async def test_junk_bodies(client: httpx.AsyncClient, body: bytes, status: int) -> None:
    response = await client.post("/api/admin/incidents", headers=auth(), content=body)
    assert response.status_code == status


@pytest.mark.parametrize(
    "change",
    [
        {"type": "attack_exploded"},
        {"at": "not a time"},
        {"at": "0001-01-01T00:00:00+01:00"},
        {"started_at": "9999-12-31T23:59:59-01:00"},
        {"at": None},
        {"classification": "volumetric_get_flood"},
        {"classification": [""]},
        {"summary": "x" * 1001},
        {"figures": [1]},
    ],
)
async def test_bad_shield_events_are_422(client: httpx.AsyncClient, change: dict) -> None:
    event = {**SHIELD, **change}
    if change.get("at", 1) is None:
        del event["at"]
    response = await client.post("/api/admin/shield-events", headers=auth(), json=event)
    assert response.status_code == 422


async def test_shield_event_is_202_and_identifies_the_attack(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    for _ in range(2):
        clock.advance(5)
        await service.record_round([ProbeResult(clock(), "home", "web", False, 3000.0)])
    clock.advance(1)
    response = await client.post("/api/admin/shield-events", headers=auth(), json=SHIELD)
    assert response.status_code == 202
    incident = service.incidents[service.auto_incident_id or ""]
    assert incident.status == "identified"
    assert incident.updates[-1].created_at == clock()
    assert "a flood of page requests" in incident.updates[-1].body
    assert "A GET flood from 5,100 addresses in 212 prefixes." in incident.updates[-1].body


async def test_pushed_probes(service: StatusService, client: httpx.AsyncClient) -> None:
    good = {"at": "2026-11-28T11:00:01Z", "check": "home", "component": "web", "ok": True}
    response = await client.post(
        "/api/admin/probes", headers=auth(), json={"results": [{**good, "latency_ms": 12}]}
    )
    assert response.status_code == 202
    assert service.tallies.days
    recent = (await client.get("/api/admin/probes", headers=auth())).json()["results"]
    assert recent == [
        {
            **good,
            "at": "2026-11-28T11:00:01.000Z",
            "latency_ms": 12.0,
            "detail": "",
            "degraded": False,
        }
    ]
    for junk in (
        {"results": []},
        {"results": [good]},
        {"results": [{**good, "ok": "yes"}]},
        {"results": [{**good, "latency_ms": 12, "degraded": "yes"}]},
        {"results": [{**good, "latency_ms": 12, "at": "0001-01-01T00:00:00+01:00"}]},
    ):
        response = await client.post("/api/admin/probes", headers=auth(), json=junk)
        assert response.status_code == 422


async def test_pushed_probes_from_the_future_are_refused(
    service: StatusService, client: httpx.AsyncClient
) -> None:
    """A monitor with a wrong clock must not date an outage in 2099 (60 s of skew allowed)."""
    probe = {"check": "home", "component": "web", "ok": False, "latency_ms": 12}
    late = {**probe, "at": "2026-11-28T11:01:01Z"}  # now + 61 s
    response = await client.post("/api/admin/probes", headers=auth(), json={"results": [late]})
    assert response.status_code == 422
    assert "'at' is in the future" in response.json()["error"]
    assert not service.recent
    skewed = {**probe, "at": "2026-11-28T11:00:59Z"}
    response = await client.post("/api/admin/probes", headers=auth(), json={"results": [skewed]})
    assert response.status_code == 202


async def test_pushed_brownout_is_degraded_not_operational(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    """A separate monitor's browned-out probes (served, a feature shed) keep their meaning."""
    shed = ProbeResult(clock(), "search", "search", True, 40.0, "browned out", degraded=True)
    for _ in range(2):  # fail_after=2 in these settings
        shed = replace(shed, at=clock.advance(5))
        pushed = await client.post(
            "/api/admin/probes", headers=auth(), json={"results": [as_json(shed)]}
        )
        assert pushed.status_code == 202
    assert service.components["search"].status == "degraded_performance"
    recent = (await client.get("/api/admin/probes", headers=auth())).json()["results"]
    assert recent[0]["degraded"] is True


async def test_operator_words_are_never_overwritten(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    for _ in range(2):
        clock.advance(5)
        await service.record_round([ProbeResult(clock(), "home", "web", False, 3000.0)])
    auto_id = service.auto_incident_id
    first = (await client.get(f"/api/admin/incidents/{auto_id}", headers=auth())).json()
    update_id = first["incident_updates"][0]["id"]
    edited = await client.patch(
        f"/api/admin/incidents/{auto_id}/updates/{update_id}",
        headers=auth(),
        json={"body": "The web front end is down; engineers are on it."},
    )
    assert edited.status_code == 200
    said = await client.post(
        f"/api/admin/incidents/{auto_id}/updates",
        headers=auth(),
        json={"status": "identified", "body": "A bad deploy; rolling back."},
    )
    assert said.status_code == 201
    clock.advance(1)
    await client.post("/api/admin/shield-events", headers=auth(), json=SHIELD)
    for _ in range(2):
        clock.advance(5)
        await service.record_round([ProbeResult(clock(), "home", "web", True, 20.0)])
    incident = service.incidents[auto_id or ""]
    bodies = [(u.author, u.status, u.body) for u in incident.updates]
    assert bodies[0] == (
        "operator",
        "investigating",
        "The web front end is down; engineers are on it.",
    )
    assert bodies[1] == ("operator", "identified", "A bad deploy; rolling back.")
    assert [b[1] for b in bodies[2:]] == ["monitoring"]  # no automatic "identified" repeated


async def test_operator_component_change(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        "/api/admin/components/search", headers=auth(), json={"status": "degraded_performance"}
    )
    assert response.status_code == 200 and response.json()["status"] == "degraded_performance"
    bad = await client.patch("/api/admin/components/search", headers=auth(), json={"status": "meh"})
    assert bad.status_code == 422
    summary = (await client.get("/api/v2/status.json")).json()
    assert summary["status"]["indicator"] == "minor"
    assert (await client.get("/api/admin/incidents", headers=auth())).status_code == 200
    listed = await client.get("/api/admin/components", headers=auth())
    assert len(listed.json()["components"]) == 7
    assert (await client.delete("/api/admin/components/search", headers=auth())).status_code == 405
