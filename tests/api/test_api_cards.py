"""Link preview cards through the API, against a real page server on 127.0.0.1: a post's card
comes within seconds, one fetch serves every post linking a URL, nothing is fetched from
inside the network without an allow-list, and shared links trend. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from roost.config import MediaSettings
from tests.api.conftest import Api, make_api
from tests.support.pages import PageServer

CARD_KEYS = {
    "url",
    "title",
    "description",
    "language",
    "type",
    "author_name",
    "author_url",
    "provider_name",
    "provider_url",
    "html",
    "width",
    "height",
    "image",
    "image_description",
    "embed_url",
    "blurhash",
    "published_at",
    "authors",
}


@pytest.fixture
def pages() -> Iterator[PageServer]:
    server = PageServer().start()
    yield server
    server.stop()


def _api(database_url: str, **media) -> Iterator[Api]:
    settings = {"preview_host_rate": 100.0, **media}
    yield from make_api(
        database_url,
        media=MediaSettings(**settings),
        trends_account_age=0,
        trends_refresh=0,
    )


@pytest.fixture
def card_api(database_url: str) -> Iterator[Api]:
    """The site with the page server's address allowed, on both databases."""
    yield from _api(database_url, preview_allow_hosts=["127.0.0.1"])


def _card(api: Api, user, status_id: str, within: float = 10.0) -> dict | None:
    """The post's card once it has one (polled, at most ``within`` seconds)."""
    deadline = time.monotonic() + within
    while True:
        found = api.client.get(f"/api/v1/statuses/{status_id}", headers=user.headers)
        assert found.status_code == 200, found.text
        card = found.json()["card"]
        if card is not None or time.monotonic() > deadline:
            return card
        time.sleep(0.05)


def _settle(api: Api, within: float = 10.0) -> None:
    """Wait until no card job is left in flight."""
    cards = api.client.app.state.ctx.extras.get("cards")  # type: ignore[attr-defined]
    deadline = time.monotonic() + within
    while cards is not None and cards.jobs and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cards is None or not cards.jobs


def test_a_post_gets_the_card_of_its_first_link(card_api, pages):
    api = card_api
    alice = api.user("alice")
    url = f"{pages.base}/page/one"
    posted = api.status(alice, f"look #birds @nobody {url}#part and {pages.base}/page/two")
    started = time.monotonic()
    card = _card(api, alice, posted["id"])
    assert card is not None and time.monotonic() - started < 10
    assert set(card) == CARD_KEYS
    assert card["url"] == url  # the fragment dropped
    assert card["title"] == "Page one" and card["description"] == "About one & more"
    assert card["provider_name"] == "Pages Test" and card["author_name"] == "Ada"
    assert card["language"] == "fr" and card["type"] == "link"
    assert card["image"] is None and card["html"] == "" and card["width"] == 0
    assert card["blurhash"] is None and card["authors"] == []
    assert pages.paths() == ["/page/one"]
    api.drain()
    home = api.client.get("/api/v1/timelines/home", headers=alice.headers).json()
    assert home[0]["card"] == card


def test_twenty_posts_of_one_link_make_one_fetch(card_api, pages):
    api = card_api
    people = [api.user(f"user{n}") for n in range(4)]
    url = f"{pages.base}/page/popular"
    ids = [(who, api.status(who, f"{url} ({n})")["id"]) for n in range(5) for who in people]
    for who, status_id in ids:
        card = _card(api, who, status_id)
        assert card is not None and card["title"] == "Page popular"
    assert pages.paths() == ["/page/popular"]


def test_a_page_without_og_tags_gives_its_title_and_description(card_api, pages):
    alice = card_api.user("alice")
    posted = card_api.status(alice, f"{pages.base}/plain/x")
    card = _card(card_api, alice, posted["id"])
    assert card is not None and card["title"] == "Plain x" and card["description"] == "plain"


def test_what_is_not_a_page_gets_no_card(card_api, pages):
    alice = card_api.user("alice")
    picture = card_api.status(alice, f"{pages.base}/image")
    missing = card_api.status(alice, f"{pages.base}/nothing/here")
    _settle(card_api)
    assert _card(card_api, alice, picture["id"], within=0) is None
    assert _card(card_api, alice, missing["id"], within=0) is None
    assert sorted(pages.paths()) == ["/image", "/nothing/here"]
    again = card_api.status(alice, f"{pages.base}/image")  # a failure is remembered
    _settle(card_api)
    assert _card(card_api, alice, again["id"], within=0) is None
    assert len(pages.seen) == 2


def test_an_edit_to_another_link_changes_the_card(card_api, pages):
    api = card_api
    alice = api.user("alice")
    posted = api.status(alice, f"first {pages.base}/page/before")
    assert _card(api, alice, posted["id"])["title"] == "Page before"
    edited = api.client.put(
        f"/api/v1/statuses/{posted['id']}",
        json={"status": f"then {pages.base}/page/after"},
        headers=alice.headers,
    )
    assert edited.status_code == 200, edited.text
    deadline = time.monotonic() + 10
    while _card(api, alice, posted["id"])["title"] != "Page after":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    unlinked = api.client.put(
        f"/api/v1/statuses/{posted['id']}", json={"status": "no link"}, headers=alice.headers
    )
    assert unlinked.status_code == 200 and unlinked.json()["card"] is None
    assert _card(api, alice, posted["id"], within=0) is None


def test_links_trend_by_the_people_sharing_them(card_api, pages):
    api = card_api
    alice, bob, carol, dave = (api.user(n) for n in ("alice", "bob", "carol", "dave"))
    shared, shouted = f"{pages.base}/page/shared", f"{pages.base}/page/shouted"
    posts = [(who, api.status(who, f"see {shared}")) for who in (alice, bob, carol)]
    posts += [(dave, api.status(dave, f"me again {shouted} {n}")) for n in range(4)]
    posts.append((dave, api.status(dave, f"{shared} privately", visibility="private")))
    for who, posted in posts:
        assert _card(api, who, posted["id"]) is not None
    found = api.client.get("/api/v1/trends/links")
    assert found.status_code == 200, found.text
    links = found.json()
    assert [link["url"] for link in links] == [shared, shouted]
    assert set(links[0]) == CARD_KEYS | {"history"}
    today = links[0]["history"][0]
    assert len(links[0]["history"]) == 7 and (today["uses"], today["accounts"]) == ("3", "3")
    assert (links[1]["history"][0]["uses"], links[1]["history"][0]["accounts"]) == ("4", "1")
    paged = api.client.get("/api/v1/trends/links?limit=1&offset=1").json()
    assert [link["url"] for link in paged] == [shouted]
    assert api.client.get("/api/v1/trends/links?limit=x").status_code == 422


@pytest.fixture
def guarded_api(database_url: str) -> Iterator[Api]:
    """The site with the default settings: no host allowed at a private address."""
    yield from _api(database_url)


def test_nothing_inside_the_network_is_fetched_by_default(guarded_api, pages):
    api = guarded_api
    alice = api.user("alice")
    port = pages.port
    ids = [
        api.status(alice, f"{url}/page/inside")["id"]
        for url in (
            f"http://127.0.0.1:{port}",
            f"http://localhost:{port}",  # a name resolving to loopback
            f"http://[::1]:{port}",
            "http://localhost",  # and on port 80, where the address rule decides
            "http://169.254.169.254",
        )
    ]
    _settle(api)
    assert pages.seen == []
    assert all(_card(api, alice, status_id, within=0) is None for status_id in ids)


def test_no_card_is_fetched_when_cards_are_off(sqlite_url, pages):
    for api in _api(sqlite_url, preview_cards=False, preview_allow_hosts=["127.0.0.1"]):
        alice = api.user("alice")
        posted = api.status(alice, f"{pages.base}/page/off")
        time.sleep(0.5)
        assert "cards" not in api.client.app.state.ctx.extras
        assert _card(api, alice, posted["id"], within=0) is None
        assert pages.seen == []
