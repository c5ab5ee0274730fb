"""Media files behind the edge: cached for everyone alike (signed in or not), never challenged."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from roost.edge.render import servers_from
from roost.store.media_files import new_key
from tests.edge.conftest import edge_settings, plan_edge
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def test_media_come_from_the_edge_cache_and_are_never_challenged(
    tmp_path, live_server_factory, edge_factory
) -> None:
    plan = plan_edge(tmp_path, ["127.0.0.1:1"])
    mode_file = tmp_path / "shield-mode"
    server = live_server_factory(
        ROOST_SHIELD_TRUSTED_PROXIES="127.0.0.1/32",
        ROOST_EDGE_RUNTIME=str(plan.socket),
        ROOST_SHIELD_MODE_FILE=str(mode_file),
    )
    plan = dataclasses.replace(plan, servers=servers_from([f"127.0.0.1:{server.port}"]))
    edge = edge_factory([], edge_settings(), plan)
    key = new_key("original", "png")
    path = tmp_path / "roost-media" / key  # beside the live server's SQLite database
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x89PNG picture")

    browser = {"Accept": "text/html", "Cookie": "roost_session=someone", "User-Agent": "Mozilla/5"}
    first = httpx.get(f"{edge.url}/media/{key}", headers=browser)
    again = httpx.get(f"{edge.url}/media/{key}", headers=browser)
    assert first.status_code == again.status_code == 200 and again.content == b"\x89PNG picture"
    assert "age" in again.headers and "age" not in first.headers
    assert again.headers["cache-control"] == "public, max-age=31536000, immutable"

    mode_file.write_text("on")
    mode_map = edge.plan.map_path("mode")
    wait_until(lambda: "attack 1" in edge.call(f"show map {mode_map}"), "attack mode", 10, 0.1)
    page = httpx.get(f"{edge.url}/public", headers={"Accept": "text/html", "User-Agent": "M/5"})
    assert page.status_code == 403  # a page is challenged now; a picture opened alone is not
    # a link-preview fetcher reading a profile's OpenGraph meta is not (roost.shield.fetchers)
    fetcher = {"Accept": "text/html", "User-Agent": "facebookexternalhit/1.1"}
    assert httpx.get(f"{edge.url}/@nobody", headers=fetcher).status_code == 404  # the site's
    assert httpx.get(f"{edge.url}/public", headers=fetcher).status_code == 403
    other = new_key("small", "png")
    (tmp_path / "roost-media" / other).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "roost-media" / other).write_bytes(b"small")
    assert httpx.get(f"{edge.url}/media/{other}", headers=browser).status_code == 200
    image = {"Accept": "image/avif,image/webp,*/*", "User-Agent": "M/5"}
    assert httpx.get(f"{edge.url}/media/{other}", headers=image).status_code == 200


def test_an_upload_passes_the_edge_and_other_large_bodies_do_not(
    tmp_path, live_server_factory, edge_factory
) -> None:
    """The edge's body limit is ROOST_SHIELD_MAX_BODY_BYTES (1 MB) but for the upload paths,
    which take ROOST_SHIELD_MAX_UPLOAD_BYTES: a 3 MB photo reaches the site through it."""
    from tests.api.conftest import Api
    from tests.support import pictures

    plan = plan_edge(tmp_path, ["127.0.0.1:1"])
    server = live_server_factory(
        ROOST_SHIELD_TRUSTED_PROXIES="127.0.0.1/32", ROOST_EDGE_RUNTIME=str(plan.socket)
    )
    plan = dataclasses.replace(plan, servers=servers_from([f"127.0.0.1:{server.port}"]))
    edge = edge_factory([], edge_settings(), plan)
    with httpx.Client(base_url=server.url, timeout=30) as direct:
        alice = Api(direct).user("alice")
    photo = pictures.noisy_jpeg(1800, 1400)
    assert len(photo) > 1_000_000
    with httpx.Client(base_url=edge.url, timeout=60) as client:
        sent = client.post(
            "/api/v2/media", files={"file": ("big.jpg", photo, "image/jpeg")}, headers=alice.headers
        )
        assert sent.status_code == 200, sent.text
        too_big = client.post(
            "/api/v1/statuses",
            content=b"x" * 1_500_000,
            headers={**alice.headers, "Content-Type": "application/json"},
        )
        assert too_big.status_code == 413
