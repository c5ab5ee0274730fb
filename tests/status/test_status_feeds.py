"""The Atom feed parses with a real feed parser; the badge and the page are well-formed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import feedparser
import httpx
import pytest
from status_support import Clock, auth

from roost.status.model import ProbeResult
from roost.status.service import StatusService


async def outage(service: StatusService, clock: Clock) -> None:
    for _ in range(2):
        clock.advance(5)
        await service.record_round([ProbeResult(clock(), "home", "web", False, 3000.0, "down")])


async def test_atom_feed_parses_with_every_update(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    await outage(service, clock)
    clock.advance(60)
    made = await client.post(
        "/api/admin/incidents",
        headers=auth(),
        json={"name": "Search <slow> & odd", "body": "a < b"},
    )
    await client.post(
        f"/api/admin/incidents/{made.json()['id']}/updates",
        headers=auth(),
        json={"status": "identified", "body": "Found it: a bad index"},
    )
    response = await client.get("/history.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    titles = [e.title for e in feed.entries]
    assert titles == ["Search <slow> & odd", "Web down"]
    first = feed.entries[0]
    assert "Found it: a bad index" in first.content[0].value
    assert "a &lt; b" in first.content[0].value
    assert first.link == f"{service.url}/incidents/{made.json()['id']}"
    assert feed.entries[1].published == "2026-11-28T11:00:10.000Z"


@pytest.mark.parametrize("char", ["\u0001", "\u0000", "\u001f", "\ufffe", "\uffff", "\ud800"])
async def test_texts_the_feed_cannot_carry_are_refused(
    client: httpx.AsyncClient, char: str
) -> None:
    """XML 1.0 forbids these characters: one in a name or body would break every feed reader."""
    made = await client.post(
        "/api/admin/incidents", headers=auth(), json={"name": "Fine\ttab", "body": "ok\nline"}
    )
    assert made.status_code == 201  # tab, newline (and carriage return) are allowed
    incident = made.json()
    path = f"/api/admin/incidents/{incident['id']}/updates"
    attempts = [
        ("/api/admin/incidents", "POST", {"name": f"a{char}b", "body": "x"}, "'name'"),
        ("/api/admin/incidents", "POST", {"name": "x", "body": f"a{char}b"}, "'body'"),
        (path, "POST", {"body": f"a{char}b"}, "'body'"),
        (
            f"{path}/{incident['incident_updates'][0]['id']}",
            "PATCH",
            {"body": f"a{char}b"},
            "'body'",
        ),
    ]
    for url, method, body, field in attempts:
        sent = json.dumps(body)  # ASCII escapes: a lone surrogate is sent as JSON can carry it
        response = await client.request(method, url, headers=auth(), content=sent)
        assert response.status_code == 422, (url, body)
        error = response.json()["error"]
        assert error.startswith(f"{field} contains U+{ord(char):04X}") and "XML" in error
    feed = feedparser.parse((await client.get("/history.atom")).content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.title for e in feed.entries] == ["Fine\ttab"]


async def test_empty_feed_is_valid(client: httpx.AsyncClient) -> None:
    feed = feedparser.parse((await client.get("/feed.atom")).content)
    assert not feed.bozo and feed.entries == []


async def test_badge_is_svg_and_follows_state(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    quiet = ET.fromstring((await client.get("/badge.svg")).content)
    assert quiet.tag == "{http://www.w3.org/2000/svg}svg"
    assert "operational" in quiet.attrib["aria-label"]
    await outage(service, clock)
    down = (await client.get("/badge.svg")).text
    assert "operational" not in down and "outage" in down


async def test_page_shows_incident_bars_and_chart(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    await outage(service, clock)
    html = (await client.get("/")).text
    assert "Web down; we are determining the cause." in html
    assert html.count('class="bar"') == 90 * len(service.components)
    assert 'class="latency"' in html and 'class="failed"' in html
    assert "<script" not in html and "http://cdn" not in html
    incident_id = service.auto_incident_id
    page = await client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200 and "Web down" in page.text


async def test_atom_has_what_rfc_4287_requires(
    service: StatusService, client: httpx.AsyncClient, clock: Clock
) -> None:
    """Feed and entries carry id, title and updated; the feed an author and a self link."""
    await outage(service, clock)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring((await client.get("/history.atom")).content)
    for tag in ("a:id", "a:title", "a:updated", "a:author/a:name"):
        assert feed.find(tag, ns) is not None, tag
    assert feed.find("a:link[@rel='self']", ns) is not None
    entries = feed.findall("a:entry", ns)
    assert entries
    ids = [e.findtext("a:id", namespaces=ns) for e in entries]
    assert len(set(ids)) == len(ids) and all(i and i.startswith("tag:") for i in ids)
    for entry in entries:
        for tag in ("a:title", "a:updated", "a:content", "a:link[@rel='alternate']"):
            assert entry.find(tag, ns) is not None, tag
