"""The report's arithmetic: counts, detection and recovery times, warnings, from a known outcome."""

from __future__ import annotations

from pathlib import Path

from roost.siege import chart, report
from roost.siege.outcome import Outcome, RunOptions
from roost.siege.scenario import AttackSpec, PhaseSpec, Scenario
from roost.siege.schedule import Constant

ATTACK = AttackSpec("get_flood", "get_flood", 10, 1, 4, Constant(100.0))
SCENARIO = Scenario(
    name="known",
    path="known.toml",
    phases=(
        PhaseSpec("baseline", 3),
        PhaseSpec("attack", 6, (ATTACK,)),
        PhaseSpec("recovery", 4),
    ),
    recovered_hold_s=2,
)


def outcome() -> Outcome:
    result = Outcome(SCENARIO, RunOptions(target_url="http://127.0.0.1:1/", live=False))
    result.phases = [("baseline", 0, 3), ("attack", 3, 9), ("recovery", 9, 13)]
    result.elapsed_s = 13
    # Legit users: fine until the attack, failing for 4 s of it, fine again from t=7.
    for t in range(13):
        for n in range(10):
            hurt = 3 <= t < 7
            result.timeline.legit(t + n / 10, ok=not hurt, rejected=hurt, latency_s=0.05)
    # The attack: admitted at first, mostly shed from t=5 on (cumulative worker counters).
    sent = shed = 0
    for t in range(3, 9):
        sent += 100
        shed += 90 if t >= 5 else 0
        counters = {"sent": sent, "answered": sent, "shed": shed}
        result.timeline.attack_snapshot(0, t + 0.5, {"attack/get_flood": counters})
    stats = result.ledger.get("attack", "get_flood")
    for status in [200] * 400 + [429] * 180:
        stats.sent += 1
        stats.record(status, 0.01, status == 200)
    stats.sent += 20
    stats.record_error("closed")
    stats.unfinished = 19
    return result


def test_detection_and_recovery_times() -> None:
    built = report.build(outcome())
    detection = built["detection"]
    assert detection["attack_start_s"] == 3 and detection["time_to_detect_s"] == 2
    assert detection["time_to_recover_s"] == 4  # legit fine again at t=7, 4 s after the start
    assert detection["recovery_after_attack_s"] == 0


def test_counts_and_classes() -> None:
    built = report.build(outcome())
    flood = built["phases"][1]["classes"]["get_flood"]
    assert flood["requests"] == 600 and flood["answered"] == 580
    assert flood["unanswered"] == 1 and flood["unfinished"] == 19 and flood["counts_add_up"]
    assert flood["admitted"] == 400 and flood["shed"] == 181
    assert flood["achieved_rate_per_s"] == 100.0
    assert flood["statuses"] == {"200": 400, "429": 180}


def test_counts_that_do_not_add_up_are_flagged() -> None:
    broken = outcome()
    broken.ledger.get("attack", "get_flood").sent += 5
    assert report.build(broken)["counts_add_up"] is False


def test_the_chart_is_drawn(tmp_path: Path) -> None:
    path = chart.draw(report.build(outcome()), tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
