"""The automatic incident state machine, replayed with exact timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
from roost.status.words import duration

T0 = datetime(2026, 11, 28, 11, 0, 0, tzinfo=UTC)
NAMES = {"web": "Web", "api": "API", "search": "Search"}
LIMITS = Thresholds(fail_after=3, recover_after=2, quiet_period=timedelta(seconds=60))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def machine() -> Automaton:
    return Automaton(dict(NAMES), LIMITS)


def round_(m: Automaton, t: float, ok: dict[str, bool]) -> list:
    return m.feed(Round(at(t), {cid: ok.get(cid, True) for cid in NAMES}))


def fail(*ids: str) -> dict[str, bool]:
    return {cid: False for cid in ids}


def attack(kind: str, t: float, **kw) -> Attack:
    return Attack(kind, at(t), **kw)


def test_one_lost_probe_does_not_flap() -> None:
    m = machine()
    for t in (0, 5, 15, 20):
        assert round_(m, t, fail("web") if t in (5, 15) else {}) == []
    assert m.phase == "idle"


def test_failing_probes_open_investigating_from_first_failure() -> None:
    m = machine()
    round_(m, 0, {})
    assert round_(m, 5, fail("web", "api")) == []
    assert round_(m, 10, fail("web", "api")) == []
    actions = round_(m, 15, fail("web", "api"))
    assert len(actions) == 1
    opened = actions[0]
    assert isinstance(opened, Open)
    assert opened.status == "investigating"
    assert opened.started_at == at(5)
    assert opened.at == at(15)
    assert opened.body == "Web and API down; we are determining the cause."
    assert opened.impact == "major"
    assert opened.components == {"web": "major_outage", "api": "major_outage"}


def test_impact_follows_count_of_components_down() -> None:
    m = Automaton(dict(NAMES), Thresholds(fail_after=1, major_after=2, critical_after=3))
    (opened,) = m.feed(Round(at(0), {"web": False}))
    assert opened.impact == "minor"
    (more,) = m.feed(Round(at(1), {"api": False}))
    assert isinstance(more, Post) and more.impact == "major"
    assert more.body.startswith("Web and API down;")
    (all_,) = m.feed(Round(at(2), {"search": False}))
    assert all_.impact == "critical"


def down_at_15(m: Automaton) -> None:
    for t in (5, 10, 15):
        round_(m, t, fail("web", "api", "search"))
    assert m.phase == "investigating"


def test_attack_moves_to_identified_with_plain_words() -> None:
    m = machine()
    down_at_15(m)
    (post,) = m.feed(
        attack(
            "attack_started",
            20,
            started_at=at(2),
            classification=("volumetric_get_flood", "cache_busting"),
            summary="a GET flood from 5,100 addresses",
        )
    )
    assert post.status == "identified" and post.at == at(20)
    assert post.body == (
        "Roost is defending against a denial-of-service attack: a flood of page requests and"
        " requests crafted to bypass caches. A GET flood from 5,100 addresses."
        " The attack began at 11:00:02 UTC."
    )
    assert m.feed(attack("attack_mitigated", 25, classification=("slow_clients",))) == []


def test_recovery_under_attack_is_monitoring_then_resolved_after_quiet_period() -> None:
    m = machine()
    down_at_15(m)
    m.feed(attack("attack_started", 20, started_at=at(2)))
    assert round_(m, 25, {}) == []  # first good round: hysteresis holds
    (post,) = [a for a in round_(m, 30, {}) if isinstance(a, Post)]
    assert post.status == "monitoring"
    assert post.body == (
        "Roost is back up; we are continuing to defend against and recover from this attack."
    )
    assert set(post.components.values()) == {"degraded_performance"}
    assert m.feed(Tick(at(200))) == []  # attack still mitigated: no resolution
    assert m.feed(attack("attack_ended", 210)) == []
    assert m.feed(Tick(at(269))) == []
    (resolved,) = m.feed(Tick(at(270)))
    assert resolved.status == "resolved"
    assert resolved.body == (
        "Roost was down from 2026-11-28 11:00:05 UTC to 11:00:25 UTC (20 s); Roost has been"
        " fully up since. The attack ended at 11:03:30 UTC."
    )
    assert set(resolved.components.values()) == {"operational"}
    assert m.phase == "idle"


def test_recovery_without_attack_resolves_after_quiet_period() -> None:
    m = machine()
    down_at_15(m)
    round_(m, 20, {})
    (post,) = round_(m, 25, {})
    assert post.body == "Roost is back up; we are monitoring the recovery."
    assert m.feed(Tick(at(84))) == []
    (resolved,) = m.feed(Tick(at(85)))
    assert "from 2026-11-28 11:00:05 UTC to 11:00:20 UTC (15 s)" in resolved.body


def test_partial_recovery_degrades_component_without_update() -> None:
    m = machine()
    down_at_15(m)
    round_(m, 20, fail("api", "search"))
    actions = round_(m, 25, fail("api", "search"))
    assert actions == [SetComponents(at(25), {"web": "degraded_performance"})]


def test_attack_known_before_outage_opens_identified() -> None:
    m = machine()
    m.feed(attack("attack_started", 1, classification=("connection_flood",)))
    (opened,) = [a for t in (5, 10, 15) for a in round_(m, t, fail("web"))]
    assert isinstance(opened, Open) and opened.status == "identified"
    assert opened.body.startswith("Web down; Roost is defending against a denial-of-service")


def test_down_again_while_monitoring_goes_back_to_identified() -> None:
    m = machine()
    down_at_15(m)
    m.feed(attack("attack_started", 16))
    round_(m, 20, {})
    round_(m, 25, {})
    assert m.phase == "monitoring"
    actions = [a for t in (30, 35, 40) for a in round_(m, t, fail("web"))]
    assert [(a.status, a.body.split(";")[0]) for a in actions] == [("identified", "Web down again")]
    round_(m, 45, {})
    round_(m, 50, {})
    m.feed(attack("attack_ended", 51))
    (resolved,) = m.feed(Tick(at(111)))
    assert "from 2026-11-28 11:00:05 UTC to 11:00:45 UTC (40 s)" in resolved.body


def test_operator_status_is_not_repeated_and_holds_resolution() -> None:
    m = machine()
    down_at_15(m)
    assert m.feed(OperatorUpdate(at(16), "identified")) == []
    assert m.feed(attack("attack_started", 17)) == []  # operator already identified it
    round_(m, 20, {})
    round_(m, 25, {})
    assert m.phase == "monitoring"
    m.feed(OperatorUpdate(at(30), "identified"))  # operator keeps it open
    assert m.feed(attack("attack_ended", 31)) == []
    assert m.feed(Tick(at(500))) == []
    m.feed(OperatorUpdate(at(501), "monitoring"))
    (resolved,) = m.feed(Tick(at(562)))
    assert resolved.status == "resolved"


def test_operator_resolution_detaches_until_all_up() -> None:
    m = machine()
    down_at_15(m)
    assert m.feed(OperatorUpdate(at(16), "resolved")) == []
    assert round_(m, 20, fail("web", "api", "search")) == []
    assert round_(m, 25, {}) == []
    assert round_(m, 30, {}) == []
    assert not m.detached
    opened = [a for t in (35, 40, 45) for a in round_(m, t, fail("web"))]
    assert isinstance(opened[0], Open) and opened[0].started_at == at(35)


def test_resume_after_restart_can_still_resolve() -> None:
    m = machine()
    m.resume("identified", at(0), ["web"], at(100))
    round_(m, 105, {})
    (post,) = round_(m, 110, {})
    assert post.status == "monitoring"
    (resolved,) = m.feed(Tick(at(170)))
    assert "from 2026-11-28 11:00:00 UTC to 11:01:45 UTC (1 min 45 s)" in resolved.body


def test_unknown_component_and_event_are_ignored() -> None:
    m = machine()
    assert m.feed(Round(at(0), {"nope": False})) == []
    assert m.feed(attack("attack_weird", 1)) == []


def test_duration_words() -> None:
    assert duration(timedelta(seconds=5)) == "5 s"
    assert duration(timedelta(seconds=125)) == "2 min 5 s"
    assert duration(timedelta(seconds=3600)) == "1 h"
    assert duration(timedelta(seconds=3723)) == "1 h 2 min 3 s"


def test_attack_while_monitoring_is_told_and_holds_resolution() -> None:
    m = machine()
    down_at_15(m)
    round_(m, 20, {})
    round_(m, 25, {})
    assert m.phase == "monitoring"
    (post,) = m.feed(attack("attack_started", 30, classification=("post_spam",)))
    assert post.status == "monitoring"
    assert post.body.startswith("Roost is up and defending against a denial-of-service attack")
    assert "a flood of spam posts" in post.body
    assert m.feed(attack("attack_mitigated", 31)) == []
    assert m.feed(Tick(at(200))) == []
    m.feed(attack("attack_ended", 201))
    (resolved,) = m.feed(Tick(at(261)))
    assert resolved.body.endswith("The attack ended at 11:03:21 UTC.")


def test_partial_outage_names_what_was_down() -> None:
    m = machine()
    for t in (5, 10, 15):
        round_(m, t, fail("search"))
    round_(m, 20, {})
    round_(m, 25, {})
    (resolved,) = m.feed(Tick(at(85)))
    assert resolved.body.startswith("Search was down from 2026-11-28 11:00:05 UTC to 11:00:20")


def test_a_blip_elsewhere_does_not_move_the_measured_end() -> None:
    m = machine()
    for t in (5, 10, 15):
        round_(m, t, fail("search"))
    round_(m, 20, fail("web"))  # Search answers again; Web loses one probe (below threshold)
    round_(m, 25, {})  # Search is up again (recover_after=2): the outage ended at 11:00:20
    round_(m, 30, {})
    assert m.outage_ended_at == at(20)


def test_slow_components_are_degraded_without_an_incident() -> None:
    m = machine()
    slow = frozenset({"search"})
    assert m.feed(Round(at(5), {c: True for c in NAMES}, slow)) == []
    assert m.feed(Round(at(10), {c: True for c in NAMES}, slow)) == []
    (degraded,) = m.feed(Round(at(15), {c: True for c in NAMES}, slow))
    assert degraded == SetComponents(at(15), {"search": "degraded_performance"})
    assert m.phase == "idle"
    assert round_(m, 20, {}) == []
    assert round_(m, 25, {}) == [SetComponents(at(25), {"search": "operational"})]


def test_slowness_during_an_incident_waits_for_the_resolution() -> None:
    m = machine()
    for t in (5, 10, 15):
        round_(m, t, fail("web"))
    for t in (20, 25, 30):
        assert all(
            not isinstance(a, SetComponents) or "search" not in a.components
            for a in m.feed(Round(at(t), {c: True for c in NAMES}, frozenset({"search"})))
        )
    (resolved,) = m.feed(Tick(at(100)))
    assert resolved.components["search"] == "degraded_performance"
    assert resolved.components["web"] == "operational"


def test_outage_is_timed_by_each_components_own_probe() -> None:
    """Probes of one round run seconds apart (sign-in, post, read-back one after another): the
    outage starts at the first failed probe and ends at the first good one, not at the round."""
    m = machine()
    probed = {"web": 0.0, "api": 0.0, "search": 4.0}  # search probed 4 s into each round

    def timed(t: float, ok: dict[str, bool]) -> list:
        times = {cid: at(t + offset) for cid, offset in probed.items()}
        results = {cid: ok.get(cid, True) for cid in NAMES}
        return m.feed(Round(at(t + 6), results, times=times))  # the round is judged at t + 6

    timed(0, {})
    timed(10, fail("search"))  # search's first failed probe: 11:00:14
    timed(20, fail("search"))
    (opened,) = timed(30, fail("search"))
    assert isinstance(opened, Open)
    assert opened.started_at == at(14) and opened.at == at(36)
    timed(40, {})  # search's first good probe: 11:00:44
    (post,) = timed(50, {})
    assert post.status == "monitoring" and post.at == at(56)
    assert m.outage_ended_at == at(44)
    (resolved,) = m.feed(Tick(at(116)))
    assert "from 2026-11-28 11:00:14 UTC to 11:00:44 UTC (30 s)" in resolved.body
