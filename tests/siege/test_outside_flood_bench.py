"""bench/outside_flood.py's verdict reads a siege report's phases as the issue's targets say."""

from __future__ import annotations

from bench.outside_flood import phase_figures, table, verdict


def _class(kind: str, requests: int, ok: int, p99: float | None = None, rate: float = 0):
    entry = {"kind": kind, "requests": requests, "ok": ok, "latency_ms": {"p99": p99}}
    if kind == "attack":
        entry["achieved_rate_per_s"] = rate
    return entry


def _report(attack_ok: int, attack_p99: float) -> dict:
    def phase(name, ok, p99, bots=None):
        classes = {"legit": _class("legit", 1000, ok, p99), "status": _class("status", 30, 30)}
        if bots:
            classes["botnet_mix"] = _class("attack", 30_000, 100, 900.0, bots)
        return {"name": name, "classes": classes}

    phases = [phase("baseline", 1000, 30.0), phase("attack", attack_ok, attack_p99, 1234.5)]
    return {"label": "roost-up", "phases": [*phases, phase("recovery", 1000, 40.0)]}


def test_a_run_within_the_targets_passes_and_one_outside_them_fails() -> None:
    ratio, missed = verdict(phase_figures(_report(995, 80.0)))
    assert ratio is not None and abs(ratio - 80 / 30) < 1e-9
    assert missed == []
    ratio, missed = verdict(phase_figures(_report(980, 120.0)))
    assert ratio == 4.0
    assert missed == ["attack: 98.0% served", "p99 4.0x baseline"]


def test_the_table_names_each_phase_and_the_bots_rate() -> None:
    text = table("outside-flood", [_report(995, 80.0)])
    assert (
        "| roost-up | 100.0% / 99.5% / 100.0% | 30 -> 80 ms (2.7x) | 100.0% | 1,234 | PASS |"
        in text
    )
