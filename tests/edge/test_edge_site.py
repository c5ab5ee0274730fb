"""Roost behind its edge: a real `roost serve` with the shield, a real HAProxy in front of it.

What the edge must do for the site (issue 11): say who the client is (and only it), enforce the
blocks the shield decides, challenge browsers when under attack and nothing that cannot solve a
challenge, cut slow clients, refuse bad input cheaply, and serve anonymous pages from its cache.
"""

from __future__ import annotations

import dataclasses
import http.client
import socket
import time
from pathlib import Path

import httpx
import pytest

from roost.config import ShieldSettings
from roost.edge.render import servers_from
from roost.shield.challenge import solve
from tests.edge.conftest import Edge, edge_settings, plan_edge
from tests.support.servers import LiveServer
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


@dataclasses.dataclass
class Site:
    server: LiveServer
    edge: Edge
    mode_file: Path

    @property
    def url(self) -> str:
        return self.edge.url


@pytest.fixture
def site(tmp_path, live_server_factory, edge_factory) -> Site:
    """`roost serve` behind an edge that cuts slow clients (headers, bodies) after 1 s."""
    plan = plan_edge(tmp_path, ["127.0.0.1:1"])
    mode_file = tmp_path / "shield-mode"
    server = live_server_factory(
        ROOST_SHIELD_TRUSTED_PROXIES="127.0.0.1/32",
        ROOST_EDGE_RUNTIME=str(plan.socket),
        ROOST_SHIELD_MODE_FILE=str(mode_file),
        ROOST_SHIELD_HEADER_TIMEOUT="1",
    )
    plan = dataclasses.replace(plan, servers=servers_from([f"127.0.0.1:{server.port}"]))
    settings = edge_settings(shield=ShieldSettings(header_timeout=1.0, body_timeout=1.0))
    return Site(server, edge_factory([], settings, plan), mode_file)


# The edge's maps change on the shield's next tick(s): ten seconds is plenty.
BLOCKED = {"what": "the prefix in the edge's blocked map", "seconds": 10, "interval": 0.1}
FREED = {"what": "the prefix gone from the edge's blocked map", "seconds": 10, "interval": 0.1}
ATTACK = {"what": "attack mode in the edge's mode map", "seconds": 10, "interval": 0.1}


def get_from(source: str, port: int, path: str, headers: dict | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("GET", path, headers=headers or {})
        return conn.getresponse().status
    finally:
        conn.close()


def test_the_site_hears_the_client_from_the_edge_and_no_one_else(site: Site) -> None:
    # The admin view answers only the machine itself; a client claiming to be it is not.
    claims = {"X-Forwarded-For": "127.0.0.1", "Forwarded": "for=127.0.0.1", "X-Real-IP": "::1"}
    assert get_from("127.77.0.5", site.edge.port, "/-/shield", claims) == 404
    assert get_from("127.0.0.1", site.edge.port, "/-/shield") == 200


def test_a_block_the_shield_decides_is_enforced_by_the_edge(site: Site) -> None:
    blocked_map = site.edge.plan.map_path("blocked")
    reply = httpx.post(site.url + "/-/shield/block", data={"key": "127.88.0.0/24", "seconds": "60"})
    assert reply.status_code == 200
    wait_until(lambda: "127.88.0.0/24" in site.edge.call(f"show map {blocked_map}"), **BLOCKED)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        get_from("127.88.0.9", site.edge.port, "/health")
    assert get_from("127.89.0.9", site.edge.port, "/health") == 200  # the next prefix is fine
    reply = httpx.post(site.url + "/-/shield/block", data={"key": "127.88.0.0/24", "seconds": "0"})
    wait_until(lambda: "127.88.0.0" not in site.edge.call(f"show map {blocked_map}"), **FREED)
    assert get_from("127.88.0.9", site.edge.port, "/health") == 200


def test_under_attack_the_edge_challenges_browsers_and_nothing_else(site: Site) -> None:
    site.mode_file.write_text("on")
    mode_map = site.edge.plan.map_path("mode")
    wait_until(lambda: "attack 1" in site.edge.call(f"show map {mode_map}"), **ATTACK)
    headers = {"Accept": "text/html", "User-Agent": "Mozilla/5.0 (test)"}
    with httpx.Client(base_url=site.url, headers=headers) as browser:
        page = browser.get("/public")
        assert page.status_code == 403
        puzzle = page.headers["x-roost-challenge"]
        assert 'name="next" value="/public"' in page.text
        form = {"challenge": puzzle, "answer": solve(puzzle), "next": "/public"}
        answer = browser.post("/-/shield/verify", data=form)
        assert answer.status_code == 303 and answer.headers["location"] == "/public"
        assert browser.get("/public").status_code == 200  # the site's pass is good at the edge
    # What cannot solve a challenge is never sent one.
    assert httpx.get(site.url + "/api/v1/timelines/public").status_code == 200
    feed = httpx.get(site.url + "/public", headers={"Accept": "application/atom+xml"})
    assert feed.status_code != 403
    assert httpx.get(site.url + "/login", headers={"Accept": "text/html"}).status_code == 200


def test_a_slow_client_is_cut_by_the_edge(site: Site) -> None:
    with socket.create_connection(("127.0.0.1", site.edge.port), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: roost\r\nX-Slow: ")
        started = time.monotonic()
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 4
        while answer:  # and closed
            answer = sock.recv(4096)
    snapshot = httpx.get(site.server.url + "/-/shield").json()
    assert snapshot["gate"]["slow_closes"] == 0  # the site never saw it


def test_anonymous_pages_come_from_the_edge_cache(site: Site) -> None:
    first = httpx.get(site.url + "/public")
    again = httpx.get(site.url + "/public")
    assert first.status_code == again.status_code == 200
    assert "age" in again.headers and "age" not in first.headers
    assert "x-ratelimit-remaining" not in again.headers  # nobody else's count
    assert again.headers["vary"] == "Cookie, Origin"


@pytest.mark.parametrize(
    "request_bytes, statuses",
    [
        (b"GARBAGE\r\n\r\n", (400,)),
        (b"GET / HTTP/1.1\r\nHost: r\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n", (400, 431)),
        (b"POST /api/v1/statuses HTTP/1.1\r\nHost: r\r\nContent-Length: 99999999\r\n\r\n", (413,)),
        (b"POST /login HTTP/1.1\r\nHost: r\r\nContent-Length: 100\r\n\r\nshort", (408, 400)),
    ],
    ids=["request-line", "headers", "declared-body", "short-body"],
)
def test_bad_input_is_refused_at_the_edge(site: Site, request_bytes: bytes, statuses) -> None:
    with socket.create_connection(("127.0.0.1", site.edge.port), timeout=5) as sock:
        sock.sendall(request_bytes)
        answer = sock.recv(4096)
    assert int(answer.split(b" ")[1]) in statuses, answer[:200]
    assert "Traceback" not in site.server.log.read_text()
