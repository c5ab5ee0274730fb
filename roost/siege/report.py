"""The report: per phase and class figures, time to detect and recover, warnings; JSON, table.

Every class's counts must add up (sent = answered + unanswered errors + unfinished at the end);
the report says so for each, so that a lost message between processes cannot pass unnoticed.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from roost.siege.legit import READERS, USERS
from roost.siege.outcome import Outcome
from roost.siege.scenario import AttackSpec
from roost.siege.stats import ClassStats
from roost.siege.statuspage import STATUS_PAGE

LEGIT = (USERS, READERS)
BEHIND_WARNING_SHARE = 0.05
CPU_BOUND_SHARE = 0.9


def build(outcome: Outcome) -> dict[str, Any]:
    scenario = outcome.scenario
    timeline = outcome.timeline.rows(outcome.elapsed_s)
    phases: list[dict[str, Any]] = []
    holds = {a.name for p in scenario.phases for a in p.attacks if a.kind == "hold"}
    for name, start_s, end_s in outcome.phases:
        seconds = max(min(end_s, outcome.elapsed_s) - start_s, 1e-9)
        classes = {
            cls: _class(stats, _role(cls, holds))
            for (phase, cls), stats in sorted(outcome.ledger.entries.items())
            if phase == name
        }
        for entry in classes.values():
            if entry["kind"] == "attack":
                entry["achieved_rate_per_s"] = round(entry["requests"] / seconds, 1)
        asked = next(p for p in scenario.phases if p.name == name).attacks
        phases.append(
            {
                "name": name,
                "start_s": start_s,
                "end_s": end_s,
                "attacks_asked": [_asked(attack) for attack in asked],  # the report stands alone
                "classes": classes,
            }
        )
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "scenario_file": scenario.path,
        "label": outcome.options.label,
        "target": outcome.options.target_url,
        "started_at": datetime.datetime.fromtimestamp(outcome.started_at, datetime.UTC).isoformat(),
        "elapsed_s": round(outcome.elapsed_s, 3),
        "stop_reason": outcome.stop_reason,
        "interrupted": outcome.stop_reason == "interrupted",
        "seed": scenario.seed,
        "objective_ms": scenario.objective_s * 1000,
        "limits": outcome.limits,
        "setup": outcome.setup,
        "placement": outcome.placement,
        "phases": phases,
        "detection": detection(outcome, timeline),
        "timeline": timeline,
    }
    report["counts_add_up"] = all(c["counts_add_up"] for p in phases for c in p["classes"].values())
    report["warnings"] = outcome.warnings + generator_warnings(outcome, phases)
    return report


def _asked(attack: AttackSpec) -> dict[str, Any]:
    schedule = dataclasses.asdict(attack.schedule)
    schedule["kind"] = type(attack.schedule).__name__.lower()
    fields = ("name", "profile", "bots", "prefixes", "connections", "rotate_after", "pipeline",
              "interval_s")  # fmt: skip
    return {**{key: getattr(attack, key) for key in fields}, "schedule": schedule}


def _role(name: str, holds: set[str]) -> str:
    if name in LEGIT:
        return "legit"
    if name == STATUS_PAGE:
        return "status"
    return "hold" if name in holds else "attack"


def _class(stats: ClassStats, role: str) -> dict[str, Any]:
    """One class in one phase. ``role``: legit, status (the status page, judged as legit
    requests are), attack (requests) or hold (held connections: requests are connections
    opened, latency is how long each was held)."""
    errors = sum(stats.errors.values())
    entry: dict[str, Any] = {
        "kind": role if role in ("legit", "status") else "attack",
        "requests": stats.sent,
        "answered": stats.answered,
        "unanswered": errors,
        "unfinished": stats.unfinished,
        "counts_add_up": stats.sent == stats.answered + errors + stats.unfinished,
        "ok": stats.ok,
        "success_ratio": round(stats.ok / stats.sent, 4) if stats.sent else None,
        "latency_ms": stats.latency_ms(),
        "statuses": dict(sorted(stats.statuses.items())),
        "errors": dict(stats.errors),
        "connect_failures": stats.connect_failures,
    }
    if role in ("legit", "status"):  # turned away: a shed status or a refused/cut connection
        entry["wrongly_rejected"] = stats.shed
        return entry
    entry["admitted"] = stats.admitted
    entry["shed"] = stats.shed
    if role == "hold":
        entry["holds_connections"] = True
        entry["success_ratio"] = None  # nothing to succeed at: see held vs cut
        entry["held_to_the_end"] = stats.statuses.get("held", 0)
        entry["ended_by_server"] = stats.shed
    else:
        entry["behind_schedule"] = int(stats.behind)
    return entry


def detection(outcome: Outcome, rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Time to detect (attack mostly shed) and to recover (legit success back and holding)."""
    attacked = [
        (s, e)
        for (n, s, e), p in zip(outcome.phases, outcome.scenario.phases, strict=False)
        if p.attacks
    ]
    if not attacked:
        return {"attack_start_s": None, "time_to_detect_s": None, "time_to_recover_s": None}
    start, end = attacked[0][0], attacked[-1][1]
    scenario = outcome.scenario
    detect = next(
        (
            max(0.0, r["t"] - start)
            for r in rows
            if r["t"] + 1 > start
            and r["attack_sent"]
            and r["attack_shed"] >= scenario.detect_shed_ratio * r["attack_sent"]
        ),
        None,
    )
    ratio, hold = scenario.recovered_ratio, scenario.recovered_hold_s
    result = {
        "attack_start_s": start,
        "attack_end_s": end,
        "time_to_detect_s": detect,  # None: the attack was never mostly shed
        "time_to_recover_s": _recovered(rows, start, ratio, hold),  # None: never recovered
    }
    if any(r["t"] >= end and r["legit_success"] is not None for r in rows):
        result["recovery_after_attack_s"] = _recovered(rows, end, ratio, hold)
    return result


def _recovered(
    rows: list[dict[str, Any]], since: float, ratio: float, hold_s: float
) -> float | None:
    """Seconds from ``since`` until legit success stays >= ratio for ``hold_s`` (None: never)."""
    seconds = [r for r in rows if r["t"] + 1 > since and r["legit_success"] is not None]
    for row in seconds:
        window = [r for r in seconds if row["t"] <= r["t"] < row["t"] + max(hold_s, 1.0)]
        if all(r["legit_success"] >= ratio for r in window):
            return float(max(0.0, row["t"] - since))
    return None


def generator_warnings(outcome: Outcome, phases: list[dict[str, Any]]) -> list[str]:
    warnings = []
    cpu_bound: set[str] = set()
    for generator in outcome.placement.get("generators", []):
        for phase, share in generator.get("phase_cpu_share", {}).items():
            if share >= CPU_BOUND_SHARE:
                cpu_bound.add(phase)
                warnings.append(
                    f"generator {generator['worker']} (pid {generator['pid']}, CPUs "
                    f"{generator['cpus']}) used {share:.0%} of a core during {phase}: "
                    "it was CPU-bound, so the attack may be weaker than the scenario asks"
                )
    for phase in phases:
        for name, entry in phase["classes"].items():
            behind, sent = entry.get("behind_schedule", 0), entry["requests"]
            if behind and behind > BEHIND_WARNING_SHARE * (sent + behind):
                cause = _behind_cause(phase["name"] in cpu_bound, entry["connect_failures"])
                warnings.append(
                    f"{phase['name']}/{name} fell behind schedule by {behind:,} requests: {cause}"
                )
    return warnings


def _behind_cause(cpu_bound: bool, connect_failures: int) -> str:
    if cpu_bound:
        return "the generator was CPU-bound"
    if connect_failures:
        return f"the server refused or timed out {connect_failures:,} connection attempts"
    return "every connection was waiting on the server (more connections would help)"


def write_json(report: dict[str, Any], directory: Path) -> Path:
    path = directory / "report.json"
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    return path


COLUMNS = ["requests", "ok", "p50", "p95", "p99", "p99.9", "max", "statuses", "admitted/shed"]
COLUMNS += ["rejected", "no answer", "sent/s"]
LATENCY_COLUMNS = 7  # requests, ok, p50 ... max; the rest are the outcomes
CAPTION = (
    "latency in ms; attacks: admitted by the site / shed; "
    "legit: wrongly rejected (403/429/503, refused or cut)"
)


def render(report: dict[str, Any], console: Console) -> None:
    """The table, one row per phase and class; on a terminal too narrow for all its columns,
    two tables (latency, then outcomes) so that no figure is cut short."""
    title = f"roost siege: {report['scenario']} against {report['target']}"
    rows = [
        (phase["name"], name, _cells(c))
        for phase in report["phases"]
        for name, c in phase["classes"].items()
    ]
    whole = _table(title, CAPTION, COLUMNS, rows)
    natural = Measurement.get(console, console.options.update_width(10_000), whole).maximum
    if natural <= console.width:
        console.print(whole)
    else:
        cut = LATENCY_COLUMNS
        console.print(
            _table(title, "latency in ms", COLUMNS[:cut], [(p, n, c[:cut]) for p, n, c in rows])
        )
        console.print(_table("", CAPTION, COLUMNS[cut:], [(p, n, c[cut:]) for p, n, c in rows]))
    d = report["detection"]
    if d["attack_start_s"] is None:
        times = "no attack phase"
    else:
        after = _s(d["recovery_after_attack_s"]) if "recovery_after_attack_s" in d else "n/a"
        measured = any(row.get("legit_success") is not None for row in report["timeline"])
        recover = _s(d["time_to_recover_s"]) if measured else "n/a (no legitimate users)"
        times = (
            f"time to detect: {_s(d['time_to_detect_s'])}   time to recover: "
            f"{recover}   after the attack: {after}"
        )
    console.print(
        f"{times}   stop: {report['stop_reason']}   counts add up: {report['counts_add_up']}"
    )
    console.print(placement_text(report.get("placement", {})))
    for warning in report["warnings"]:
        console.print(f"[yellow]warning:[/] {warning}")


def _table(
    title: str, caption: str, columns: list[str], rows: list[tuple[str, str, list[str]]]
) -> Table:
    table = Table(title=title or None, caption=caption)
    for column in ["phase", "class", *columns]:
        left = column in ("phase", "class", "statuses")  # wrapped, never cut, when tight
        table.add_column(column, justify="left" if left else "right", overflow="fold")
    for phase, name, cells in rows:
        table.add_row(phase, name, *cells)
    return table


def placement_text(placement: dict[str, Any]) -> str:
    """Where each side ran, in one line: generators (with their busiest phase), server(s) and
    the coordinating process with the simulated users."""
    parts = []
    for g in placement.get("generators", []):
        shares = g.get("phase_cpu_share", {})
        busiest = max(shares, key=shares.get) if shares else None
        load = f" ({shares[busiest]:.0%} of a core in {busiest})" if busiest else ""
        parts.append(f"generator {g['worker']} on CPUs {_cpus(g['cpus'])}{load}")
    servers = placement.get("server")
    if servers:
        parts += [f"server pid {s['pid']} on CPUs {_cpus(s['cpus'])}" for s in servers]
    elif servers is not None:
        parts.append("server: no listening process found on this machine")
    if "coordinator" in placement:
        parts.append(f"users on CPUs {_cpus(placement['coordinator']['cpus'])}")
    return "ran: " + ("; ".join(parts) if parts else "not recorded (no phase ran)")


def _cpus(cpus: list[int] | None) -> str:
    return "?" if cpus is None else ",".join(str(cpu) for cpu in cpus)


def _cells(c: dict[str, Any]) -> list[str]:
    """One class's row: legit classes show wrongly rejected, attacks admitted vs shed."""
    latency = c["latency_ms"]
    rate = c.get("achieved_rate_per_s")
    attack = c["kind"] == "attack"
    return [
        f"{c['requests']:,}",
        "-" if c["success_ratio"] is None else f"{c['success_ratio']:.1%}",
        *(_ms(latency[k]) for k in ("p50", "p95", "p99", "p99.9", "max")),
        statuses_text(c["statuses"]),
        f"{c['admitted']:,}/{c['shed']:,}" if attack else "",
        "" if attack else f"{c['wrongly_rejected']:,}",
        f"{c['unanswered'] + c['unfinished']:,}",
        "" if rate is None else f"{rate:,}",
    ]


def statuses_text(statuses: dict[str, int], most: int = 4) -> str:
    """The commonest statuses (or hold outcomes) with their counts, like ``200:1,234 429:56``."""
    common = sorted(statuses.items(), key=lambda item: (-item[1], item[0]))
    text = " ".join(f"{status}:{count:,}" for status, count in common[:most])
    return text + (f" +{len(common) - most} more" if len(common) > most else "")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:g} s"
