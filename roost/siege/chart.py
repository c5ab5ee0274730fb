"""The chart: legitimate success and p99 latency, second by second, against the attack rate.

Matplotlib with the Agg backend (no display needed); phase boundaries, and the moment the last
phase ended (or the run was stopped), are drawn as vertical lines so a reader can see at once when
the attack began and how long users suffered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["timeline"]
    t = [r["t"] + 0.5 for r in rows]  # the middle of each one-second bucket
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6.5))
    success = [None if r["legit_success"] is None else 100 * r["legit_success"] for r in rows]
    top.plot(t, success, color="tab:green", marker=".", label="legit success within objective (%)")
    if any(r.get("status_requests") for r in rows):
        status = [None if r["status_success"] is None else 100 * r["status_success"] for r in rows]
        top.plot(t, status, color="tab:blue", marker="x", linewidth=0.8, label="status page (%)")
        top.legend(loc="lower left", fontsize=8)
    top.set_ylabel("legit success %")
    top.set_ylim(-2, 102)
    p99 = [r["legit_p99_ms"] for r in rows]
    bottom.plot(t, p99, color="tab:purple", marker=".", label="legit p99 latency (ms)")
    bottom.axhline(report["objective_ms"], color="tab:purple", linestyle=":", linewidth=1)
    bottom.set_ylabel("legit p99 ms")
    if any(value for value in p99 if value):
        bottom.set_yscale("log")
    bottom.set_xlabel("seconds since start")
    for axis in (top, bottom):
        attack = axis.twinx()
        sent = [r["attack_sent"] for r in rows]
        attack.fill_between(t, sent, step="mid", color="tab:red", alpha=0.15)
        shed = [r["attack_shed"] for r in rows]
        attack.step(t, shed, where="mid", color="tab:red", linewidth=0.8)
        attack.set_ylabel("attack req/s (line: shed)", color="tab:red")
        for moment, label in boundaries(report):
            axis.axvline(moment, color="grey", linestyle="--", linewidth=0.8)
            axis.text(
                moment,
                1.0,
                f" {label}",
                transform=axis.get_xaxis_transform(),
                va="top",
                fontsize=8,
            )
    title = f"roost siege {report['scenario']} vs {report['label'] or report['target']}"
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def boundaries(report: dict[str, Any]) -> list[tuple[float, str]]:
    """Where each phase starts, and where the run's last phase ended (cut short if stopped)."""
    phases = report["phases"]
    if not phases:
        return []
    marks = [(float(phase["start_s"]), str(phase["name"])) for phase in phases]
    end = min(float(phases[-1]["end_s"]), float(report["elapsed_s"]))
    label = "end" if report["stop_reason"] == "completed" else f"stopped ({report['stop_reason']})"
    return [*marks, (end, label)]
