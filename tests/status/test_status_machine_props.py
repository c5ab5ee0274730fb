"""Properties of the automatic incident writer over arbitrary event sequences (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from roost.status.machine import (
    Attack,
    Automaton,
    Open,
    OperatorUpdate,
    Post,
    Round,
    SetComponents,
    Thresholds,
    Tick,
)

T0 = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
NAMES = {"web": "Web", "api": "API", "search": "Search"}
LIMITS = Thresholds(fail_after=2, recover_after=2, quiet_period=timedelta(seconds=30))

steps = st.lists(
    st.one_of(
        st.tuples(st.just("round"), st.fixed_dictionaries({c: st.booleans() for c in NAMES})),
        st.tuples(
            st.just("attack"),
            st.sampled_from(["attack_started", "attack_mitigated", "attack_ended"]),
        ),
        st.tuples(st.just("tick"), st.none()),
        st.tuples(st.just("operator"), st.sampled_from(["identified", "monitoring", "resolved"])),
    ),
    max_size=80,
)


CLOSED = "closed by an operator"


def run(events: list, gaps: list[int]) -> list:
    m = Automaton(dict(NAMES), LIMITS)
    out, now = [], T0
    for (kind, value), gap in zip(events, gaps, strict=False):
        now += timedelta(seconds=gap)
        if kind == "round":
            event = Round(now, value)
        elif kind == "attack":
            event = Attack(value, now, now - timedelta(seconds=3), ("volumetric_get_flood",))
        elif kind == "tick":
            event = Tick(now)
        else:
            event = OperatorUpdate(now, value)
            if value == "resolved":  # the service closes the incident in the operator's words
                out.append((CLOSED, None))
        for action in m.feed(event):
            out.append((action, (list(m.down), m.attack)))  # the state just after the action
            assert action.at <= now
    return out


@settings(max_examples=300, deadline=None)
@given(steps, st.lists(st.integers(0, 40), min_size=80, max_size=80))
def test_incidents_are_well_formed(events: list, gaps: list[int]) -> None:
    open_ = False
    last_at = None
    for action, _ in run(events, gaps):
        if action == CLOSED:
            open_ = False
            continue
        if last_at is not None:
            assert action.at >= last_at  # the timeline only moves forward
        last_at = action.at
        if isinstance(action, Open):
            assert not open_, "one automatic incident at a time"
            assert action.started_at <= action.at
            assert action.status in ("investigating", "identified")
            assert action.components and set(action.components.values()) == {"major_outage"}
            open_ = True
        elif isinstance(action, Post):
            assert open_, "no update without an open incident"
            assert action.body
            if action.status == "resolved":
                assert set(action.components.values()) <= {"operational", "degraded_performance"}
                open_ = False
        else:
            assert isinstance(action, SetComponents)


@settings(max_examples=200, deadline=None)
@given(steps, st.lists(st.integers(0, 40), min_size=80, max_size=80))
def test_resolution_needs_everything_up_and_no_attack(events: list, gaps: list[int]) -> None:
    for action, state in run(events, gaps):
        if action != CLOSED and isinstance(action, Post) and action.status == "resolved":
            down, attack = state
            assert not down and attack is None
            assert "down from" in action.body or "fully up" in action.body
