"""The authenticated admin API: operators' incidents and updates, shield events, pushed probes.

Every call needs ``Authorization: Bearer <ROOST_STATUS_ADMIN_TOKEN>`` (401 without; the API is
off while the token is empty). Unknown incidents are 404, impossible transitions and over-long
text 422, bodies over 64 KiB 413, and nothing a client sends can produce a 500.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.types import Scope

from roost.status import machine, statuspage
from roost.status import validate as v
from roost.status.model import (
    IMPACTS,
    INCIDENT_IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    MAX_BODY,
    MAX_NAME,
    Incident,
    ProbeResult,
    allowed_first,
    allowed_next,
)
from roost.status.monitor import as_json
from roost.status.service import StatusService
from roost.status.validate import Problem

log = logging.getLogger("roost.status.admin")

MAX_REQUEST = 64 * 1024
SHIELD_TYPES = ("attack_started", "attack_mitigated", "attack_ended")
CLOCK_SKEW = timedelta(seconds=60)  # how far ahead of our clock a started_at or probe may be

Handler = Callable[..., Awaitable[tuple[int, Any]]]


class Admin:
    """Routes ``/api/admin/...`` requests to handlers returning (status, JSON body)."""

    def __init__(self, service: StatusService, token: str) -> None:
        self.service, self.token = service, token
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/api/admin/shield-events"), self.shield_event),
            ("POST", re.compile(r"/api/admin/probes"), self.probes),
            ("GET", re.compile(r"/api/admin/probes"), self.recent_probes),
            ("GET", re.compile(r"/api/admin/incidents"), self.list_incidents),
            ("POST", re.compile(r"/api/admin/incidents"), self.create_incident),
            ("GET", re.compile(r"/api/admin/incidents/(\w+)"), self.get_incident),
            ("POST", re.compile(r"/api/admin/incidents/(\w+)/updates"), self.add_update),
            ("PATCH", re.compile(r"/api/admin/incidents/(\w+)/updates/(\w+)"), self.edit_update),
            ("GET", re.compile(r"/api/admin/components"), self.list_components),
            ("PATCH", re.compile(r"/api/admin/components/([\w-]+)"), self.set_component),
        ]

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        try:
            status, body = await self.dispatch(scope, receive)
        except Problem as problem:
            status, body = problem.status, {"error": problem.message}
        except Exception:  # a bug must still answer, and say so without a traceback
            log.exception("admin API failure")
            status, body = 503, {"error": "the status server could not apply this change"}
        data = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(data)),
            (b"cache-control", b"no-store"),  # operators' views are never cached
        ]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="roost-status"'))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    async def dispatch(self, scope: Scope, receive: Callable) -> tuple[int, Any]:
        self.authenticate(scope)
        path, method = scope["path"].rstrip("/"), scope["method"]
        matched_path = False
        for verb, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            matched_path = True
            if verb == method:
                data = await read_json(receive) if method in ("POST", "PATCH") else None
                return await handler(data, *match.groups())
        if matched_path:
            raise Problem(405, f"{method} is not allowed on {path}")
        raise Problem(404, f"no admin endpoint {path}")

    def authenticate(self, scope: Scope) -> None:
        if not self.token:
            raise Problem(401, "the admin API is off: set ROOST_STATUS_ADMIN_TOKEN")
        given = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                given = value
        expected = b"Bearer " + self.token.encode()
        if not hmac.compare_digest(given, expected):
            raise Problem(401, "a valid 'Authorization: Bearer <admin token>' header is required")

    # -- shield and monitor ---------------------------------------------------------------------

    async def shield_event(self, data: Any) -> tuple[int, Any]:
        """Shield events as docs/architecture.md defines them; the timeline uses our clock."""
        data = v.obj(data)
        kind = v.choice(data, "type", SHIELD_TYPES)
        v.when(data, "at", required=True)
        started_at = v.when(data, "started_at")
        classification = v.strings(data, "classification")
        summary = v.text(data, "summary", 1000, required=False)
        if not isinstance(data.get("figures", {}), dict):
            raise Problem(422, "'figures' must be an object")
        v.text(data, "source", 200, required=False)
        at = self.service.clock()
        event = machine.Attack(kind, at, started_at, classification, summary)
        await self.service.shield_event(data, event)
        return 202, {"accepted": True}

    async def probes(self, data: Any) -> tuple[int, Any]:
        """Probe rounds pushed by a separate `roost status monitor` process."""
        items = v.obj(data).get("results")
        if not isinstance(items, list) or not 0 < len(items) <= 100:
            raise Problem(422, "'results' must be a list of 1 to 100 probe results")
        results, latest = [], self.service.clock() + CLOCK_SKEW
        for item in items:
            item = v.obj(item)
            latency = item.get("latency_ms")
            if not isinstance(latency, int | float) or not 0 <= latency < 1e7:
                raise Problem(422, "'latency_ms' must be a number of milliseconds")
            if not isinstance(item.get("ok"), bool):
                raise Problem(422, "'ok' must be true or false")
            if not isinstance(item.get("degraded", False), bool):
                raise Problem(422, "'degraded' must be true or false")
            at = v.when(item, "at", required=True)
            if at > latest:  # type: ignore[operator]
                raise Problem(422, "'at' is in the future; check the monitor's clock")
            results.append(
                ProbeResult(
                    at=at,  # type: ignore[arg-type]
                    check=v.text(item, "check", 64),
                    component=v.text(item, "component", 64),
                    ok=item["ok"],
                    latency_ms=float(latency),
                    detail=v.text(item, "detail", 300, required=False),
                    degraded=item.get("degraded", False),
                )
            )
        await self.service.record_round(results)
        return 202, {"accepted": len(results)}

    async def recent_probes(self, _data: Any) -> tuple[int, Any]:
        """The last probes, newest first, with their reasons: why the page says what it says."""
        newest = list(reversed(self.service.recent))[:100]
        return 200, {"results": [as_json(r) for r in newest]}

    # -- incidents ------------------------------------------------------------------------------

    def _incident(self, incident_id: str) -> Incident:
        incident = self.service.incidents.get(incident_id)
        if incident is None:
            raise Problem(404, f"no incident {incident_id!r}")
        return incident

    def _out(self, incident: Incident) -> dict[str, Any]:
        body = statuspage.incident(self.service.view(), incident)
        body["automated"] = incident.automated
        authors = {u.id: u.author for u in incident.updates}
        for update in body["incident_updates"]:
            update["author"] = authors.get(update["id"], "automation")
        return body

    async def list_incidents(self, _data: Any) -> tuple[int, Any]:
        ordered = sorted(self.service.incidents.values(), key=lambda i: i.created_at, reverse=True)
        return 200, {"incidents": [self._out(i) for i in ordered]}

    async def get_incident(self, _data: Any, incident_id: str) -> tuple[int, Any]:
        return 200, self._out(self._incident(incident_id))

    async def create_incident(self, data: Any) -> tuple[int, Any]:
        data = v.obj(data)
        now = self.service.clock()
        scheduled_for, scheduled_until = _window(data)
        maintenance = scheduled_for is not None
        started_at = v.when(data, "started_at")
        if started_at and not maintenance and started_at > now + CLOCK_SKEW:
            raise Problem(422, "'started_at' is in the future; an incident starts when it starts")
        comps = v.components(data, set(self.service.components))
        incident = Incident(
            id="",
            name=v.text(data, "name", MAX_NAME),
            status=_first_status(data, maintenance),
            impact=self._impact(
                data,
                IMPACTS if maintenance else INCIDENT_IMPACTS,
                "maintenance" if maintenance else "minor",
            ),
            created_at=now,
            updated_at=now,
            started_at=started_at or scheduled_for or now,
            components=list(comps),
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
        )
        body = v.text(data, "body", MAX_BODY)
        incident = await self.service.create_incident(incident, body, comps)
        return 201, self._out(incident)

    @staticmethod
    def _impact(data: dict, impacts: tuple[str, ...], default: str) -> str:
        """Statuspage's impacts; "maintenance" belongs to scheduled maintenance only."""
        if data.get("impact") is None:
            return default
        if data["impact"] == "maintenance" and "maintenance" not in impacts:
            raise Problem(422, "impact 'maintenance' is for scheduled maintenance only")
        return v.choice(data, "impact", impacts)

    async def add_update(self, data: Any, incident_id: str) -> tuple[int, Any]:
        incident = self._incident(incident_id)
        data = v.obj(data)
        allowed = MAINTENANCE_STATUSES if incident.is_maintenance else INCIDENT_STATUSES
        status = v.choice(data, "status", allowed, incident.status)
        if not allowed_next(incident, status):
            raise Problem(422, f"a {incident.status} incident cannot move to {status}")
        body = v.text(data, "body", MAX_BODY)
        impacts = IMPACTS if incident.is_maintenance else INCIDENT_IMPACTS
        impact = self._impact(data, impacts, incident.impact)
        comps = v.components(data, set(self.service.components))
        await self.service.operator_update(incident, status, body, comps, impact)
        return 201, self._out(incident)

    async def edit_update(self, data: Any, incident_id: str, update_id: str) -> tuple[int, Any]:
        incident = self._incident(incident_id)
        update = next((u for u in incident.updates if u.id == update_id), None)
        if update is None:
            raise Problem(404, f"no update {update_id!r} in incident {incident_id!r}")
        body = v.text(v.obj(data), "body", MAX_BODY)
        await self.service.edit_update(incident, update, body)
        return 200, self._out(incident)

    # -- components -----------------------------------------------------------------------------

    async def list_components(self, _data: Any) -> tuple[int, Any]:
        view = self.service.view()
        return 200, {"components": [statuspage.component(view, c) for c in view.components]}

    async def set_component(self, data: Any, component_id: str) -> tuple[int, Any]:
        if component_id not in self.service.components:
            raise Problem(404, f"no component {component_id!r}")
        comps = v.components({"c": {component_id: v.obj(data).get("status")}}, {component_id}, "c")
        await self.service.set_components(comps)
        view = self.service.view()
        return 200, statuspage.component(view, self.service.components[component_id])


def _window(data: dict) -> tuple[datetime | None, datetime | None]:
    """A maintenance window (an hour unless its end is given), or none for an incident."""
    scheduled_for = v.when(data, "scheduled_for")
    scheduled_until = v.when(data, "scheduled_until")
    if scheduled_for is None:
        if scheduled_until:
            raise Problem(422, "'scheduled_until' needs 'scheduled_for'")
        return None, None
    scheduled_until = scheduled_until or scheduled_for + timedelta(hours=1)
    if scheduled_until <= scheduled_for:
        raise Problem(422, "'scheduled_until' must be after 'scheduled_for'")
    return scheduled_for, scheduled_until


def _first_status(data: dict, maintenance: bool) -> str:
    if maintenance:
        return v.choice(data, "status", MAINTENANCE_STATUSES, "scheduled")
    status = v.choice(data, "status", INCIDENT_STATUSES, "investigating")
    if not allowed_first(maintenance, status):
        raise Problem(
            422,
            f"an incident cannot begin as {status}; create it resolved, then add the {status}"
            " as an update",
        )
    return status


async def read_json(receive: Callable) -> Any:
    """The request body as JSON: 413 past 64 KiB, 400 when it is not JSON."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Problem(400, "the client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST:
            raise Problem(413, f"request bodies are limited to {MAX_REQUEST} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    try:
        return json.loads(b"".join(chunks) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise Problem(400, "the body is not valid JSON") from None
