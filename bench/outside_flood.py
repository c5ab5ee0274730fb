"""The outside flood (issue 11): what signed-in people live through, edge vs no edge vs nginx.

    .venv/bin/python bench/outside_flood.py [--cpu 1] [--out DIR] [--target roost-up ...]
                                            [scenarios/outside-flood.toml ...]

Runs `roost siege compare` on each scenario (by default the outside flood, the scraper swarm,
the sybil accounts and the tenfold outside flood), every target pinned to CPU 0 by the scenario
and the generator to ``--cpu``, then prints one table per scenario against the issue's targets:
signed-in users served within the objective (1 s) in every phase >= 99 %, their attack p99 at
most 3x their baseline p99, the status page >= 99 % throughout. Loopback only, bounded, each
scenario stops by itself (about 2-4 minutes per target). Reports go to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from roost.siege.compare import compare  # noqa: E402

SCENARIOS = ("outside-flood", "scraper-swarm", "sybil-accounts", "outside-flood-10x")
SERVED_TARGET = 0.99  # of signed-in requests within the objective, in every phase
P99_RATIO_TARGET = 3.0  # attack p99 / baseline p99
STATUS_TARGET = 0.99


def phase_figures(report: dict[str, Any]) -> dict[str, Any]:
    """Per phase: the legit users' success and p99, the status page's success, the bots' rate."""
    figures: dict[str, Any] = {}
    for phase in report["phases"]:
        classes = phase["classes"].values()
        legit = [c for c in classes if c["kind"] == "legit"]
        status = [c for c in classes if c["kind"] == "status"]
        attack = [c for c in classes if c["kind"] == "attack"]
        figures[phase["name"]] = {
            "served": _share(legit),
            "p99": max((c["latency_ms"]["p99"] or 0 for c in legit), default=None),
            "status": _share(status),
            "bots_per_s": sum(c.get("achieved_rate_per_s", 0) for c in attack),
        }
    return figures


def _share(classes: list[dict[str, Any]]) -> float | None:
    sent = sum(c["requests"] for c in classes)
    return sum(c["ok"] for c in classes) / sent if sent else None


def verdict(figures: dict[str, Any]) -> tuple[float | None, list[str]]:
    """The p99 ratio (attack over baseline) and the targets missed."""
    missed = []
    for name, phase in figures.items():
        if phase["served"] is not None and phase["served"] < SERVED_TARGET:
            missed.append(f"{name}: {phase['served']:.1%} served")
        if phase["status"] is not None and phase["status"] < STATUS_TARGET:
            missed.append(f"{name}: status page {phase['status']:.1%}")
    base, attack = figures.get("baseline", {}).get("p99"), figures.get("attack", {}).get("p99")
    ratio = attack / base if base and attack is not None else None
    if ratio is not None and ratio > P99_RATIO_TARGET:
        missed.append(f"p99 {ratio:.1f}x baseline")
    return ratio, missed


def table(scenario: str, reports: list[dict[str, Any]]) -> str:
    lines = [
        f"### {scenario}",
        "",
        "| target | served (base / attack / recovery) | p99 base -> attack (x) "
        "| status page | bots r/s | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for report in reports:
        figures = phase_figures(report)
        ratio, missed = verdict(figures)
        served = " / ".join(_pct(p["served"]) for p in figures.values())
        status = min(
            (p["status"] for p in figures.values() if p["status"] is not None), default=None
        )
        base = figures.get("baseline", {}).get("p99")
        attack = figures.get("attack", {}).get("p99")
        latency = f"{base:,.0f} -> {attack:,.0f} ms ({ratio:.1f}x)" if ratio else "-"
        bots = figures.get("attack", {}).get("bots_per_s", 0)
        outcome = "PASS" if not missed else "FAIL: " + "; ".join(missed)
        row = [report["label"], served, latency, _pct(status), f"{bots:,.0f}", outcome]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path)
    parser.add_argument("--cpu", type=int, default=1, help="the generator's CPU")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "outside-flood")
    parser.add_argument("--target", action="append", default=[], help="only these targets")
    args = parser.parse_args()
    paths = args.scenarios or [ROOT / "scenarios" / f"{name}.toml" for name in SCENARIOS]
    tables = []
    for path in paths:
        out = args.out / path.stem
        reports = compare(path, out, None, None, (args.cpu,), tuple(args.target), live=False)
        tables.append(table(path.stem, reports))
        print("\n" + tables[-1] + "\n", flush=True)
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
