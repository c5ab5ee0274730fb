"""The Atom feed of incidents and their updates, and the SVG status badge."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

from roost.status import statuspage
from roost.status.model import Incident, iso
from roost.status.view import View

_BADGE_COLOURS = {
    "none": "#2fcc66",
    "minor": "#f1c40f",
    "major": "#e67e22",
    "critical": "#e74c3c",
    "maintenance": "#3498db",
    "waiting": "#9ca3af",
}
_BADGE_WORDS = {
    "none": "operational",
    "minor": "degraded",
    "major": "partial outage",
    "critical": "major outage",
    "maintenance": "maintenance",
    "waiting": "waiting",
}


def atom(view: View) -> str:
    """One entry per incident (newest 50), its content the timeline of updates, newest first."""
    base = view.url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    entries = "".join(_entry(view, i, base, host) for i in view.incidents[:50])
    updated = max((i.updated_at for i in view.incidents), default=view.updated_at or view.now)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f"<id>tag:{host},2026:status</id>"
        f"<title>{xml_escape(view.name)} status: incident history</title>"
        f"<updated>{iso(updated)}</updated>"
        f'<link rel="alternate" type="text/html" href="{xml_escape(base)}/"/>'
        f'<link rel="self" type="application/atom+xml" href="{xml_escape(base)}/history.atom"/>'
        f"<author><name>{xml_escape(view.name)} status</name></author>"
        f"{entries}</feed>\n"
    )


def _entry(view: View, incident: Incident, base: str, host: str) -> str:
    html = "".join(
        f"<p><small>{u.created_at:%b %d, %H:%M:%S UTC}</small><br>"
        f"<strong>{escape(u.status.replace('_', ' ').capitalize())}</strong> - {escape(u.body)}</p>"
        for u in reversed(incident.updates)
    )
    return (
        "<entry>"
        f"<id>tag:{host},2026:incident/{incident.id}</id>"
        f"<published>{iso(incident.created_at)}</published>"
        f"<updated>{iso(incident.updated_at)}</updated>"
        f'<link rel="alternate" type="text/html"'
        f' href="{xml_escape(base)}/incidents/{incident.id}"/>'
        f"<title>{xml_escape(incident.name)}</title>"
        f'<content type="html">{xml_escape(html)}</content>'
        "</entry>"
    )


def badge(view: View) -> str:
    """A shields-style badge: "status | operational", coloured by the overall indicator
    ("status | waiting", grey, while start-up probes are held)."""
    value = statuspage.shown_indicator(view)
    label, words, colour = "status", _BADGE_WORDS[value], _BADGE_COLOURS[value]
    left, right = 6 * len(label) + 10, 6 * len(words) + 10
    width = left + right
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img"'
        f' aria-label="{label}: {words}"><title>{label}: {words}</title>'
        f'<rect width="{left}" height="20" rx="3" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" rx="3" fill="{colour}"/>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif"'
        f' font-size="11"><text x="{left / 2}" y="14">{label}</text>'
        f'<text x="{left + right / 2}" y="14">{words}</text></g></svg>'
    )
