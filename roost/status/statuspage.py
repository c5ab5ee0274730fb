"""The Atlassian Statuspage v2 public JSON, field for field, so existing widgets keep working.

Field lists: /work/shared/reference/statuspage-format.md (tests check every field and value).
"""

from __future__ import annotations

from typing import Any

from roost.status import words
from roost.status.model import Component, Incident, Update, iso
from roost.status.view import View

INDICATOR_WORDS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
    "maintenance": "Service Under Maintenance",
}
_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}


def page(view: View) -> dict[str, Any]:
    return {
        "id": view.page_id,
        "name": view.name,
        "url": view.url,
        "time_zone": "Etc/UTC",
        "updated_at": iso(view.updated_at or view.now),
    }


def indicator(view: View) -> tuple[str, str]:
    """The page's overall state: the worse of what components show and what incidents declare."""
    statuses = [c.status for c in view.components]
    from_components = "none"
    if statuses and all(s == "major_outage" for s in statuses):
        from_components = "critical"
    elif "major_outage" in statuses:
        from_components = "major"
    elif "partial_outage" in statuses or "degraded_performance" in statuses:
        from_components = "minor"
    elif "under_maintenance" in statuses:
        from_components = "maintenance"
    worst = from_components
    for incident in view.unresolved:
        # Once an incident is monitoring, the site is back: the components tell how well.
        if incident.status != "monitoring" and _RANK.get(incident.impact, 0) > _RANK[worst]:
            worst = incident.impact
    if worst == "minor" and "partial_outage" not in statuses and from_components == "minor":
        return worst, "Partially Degraded Service"
    if worst == "none" and (waiting := waiting_words(view)):
        return worst, waiting
    return worst, INDICATOR_WORDS[worst]


def waiting_words(view: View) -> str | None:
    """Instead of "All Systems Operational" while start-up probes are held (``startup``).

    The format has no "unknown" component status (widgets break on one), so components keep
    theirs and the description, free text, says what is known: nothing yet.
    """
    waiting = view.waiting
    if waiting is None:
        return None
    if not waiting.checked:
        return "Waiting for the first check"
    return f"Waiting for {unanswered(view)} to answer"


def unanswered(view: View) -> str:
    """Who has not answered since the status server started: the site, or some components."""
    if view.waiting is None or not view.waiting.site_started:
        return view.name
    return words.join([c.name for c in view.components if c.id in view.waiting.unanswered])


def shown_indicator(view: View) -> str:
    """The indicator as the page and badge colour it: grey "waiting", not green, while nothing
    is known yet (the JSON keeps "none": it is the format's only value for no known issue)."""
    value, description = indicator(view)
    return "waiting" if value == "none" and description == waiting_words(view) else value


def status(view: View) -> dict[str, Any]:
    value, words = indicator(view)
    return {"indicator": value, "description": words}


def component(view: View, c: Component) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "status": c.status,
        "created_at": iso(c.created_at),
        "updated_at": iso(c.updated_at),
        "position": c.position,
        "description": c.description,
        "showcase": True,
        "start_date": c.created_at.date().isoformat(),
        "group_id": None,
        "page_id": view.page_id,
        "group": False,
        "only_show_if_degraded": False,
    }


def update(view: View, u: Update) -> dict[str, Any]:
    names = view.names
    return {
        "id": u.id,
        "incident_id": u.incident_id,
        "status": u.status,
        "body": u.body,
        "created_at": iso(u.created_at),
        "updated_at": iso(u.updated_at or u.created_at),
        "display_at": iso(u.display_at or u.created_at),
        "affected_components": [
            {"code": cid, "name": names.get(cid, cid), "old_status": old, "new_status": new}
            for cid, (old, new) in u.affected_components.items()
        ],
        "deliver_notifications": True,
        "custom_tweet": None,
        "tweet_id": None,
    }


def incident(view: View, i: Incident) -> dict[str, Any]:
    by_id = {c.id: c for c in view.components}
    body: dict[str, Any] = {
        "id": i.id,
        "name": i.name,
        "status": i.status,
        "impact": i.impact,
        "created_at": iso(i.created_at),
        "updated_at": iso(i.updated_at),
        "monitoring_at": iso(i.monitoring_at),
        "resolved_at": iso(i.resolved_at),
        "started_at": iso(i.started_at),
        "shortlink": f"{view.url.rstrip('/')}/incidents/{i.id}",
        "page_id": view.page_id,
        "incident_updates": [update(view, u) for u in reversed(i.updates)],
        "components": [component(view, by_id[c]) for c in i.components if c in by_id],
    }
    if i.is_maintenance:
        body["scheduled_for"] = iso(i.scheduled_for)
        body["scheduled_until"] = iso(i.scheduled_until)
    return body


def documents(view: View) -> dict[str, dict[str, Any]]:
    """Every JSON document by its path."""
    head = {"page": page(view)}
    incidents = [incident(view, i) for i in view.plain_incidents[:50]]
    unresolved = [incident(view, i) for i in view.unresolved]
    maintenances = [incident(view, i) for i in view.maintenances[:50]]
    upcoming = [incident(view, i) for i in view.maintenances if i.upcoming]
    active = [incident(view, i) for i in view.maintenances if i.maintenance_active]
    components = [component(view, c) for c in view.components]
    return {
        "/api/v2/status.json": {**head, "status": status(view)},
        "/api/v2/components.json": {**head, "components": components},
        "/api/v2/incidents.json": {**head, "incidents": incidents},
        "/api/v2/incidents/unresolved.json": {**head, "incidents": unresolved},
        "/api/v2/scheduled-maintenances.json": {**head, "scheduled_maintenances": maintenances},
        "/api/v2/scheduled-maintenances/upcoming.json": {
            **head,
            "scheduled_maintenances": upcoming,
        },
        "/api/v2/scheduled-maintenances/active.json": {**head, "scheduled_maintenances": active},
        "/api/v2/summary.json": {
            **head,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": upcoming + active,
            "status": status(view),
        },
    }
