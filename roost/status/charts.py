"""Inline SVG for the page: 90-day uptime bars and the 24-hour response-time chart.

Inline and self-contained on purpose: the status page loads nothing from a CDN or from the main
site, so it renders whatever else is down.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from roost.status.view import LatencyBucket, Uptime

DAYS = 90
BAR_W, BAR_GAP, BAR_H = 4, 2, 34

# Uptime -> colour, Statuspage's scale: green at 99.9 %, then yellow, orange, red.
_SCALE = ((0.999, "#2fcc66"), (0.99, "#f1c40f"), (0.95, "#e67e22"), (0.0, "#e74c3c"))
NO_DATA = "#b3bac5"


def colour(ratio: float | None) -> str:
    if ratio is None:
        return NO_DATA
    return next(c for floor, c in _SCALE if ratio >= floor)


def uptime_ratio(uptime: Uptime, component: str, days: list[date]) -> float | None:
    ok = total = 0
    for day in days:
        good, all_ = uptime.get((component, day), (0, 0))
        ok, total = ok + good, total + all_
    return ok / total if total else None


def last_days(today: date, count: int = DAYS) -> list[date]:
    return [today - timedelta(days=count - 1 - n) for n in range(count)]


def uptime_bars(uptime: Uptime, component: str, today: date) -> str:
    """One bar per day, oldest left; each bar's title says the day and its uptime."""
    width = DAYS * (BAR_W + BAR_GAP) - BAR_GAP
    bars = []
    for n, day in enumerate(last_days(today)):
        good, total = uptime.get((component, day), (0, 0))
        ratio = good / total if total else None
        words = f"{ratio:.2%} up" if ratio is not None else "no data"
        bars.append(
            f'<rect class="bar" x="{n * (BAR_W + BAR_GAP)}" y="0" width="{BAR_W}"'
            f' height="{BAR_H}" rx="1" fill="{colour(ratio)}">'
            f"<title>{day.isoformat()}: {words}</title></rect>"
        )
    return (
        f'<svg class="uptime" viewBox="0 0 {width} {BAR_H}" width="100%" height="{BAR_H}"'
        f' preserveAspectRatio="none" role="img" aria-label="{escape(component)} uptime,'
        f' 90 days">{"".join(bars)}</svg>'
    )


# One colour per component line, in page order (distinguishable, and none is the failure red).
PALETTE = ("#3b82f6", "#10b981", "#8b5cf6", "#f59e0b", "#ec4899", "#14b8a6", "#64748b", "#a16207")


def latency_chart(
    buckets: list[LatencyBucket],
    components: list[tuple[str, str]],
    width: int = 720,
    height: int = 160,
) -> str:
    """Mean response time of good probes per interval, a line per component (id, name); intervals
    with failed probes are marked in red."""
    pad_l, pad_b, pad_t = 44, 20, 8
    plot_w, plot_h = width - pad_l - 4, height - pad_b - pad_t
    values = [ms for b in buckets for ms in b.means.values()]
    top = _nice_ceiling(max(values) if values else 100.0)
    step = plot_w / max(1, len(buckets) - 1)

    def x(n: int) -> float:
        return pad_l + n * step

    def y(ms: float) -> float:
        return pad_t + plot_h * (1 - min(ms, top) / top)

    parts = [_grid(top, width, pad_l, y)]
    for n, b in enumerate(buckets):
        if b.failed:
            parts.append(
                f'<rect class="failed" x="{x(n) - step / 2:.1f}" y="{pad_t}" width="{step:.1f}"'
                f' height="{plot_h}" fill="#e74c3c" opacity="0.25">'
                f"<title>{b.start:%H:%M} UTC: {b.failed} of {b.total} probes failed</title></rect>"
            )
    for (cid, name), colour in zip(components, _colours(), strict=False):
        points = " ".join(
            f"{x(n):.1f},{y(b.means[cid]):.1f}" for n, b in enumerate(buckets) if cid in b.means
        )
        if points:
            parts.append(
                f'<polyline class="line" data-component="{escape(cid)}" fill="none"'
                f' stroke="{colour}" stroke-width="1.5" points="{points}">'
                f"<title>{escape(name)}</title></polyline>"
            )
    if buckets:
        for n in range(0, len(buckets), max(1, len(buckets) // 6)):
            parts.append(
                f'<text x="{x(n):.1f}" y="{height - 4}" font-size="10" fill="#6b7280"'
                f' text-anchor="middle">{buckets[n].start:%H:%M}</text>'
            )
    return (
        f'<svg class="latency" viewBox="0 0 {width} {height}" width="100%" role="img"'
        f' aria-label="Response time, last 24 hours">{"".join(parts)}</svg>'
    )


def legend(components: list[tuple[str, str]]) -> str:
    """The chart's key, as HTML: a coloured mark and the component's name."""
    return " ".join(
        f'<span class="key"><span style="color:{colour}">&#9632;</span> {escape(name)}</span>'
        for (_, name), colour in zip(components, _colours(), strict=False)
    )


def _colours() -> list[str]:
    return list(PALETTE) * 4


def _grid(top: float, width: int, pad_l: int, y: object) -> str:
    lines = []
    for fraction in (0.0, 0.5, 1.0):
        ms = top * fraction
        level = y(ms)  # type: ignore[operator]
        lines.append(
            f'<line x1="{pad_l}" x2="{width - 4}" y1="{level:.1f}" y2="{level:.1f}"'
            f' stroke="#e5e7eb"/><text x="{pad_l - 4}" y="{level + 3:.1f}" font-size="10"'
            f' fill="#6b7280" text-anchor="end">{ms:.0f} ms</text>'
        )
    return "".join(lines)


def _nice_ceiling(ms: float) -> float:
    for nice in (50, 100, 200, 500, 1000, 2000, 5000, 10000):
        if ms <= nice:
            return float(nice)
    return float(int(ms) + 1)
