"""The human status page and one page per incident, rendered from a ``View`` with Jinja."""

from __future__ import annotations

from datetime import datetime, timedelta

import jinja2
from markupsafe import Markup

from roost.status import charts, statuspage
from roost.status.model import Component, Incident
from roost.status.view import View

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("roost.status", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(at: datetime | None) -> str:
    return at.strftime("%b %d, %H:%M:%S UTC") if at else ""


_env.filters["when"] = _when


def _base(view: View) -> dict:
    _, description = statuspage.indicator(view)
    return {
        "name": view.name,
        "indicator": statuspage.shown_indicator(view),
        "description": description,
        "updated": _when(view.updated_at or view.now),
        "names": view.names,
    }


def status_page(view: View) -> str:
    today = view.now.date()
    lines = [(c.id, c.name) for c in view.components]
    days = charts.last_days(today)
    components = []
    for c in view.components:
        ratio = charts.uptime_ratio(view.uptime, c.id, days)
        status, label = _state(view, c)
        components.append(
            {
                "id": c.id,
                "name": c.name,
                "status": status,
                "label": label,
                "bars": Markup(charts.uptime_bars(view.uptime, c.id, today)),
                "uptime": f"{ratio:.3%} uptime" if ratio is not None else "no data yet",
            }
        )
    return _env.get_template("page.html").render(
        **_base(view),
        start_note=_start_note(view),
        unresolved=view.unresolved,
        maintenances=[i for i in view.maintenances if i.upcoming or i.maintenance_active],
        components=components,
        chart=Markup(charts.latency_chart(view.latency, lines)),
        legend=Markup(charts.legend(lines)),
        past=_past(view),
    )


def _state(view: View, c: Component) -> tuple[str, str]:
    """A component's CSS status and words; while start-up probes are held, "not yet" (grey),
    not the green "Operational" nobody has seen yet."""
    waiting = view.waiting
    if waiting is not None and c.status == "operational":
        if c.id in waiting.unanswered:
            return "waiting", "No answer yet"
        if not waiting.site_started:
            return "waiting", "Not checked yet"
    return c.status, c.status.replace("_", " ").capitalize()


def _start_note(view: View) -> str:
    """Why the page is grey while probes fail at start-up, and until when."""
    if view.waiting is None or not view.waiting.checked:
        return ""
    who = statuspage.unanswered(view)
    return (
        f"Failed probes before the first answer from {who} are not counted as an outage. With"
        f" no answer by {view.waiting.until:%H:%M:%S} UTC they are, from the first failed probe."
    )


def _past(view: View) -> list[Incident]:
    """Incidents resolved and maintenance windows completed in the last 90 days."""
    since = view.now - timedelta(days=charts.DAYS)
    done = [
        i
        for i in view.incidents
        if not (i.unresolved or i.upcoming or i.maintenance_active) and i.created_at >= since
    ]
    return done[:20]


def incident_page(view: View, incident: Incident) -> str:
    template = _env.get_template("incident.html")
    return template.render(**_base(view), incident=incident)
