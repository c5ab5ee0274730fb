"""What the renderers see: one immutable snapshot of the status server's state.

Every format (page, JSON, feed, badge) is a pure function of a ``View``, so the service builds one
snapshot per change and renders everything from it; nothing is rendered per request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from roost.status.model import Component, Incident
from roost.status.startup import Waiting

# (component id, day) -> (good probes, all probes)
Uptime = dict[tuple[str, date], tuple[int, int]]


@dataclass(frozen=True)
class LatencyBucket:
    """Probes of one chart interval: mean latency of the good ones per component, and failures."""

    start: datetime
    means: dict[str, float]  # component id -> mean ms of its good probes (absent: none)
    failed: int
    total: int


@dataclass(frozen=True)
class View:
    name: str
    url: str
    now: datetime
    components: list[Component]
    incidents: list[Incident]  # incidents and maintenances, newest first
    uptime: Uptime = field(default_factory=dict)
    latency: list[LatencyBucket] = field(default_factory=list)
    updated_at: datetime | None = None
    waiting: Waiting | None = None  # probes held at start-up (roost/status/startup.py)

    @property
    def page_id(self) -> str:
        return hashlib.sha256(self.url.encode()).hexdigest()[:12]

    @property
    def names(self) -> dict[str, str]:
        return {c.id: c.name for c in self.components}

    @property
    def plain_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if not i.is_maintenance]

    @property
    def maintenances(self) -> list[Incident]:
        return [i for i in self.incidents if i.is_maintenance]

    @property
    def unresolved(self) -> list[Incident]:
        return [i for i in self.plain_incidents if i.unresolved]
