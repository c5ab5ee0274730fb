"""The human status page and one page per incident, rendered from a ``View`` with Jinja."""

from __future__ import annotations

from datetime import datetime, timedelta

import jinja2
from markupsafe import Markup

from roost.status import charts, statuspage
from roost.status.model import Incident
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
    indicator, description = statuspage.indicator(view)
    return {
        "name": view.name,
        "indicator": indicator,
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
        components.append(
            {
                "id": c.id,
                "name": c.name,
                "status": c.status,
                "bars": Markup(charts.uptime_bars(view.uptime, c.id, today)),
                "uptime": f"{ratio:.3%} uptime" if ratio is not None else "no data yet",
            }
        )
    return _env.get_template("page.html").render(
        **_base(view),
        unresolved=view.unresolved,
        maintenances=[i for i in view.maintenances if i.upcoming or i.maintenance_active],
        components=components,
        chart=Markup(charts.latency_chart(view.latency, lines)),
        legend=Markup(charts.legend(lines)),
        past=_past(view),
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
