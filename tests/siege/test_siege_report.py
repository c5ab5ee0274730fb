"""The report's arithmetic, table, chart and live display, from a known outcome."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from rich.console import Console

from roost.siege import chart, report
from roost.siege.flood import Budget
from roost.siege.legit import Clock, Recorder
from roost.siege.live import Live
from roost.siege.outcome import Outcome, RunOptions
from roost.siege.scenario import AttackSpec, PhaseSpec, Scenario
from roost.siege.schedule import Constant
from roost.siege.stats import Ledger
from roost.siege.timeline import Timeline

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


def test_attack_increments_are_spread_over_the_time_since_the_last_snapshot() -> None:
    timeline = Timeline()
    timeline.attack_snapshot(0, 0.5, {"a/x": {"sent": 100, "answered": 100, "shed": 0}})
    timeline.attack_snapshot(0, 1.5, {"a/x": {"sent": 300, "answered": 300, "shed": 40}})
    # A class first seen now was at zero at the previous snapshot (t=1.5), not at t=0.
    timeline.attack_snapshot(
        0,
        2.5,
        {
            "a/x": {"sent": 300, "answered": 300, "shed": 40},
            "a/y": {"sent": 60, "answered": 0, "shed": 60},
        },
    )
    rows = {row["t"]: row for row in timeline.rows(3)}
    assert [rows[t]["attack_sent"] for t in range(3)] == [200, 130, 30]
    assert [rows[t]["attack_shed"] for t in range(3)] == [20, 50, 30]
    assert sum(row["attack_sent"] for row in rows.values()) == 360
    # Another generator keeps its own clock of snapshots.
    timeline.attack_snapshot(1, 2.5, {"a/x": {"sent": 250, "answered": 250, "shed": 0}})
    assert timeline.rows(3)[0]["attack_sent"] == 300 and timeline.rows(3)[2]["attack_sent"] == 80


def test_wrongly_rejected_is_shed_statuses_and_refused_or_cut_connections_only() -> None:
    ledger, timeline = Ledger(), Timeline()
    clock = Clock(time.monotonic(), (("calm", 0, 10),), time.monotonic() + 10)
    recorder = Recorder(ledger, timeline, clock, 1.0, Budget(100))
    answers = [(200, ""), (429, ""), (503, ""), (403, ""), (404, ""), (500, "")]
    answers += [(None, "timeout"), (None, "client:JSONDecodeError"), (None, "GuardError")]
    answers += [(None, "ConnectError"), (None, "RemoteProtocolError"), (None, "ReadError")]
    for status, error in answers:
        ledger.get("calm", "legit_readers").sent += 1
        recorder.record("legit_readers", clock.start, status, error)
    entry = report._class(ledger.get("calm", "legit_readers"), "legit")
    assert entry["wrongly_rejected"] == 6  # 429, 503, 403, and three refused/cut connections
    assert sum(row["legit_rejected"] for row in timeline.rows(1)) == 6  # the same in the series
    assert entry["unanswered"] == 6 and entry["counts_add_up"]


def test_a_cpu_bound_generator_is_warned_about() -> None:
    result = outcome()
    result.ledger.get("attack", "get_flood").behind = 5000
    generator = {"worker": 0, "pid": 4242, "cpus": [0], "phase_cpu_share": {"attack": 0.93}}
    result.placement["generators"] = [generator, {**generator, "worker": 1, "pid": 4243}]
    result.placement["generators"][1]["phase_cpu_share"] = {"attack": 0.5, "baseline": 0.89}
    warnings = report.build(result)["warnings"]
    assert any(
        "generator 0 (pid 4242, CPUs [0]) used 93% of a core during attack" in w for w in warnings
    )
    assert not any("generator 1" in w for w in warnings)  # 0.89 is under the 0.9 line
    assert any("fell behind schedule by 5,000" in w and "CPU-bound" in w for w in warnings)


def test_hold_profiles_report_their_achieved_rate_of_new_connections() -> None:
    hold = AttackSpec("slowloris", "slowloris", 10, 1, 10, Constant(5.0))
    scenario = dataclasses.replace(SCENARIO, phases=(PhaseSpec("attack", 4, (hold,)),))
    result = Outcome(scenario, RunOptions(target_url="http://127.0.0.1:1/", live=False))
    result.phases, result.elapsed_s = [("attack", 0, 4)], 4
    stats = result.ledger.get("attack", "slowloris")
    for outcome_name in ["cut"] * 10 + ["held"] * 10:
        stats.sent += 1
        stats.record_hold(outcome_name, 1.0)
    entry = report.build(result)["phases"][0]["classes"]["slowloris"]
    assert entry["holds_connections"] and entry["achieved_rate_per_s"] == 5.0
    assert entry["admitted"] == 10 and entry["shed"] == 10


def test_the_terminal_table_shows_p95_statuses_and_admitted_versus_shed() -> None:
    console = Console(record=True, width=200)
    report.render(report.build(outcome()), console)
    text = console.export_text()
    header = next(line for line in text.splitlines() if "requests" in line)
    cells = [cell.strip() for cell in header.split("┃")[1:-1]]
    assert cells[3:9] == ["ok", "p50", "p95", "p99", "p99.9", "max"] and "latency in ms" in text
    assert "statuses" in cells
    assert "admitted/shed" in text and "rejected" in text
    flood = next(line for line in text.splitlines() if "get_flood" in line)
    assert "200:400 429:180" in flood and "400/181" in flood and "100.0" in flood


def test_recovery_is_not_applicable_without_legitimate_users() -> None:
    result = outcome()
    result.timeline = Timeline()  # the same attack, and nobody legitimate to recover
    result.timeline.attack_snapshot(
        0, 3.5, {"attack/get_flood": {"sent": 100, "answered": 100, "shed": 90}}
    )
    console = Console(record=True, width=200)
    report.render(report.build(result), console)
    assert "time to recover: n/a (no legitimate users)" in console.export_text()
    console = Console(record=True, width=200)
    report.render(report.build(outcome()), console)
    assert "time to recover: 4 s" in console.export_text()


def test_statuses_are_shown_most_common_first_and_bounded() -> None:
    statuses = {"200": 5, "404": 1, "429": 9, "500": 2, "503": 3, "502": 1}
    assert report.statuses_text(statuses) == "429:9 200:5 503:3 500:2 +2 more"
    assert report.statuses_text({}) == ""


def test_the_live_table_shows_the_last_seconds() -> None:
    result = outcome()
    result.timeline.legit(12.2, ok=False, rejected=True, latency_s=2.5)
    live = Live(result, start_at=time.monotonic(), enabled=False)
    console = Console(record=True, width=200)
    console.print(live._table(12.6))
    text = console.export_text()
    assert "t= 12.6s of 13s  recovery" in text
    for column in ("legit req", "legit ok", "rejected", "legit p99 ms", "attack sent/s"):
        assert column in text
    assert "answered/s" in text and "shed/s" in text
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines()]
    rows = [row for row in rows if row and row[0].isdigit()]
    assert [row[0] for row in rows] == ["7", "8", "9", "10", "11", "12"]  # the last five seconds
    assert rows[-1] == ["12", "11", "91%", "1", "2500", "0", "0", "0"]  # 10 of 11 ok; p99 2.5 s
    assert rows[0][5:] == ["100", "100", "90"]  # attack sent, answered, shed per second


def test_the_chart_marks_where_the_last_phase_ended() -> None:
    built = report.build(outcome())
    assert chart.boundaries(built) == [
        (0.0, "baseline"),
        (3.0, "attack"),
        (9.0, "recovery"),
        (13.0, "end"),
    ]
    built["stop_reason"], built["elapsed_s"] = "interrupted", 10.5
    assert chart.boundaries(built)[-1] == (10.5, "stopped (interrupted)")


def test_a_report_without_phases_is_written_and_drawn(tmp_path: Path) -> None:
    empty = Outcome(SCENARIO, RunOptions(target_url="http://127.0.0.1:1/", live=False))
    empty.stop_reason = "setup_timeout"
    built = report.build(empty)
    assert built["phases"] == [] and built["timeline"] == [] and built["counts_add_up"]
    assert chart.draw(built, tmp_path / "chart.png").stat().st_size > 1000
    console = Console(record=True, width=160)
    report.render(built, console)
    assert "stop: setup_timeout" in console.export_text()


def _hold_outcome() -> Outcome:
    """A phase with a long class name and second-long latencies: a wide table."""
    result = outcome()
    stats = result.ledger.get("attack", "connection_flood")
    for _ in range(50):
        stats.sent += 1
        stats.record(200, 2.97, True)
    return result


def test_a_narrow_terminal_gets_two_tables_with_nothing_cut_short() -> None:
    built = report.build(_hold_outcome())
    for width in (100, 160):
        console = Console(record=True, width=width)
        report.render(built, console)
        text = console.export_text()
        assert "…" not in text, text
        assert "connection_flood" in text and "2,971.6" in text
        assert "admitted/shed" in text and "no answer" in text and "latency in ms" in text
    wide = Console(record=True, width=250)
    report.render(built, wide)
    assert sum("requests" in line for line in wide.export_text().splitlines()) == 1


def test_the_terminal_says_where_each_side_ran() -> None:
    result = outcome()
    result.placement = {
        "server": [{"pid": 42, "cpus": [1]}],
        "coordinator": {"cpus": [0]},
        "generators": [
            {
                "worker": 0,
                "pid": 7,
                "cpus": [0],
                "phase_cpu_share": {"baseline": 0.01, "attack": 0.93},
            }
        ],
    }
    console = Console(record=True, width=200)
    report.render(report.build(result), console)
    text = console.export_text()
    assert (
        "ran: generator 0 on CPUs 0 (93% of a core in attack); server pid 42 on CPUs 1; "
        "users on CPUs 0" in text
    )
    assert "CPU-bound" in text  # and the warning says what that means
    result.placement = {"server": []}
    console = Console(record=True, width=200)
    report.render(report.build(result), console)
    assert "server: no listening process found" in console.export_text()
