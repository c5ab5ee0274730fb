"""Contract tests: the JSON is Atlassian Statuspage v2's, field for field, type for type."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from status_support import Clock, auth

from roost.status.model import ProbeResult, parse_iso
from roost.status.service import StatusService

STR, INT, BOOL, NONE = str, int, bool, type(None)
TIME = "time"
PAGE = {"id": STR, "name": STR, "url": STR, "time_zone": STR, "updated_at": TIME}
COMPONENT = {
    "id": STR,
    "name": STR,
    "status": frozenset(("operational", "degraded_performance", "partial_outage",
                         "major_outage", "under_maintenance")),
    "created_at": TIME,
    "updated_at": TIME,
    "position": INT,
    "description": (STR, NONE),
    "showcase": BOOL,
    "start_date": STR,
    "group_id": (STR, NONE),
    "page_id": STR,
    "group": BOOL,
    "only_show_if_degraded": BOOL,
}  # fmt: skip
INCIDENT_STATUSES = frozenset(
    ("investigating", "identified", "monitoring", "resolved", "postmortem")
)
MAINTENANCE_STATUSES = frozenset(("scheduled", "in_progress", "verifying", "completed"))
IMPACTS = frozenset(("none", "minor", "major", "critical"))
UPDATE = {
    "id": STR,
    "incident_id": STR,
    "status": INCIDENT_STATUSES | MAINTENANCE_STATUSES,
    "body": STR,
    "created_at": TIME,
    "updated_at": TIME,
    "display_at": TIME,
    "affected_components": list,
    "deliver_notifications": BOOL,
}
INCIDENT = {
    "id": STR,
    "name": STR,
    "status": INCIDENT_STATUSES,
    "impact": IMPACTS,
    "created_at": TIME,
    "updated_at": TIME,
    "monitoring_at": (TIME, NONE),
    "resolved_at": (TIME, NONE),
    "started_at": TIME,
    "shortlink": STR,
    "page_id": STR,
    "incident_updates": list,
    "components": list,
}
MAINTENANCE = {
    **INCIDENT,
    "status": MAINTENANCE_STATUSES,
    "impact": IMPACTS | {"maintenance"},
    "scheduled_for": TIME,
    "scheduled_until": TIME,
}
STATUS = {
    "indicator": IMPACTS | {"maintenance"},
    "description": STR,
}


def check(obj: dict, fields: dict, where: str) -> None:
    assert isinstance(obj, dict), where
    for name, rule in fields.items():
        assert name in obj, f"{where}: missing {name}"
        value = obj[name]
        if isinstance(rule, frozenset):  # allowed values
            assert value in rule, f"{where}.{name}: {value!r} not allowed"
            continue
        rules = rule if isinstance(rule, tuple) else (rule,)  # alternatives
        assert any(_fits(value, r) for r in rules), f"{where}.{name}: {value!r} is not {rule}"


def _fits(value: object, rule: object) -> bool:
    if rule == TIME:
        if not isinstance(value, str) or not value.endswith("Z"):
            return False
        parse_iso(value)
        return True
    if rule is INT:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, rule)  # type: ignore[arg-type]


def check_incident(incident: dict, fields: dict) -> None:
    check(incident, fields, f"incident {incident['id']}")
    for update in incident["incident_updates"]:
        check(update, UPDATE, "update")
        assert update["incident_id"] == incident["id"]
        for affected in update["affected_components"]:
            assert set(affected) == {"code", "name", "old_status", "new_status"}
            assert affected["new_status"] in COMPONENT["status"]
    times = [u["created_at"] for u in incident["incident_updates"]]
    assert times == sorted(times, reverse=True), "updates are newest first"
    for component in incident["components"]:
        check(component, COMPONENT, "incident component")


@pytest.fixture
async def busy(service: StatusService, client: httpx.AsyncClient, clock: Clock) -> StatusService:
    """A page with an automatic incident, a resolved operator incident and two maintenances."""
    for _ in range(2):
        clock.advance(5)
        await service.record_round(
            [
                ProbeResult(clock(), "home", "web", False, 3000.0, "timeout"),
                ProbeResult(clock(), "search", "search", True, 12.5),
            ]
        )
    made = await client.post(
        "/api/admin/incidents",
        headers=auth(),
        json={
            "name": "Slow search",
            "body": "Looking",
            "components": {"search": "degraded_performance"},
        },
    )
    await client.post(
        f"/api/admin/incidents/{made.json()['id']}/updates",
        headers=auth(),
        json={"status": "resolved", "body": "Fixed"},
    )
    soon = (clock() + timedelta(hours=2)).isoformat()
    for name, when in (("Database upgrade", soon), ("Index rebuild", clock().isoformat())):
        await client.post(
            "/api/admin/incidents",
            headers=auth(),
            json={"name": name, "body": "Planned", "scheduled_for": when, "components": {}},
        )
    clock.advance(1)
    await service.tick()
    return service


ENDPOINTS = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]


@pytest.mark.parametrize("path", ENDPOINTS)
async def test_every_endpoint_has_page_and_cors(
    busy: StatusService, client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path, headers={"origin": "https://widget.example"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    check(response.json()["page"], PAGE, "page")


async def test_summary_fields(busy: StatusService, client: httpx.AsyncClient) -> None:
    summary = (await client.get("/api/v2/summary.json")).json()
    check(summary["status"], STATUS, "status")
    assert summary["status"]["indicator"] == "major"
    assert [c["name"] for c in summary["components"]][:2] == ["Web", "API"]
    for component in summary["components"]:
        check(component, COMPONENT, "component")
    assert [i["status"] for i in summary["incidents"]] == ["investigating"]
    for incident in summary["incidents"]:
        check_incident(incident, INCIDENT)
    statuses = sorted(m["status"] for m in summary["scheduled_maintenances"])
    assert statuses == ["in_progress", "scheduled"]


async def test_incidents_lists(busy: StatusService, client: httpx.AsyncClient) -> None:
    every = (await client.get("/api/v2/incidents.json")).json()["incidents"]
    assert {i["name"] for i in every} == {"Web down", "Slow search"}
    for incident in every:
        check_incident(incident, INCIDENT)
    resolved = next(i for i in every if i["name"] == "Slow search")
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    unresolved = (await client.get("/api/v2/incidents/unresolved.json")).json()["incidents"]
    assert [i["name"] for i in unresolved] == ["Web down"]
    assert unresolved[0]["started_at"] == "2026-11-28T11:00:05.000Z"


async def test_maintenance_lists(busy: StatusService, client: httpx.AsyncClient) -> None:
    base = "/api/v2/scheduled-maintenances"
    every = (await client.get(f"{base}.json")).json()["scheduled_maintenances"]
    for maintenance in every:
        check_incident(maintenance, MAINTENANCE)
    upcoming = (await client.get(f"{base}/upcoming.json")).json()["scheduled_maintenances"]
    active = (await client.get(f"{base}/active.json")).json()["scheduled_maintenances"]
    assert [m["name"] for m in upcoming] == ["Database upgrade"]
    assert [m["name"] for m in active] == ["Index rebuild"]


async def test_etag_gives_304_and_head_gives_no_body(
    busy: StatusService, client: httpx.AsyncClient
) -> None:
    first = await client.get("/api/v2/status.json")
    again = await client.get(
        "/api/v2/status.json", headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    head = await client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 1000


async def test_preflight_and_unknown_paths(client: httpx.AsyncClient) -> None:
    preflight = await client.options("/api/v2/summary.json")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert (await client.get("/nope")).status_code == 404
    assert (await client.post("/api/v2/status.json")).status_code == 405


async def test_quiet_page_is_all_operational(client: httpx.AsyncClient) -> None:
    status = (await client.get("/api/v2/status.json")).json()["status"]
    assert status == {"indicator": "none", "description": "All Systems Operational"}


async def test_gzip_variant_for_clients_that_accept_it(
    busy: StatusService, client: httpx.AsyncClient
) -> None:
    plain = await client.get("/", headers={"accept-encoding": "identity"})
    packed = await client.get("/", headers={"accept-encoding": "gzip, br"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "accept-encoding"
    assert packed.text == plain.text  # httpx decoded it
    assert int(packed.headers["content-length"]) * 5 < int(plain.headers["content-length"])
    assert packed.headers["etag"] != plain.headers["etag"]
    again = await client.get(
        "/", headers={"accept-encoding": "gzip", "if-none-match": packed.headers["etag"]}
    )
    assert again.status_code == 304
    small = await client.get("/api/v2/status.json", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers
