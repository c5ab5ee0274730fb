"""The status blog's vocabulary: components, incidents and their updates, as plain data.

Names and allowed values follow Atlassian Statuspage's public format field for field, so that the
JSON, the page and the feed are three views of the same records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

COMPONENT_STATUSES = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
UNRESOLVED = ("investigating", "identified", "monitoring")
MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
INCIDENT_IMPACTS = ("none", "minor", "major", "critical")
IMPACTS = (*INCIDENT_IMPACTS, "maintenance")  # "maintenance" only for scheduled maintenance

# Longest texts the admin API accepts (422 above): a status update is a paragraph, not an essay.
MAX_NAME = 200
MAX_BODY = 5000


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(at: datetime | None) -> str | None:
    """Statuspage's timestamp form: UTC, milliseconds, a Z."""
    if at is None:
        return None
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time, naive ones read as UTC; ValueError when it is not one."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def slug(name: str) -> str:
    """A component's stable id from its name: "Sign-in" -> "sign-in"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "component"


@dataclass
class Component:
    id: str
    name: str
    position: int
    status: str = "operational"
    description: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)


@dataclass
class Update:
    """One dated entry in an incident's timeline; ``author`` is "automation" or "operator"."""

    id: str
    incident_id: str
    status: str
    body: str
    created_at: datetime
    author: str = "automation"
    # component id -> [old status, new status], as Statuspage reports them
    affected_components: dict[str, list[str]] = field(default_factory=dict)
    updated_at: datetime | None = None
    display_at: datetime | None = None


@dataclass
class Incident:
    """An incident, or a scheduled maintenance when ``scheduled_for`` is set."""

    id: str
    name: str
    status: str
    impact: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime
    components: list[str] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    automated: bool = False
    monitoring_at: datetime | None = None
    resolved_at: datetime | None = None
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None

    @property
    def is_maintenance(self) -> bool:
        return self.scheduled_for is not None

    @property
    def unresolved(self) -> bool:
        return self.status in UNRESOLVED

    @property
    def maintenance_active(self) -> bool:
        return self.is_maintenance and self.status in ("in_progress", "verifying")

    @property
    def upcoming(self) -> bool:
        return self.is_maintenance and self.status == "scheduled"


@dataclass(frozen=True)
class ProbeResult:
    """One probe of one component: when, how long, and whether a user would have been served."""

    at: datetime
    check: str
    component: str
    ok: bool
    latency_ms: float
    detail: str = ""
    degraded: bool = False  # served, but with a feature shed under load (the shield's brownout)


def allowed_first(maintenance: bool, status: str) -> bool:
    """Whether a new incident may start in ``status``.

    A postmortem is written about a resolved incident, so an incident cannot begin as one (create
    it resolved, then post the postmortem). Anything else may be a first status: the unresolved
    ones as reality goes, resolved for an incident recorded after the fact, and any maintenance
    status because maintenance may skip steps.
    """
    if maintenance:
        return status in MAINTENANCE_STATUSES
    return status in INCIDENT_STATUSES and status != "postmortem"


def allowed_next(incident: Incident, status: str) -> bool:
    """Whether an incident may move to ``status``: resolved only to postmortem, nothing after.

    Maintenance moves forward only (scheduled -> in_progress -> verifying -> completed, steps may
    be skipped); an incident may move among the unresolved states freely, as reality does.
    """
    if incident.is_maintenance:
        if status not in MAINTENANCE_STATUSES:
            return False
        order = MAINTENANCE_STATUSES.index
        return incident.status != "completed" and order(status) >= order(incident.status)
    if status not in INCIDENT_STATUSES:
        return False
    if incident.status == "postmortem":
        return False
    if incident.status == "resolved":
        return status in ("resolved", "postmortem")
    return True
