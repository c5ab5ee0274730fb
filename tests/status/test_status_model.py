"""Manual transitions (model.allowed_next, allowed_first): the whole table, written out by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from status_support import T0

from roost.status.model import (
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    Incident,
    allowed_first,
    allowed_next,
)

# from -> the statuses an operator may post next. An unresolved incident moves freely (reality
# does: monitoring can fall back to investigating); resolved only to postmortem (or a further
# resolved note); nothing follows a postmortem. Maintenance only moves forward, steps may be
# skipped, and nothing follows completed (not even completed).
INCIDENT_NEXT = {
    "investigating": set(INCIDENT_STATUSES),
    "identified": set(INCIDENT_STATUSES),
    "monitoring": set(INCIDENT_STATUSES),
    "resolved": {"resolved", "postmortem"},
    "postmortem": set(),
}
MAINTENANCE_NEXT = {
    "scheduled": {"scheduled", "in_progress", "verifying", "completed"},
    "in_progress": {"in_progress", "verifying", "completed"},
    "verifying": {"verifying", "completed"},
    "completed": set(),
}


def incident(status: str, maintenance: bool = False) -> Incident:
    return Incident(
        id="i",
        name="Trouble",
        status=status,
        impact="maintenance" if maintenance else "minor",
        created_at=T0,
        updated_at=T0,
        started_at=T0,
        scheduled_for=T0 + timedelta(hours=1) if maintenance else None,
    )


@pytest.mark.parametrize("old", INCIDENT_STATUSES)
@pytest.mark.parametrize("new", [*INCIDENT_STATUSES, *MAINTENANCE_STATUSES, "exploded"])
def test_incident_transitions(old: str, new: str) -> None:
    assert allowed_next(incident(old), new) is (new in INCIDENT_NEXT[old])


@pytest.mark.parametrize("old", MAINTENANCE_STATUSES)
@pytest.mark.parametrize("new", [*MAINTENANCE_STATUSES, *INCIDENT_STATUSES, "exploded"])
def test_maintenance_transitions(old: str, new: str) -> None:
    assert allowed_next(incident(old, maintenance=True), new) is (new in MAINTENANCE_NEXT[old])


@pytest.mark.parametrize(
    ("old", "new", "allowed"),
    [
        ("monitoring", "investigating", True),  # down again
        ("resolved", "investigating", False),  # a new outage is a new incident
        ("postmortem", "resolved", False),
        ("verifying", "in_progress", False),
        ("completed", "completed", False),
        ("scheduled", "completed", True),  # steps may be skipped
    ],
)
def test_the_transitions_people_ask_about(old: str, new: str, allowed: bool) -> None:
    maintenance = old in MAINTENANCE_STATUSES
    assert allowed_next(incident(old, maintenance), new) is allowed


@pytest.mark.parametrize(
    ("maintenance", "status", "allowed"),
    [
        (False, "investigating", True),
        (False, "identified", True),
        (False, "monitoring", True),
        (False, "resolved", True),  # an incident recorded after the fact
        (False, "postmortem", False),  # written about a resolved incident, never a first status
        (False, "scheduled", False),
        (True, "scheduled", True),
        (True, "in_progress", True),
        (True, "completed", True),
        (True, "investigating", False),
    ],
)
def test_first_statuses(maintenance: bool, status: str, allowed: bool) -> None:
    assert allowed_first(maintenance, status) is allowed
