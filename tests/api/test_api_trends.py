"""Trending posts (favourites and reposts from accounts in good standing, decayed) and links."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roost.services import accounts
from tests.api.conftest import Api, bearer, make_api


@pytest.fixture
def trends_api(database_url: str) -> Iterator[Api]:
    """The site with every account old enough to count and trends computed on every read."""
    yield from make_api(database_url, trends_account_age=0, trends_refresh=0)


def _trending(api, query: str = "", user=None) -> list[str]:
    headers = user.headers if user else {}
    response = api.client.get(f"/api/v1/trends/statuses{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def _favourite(api, user, post) -> None:
    done = api.client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=user.headers)
    assert done.status_code == 200, done.text


def _suspend(api, username: str) -> None:
    ctx = api.client.app.state.ctx

    async def work():
        async with ctx.db.write() as tx:
            await accounts.set_suspended(tx, username, True)

    api.client.portal.call(work)


def test_posts_trend_by_favourites_and_reposts(trends_api):
    api = trends_api
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    quiet = api.status(alice, "nobody cares")
    liked = api.status(alice, "one like")
    loved = api.status(bob, "liked and reposted")
    _favourite(api, carol, liked)
    _favourite(api, alice, loved)
    _favourite(api, carol, loved)
    api.client.post(f"/api/v1/statuses/{loved['id']}/reblog", headers=carol.headers)
    _favourite(api, alice, liked)  # her own post: does not count
    assert _trending(api) == [loved["id"], liked["id"]]
    assert quiet["id"] not in _trending(api)
    assert _trending(api, "?limit=1") == [loved["id"]]
    assert _trending(api, "?limit=1&offset=1") == [liked["id"]]
    assert _trending(api, "?offset=2") == []
    entity = api.client.get("/api/v1/trends/statuses", headers=carol.headers).json()[0]
    assert entity["favourited"] is True and entity["reblogged"] is True


def test_only_public_original_posts_of_good_accounts_trend(trends_api):
    api = trends_api
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    unlisted = api.status(alice, "unlisted", visibility="unlisted")
    private = api.status(alice, "followers", visibility="private")
    public = api.status(alice, "public")
    reply = api.status(carol, "a reply", in_reply_to_id=public["id"])
    spammer = api.status(carol, "buy now")
    for post in (unlisted, private, public, reply, spammer):
        _favourite(api, bob, post)
    assert _trending(api) == [spammer["id"], public["id"]]
    _suspend(api, "carol")
    assert _trending(api) == [public["id"]]
    api.client.post(f"/api/v1/accounts/{alice.id}/block", headers=bob.headers)
    assert _trending(api, user=bob) == [] and _trending(api) == [public["id"]]


def test_new_accounts_neither_trend_nor_push_posts_into_trends(api):
    alice, bob = api.user("alice"), api.user("bob")
    post = api.status(alice, "from a minutes-old account")
    _favourite(api, bob, post)
    assert _trending(api) == []  # both accounts are younger than a day


def test_trends_are_computed_once_per_refresh_period(database_url):
    site = make_api(database_url, trends_account_age=0)  # refresh: the default minute
    api = next(site)
    alice, bob = api.user("alice"), api.user("bob")
    first = api.status(alice, "early")
    _favourite(api, bob, first)
    assert _trending(api) == [first["id"]]
    later = api.status(alice, "later")
    _favourite(api, bob, later)
    assert _trending(api) == [first["id"]]  # the kept ranking, until the minute is over
    for _ in site:
        pass


def test_trends_check_parameters_and_scopes(trends_api):
    api = trends_api
    alice = api.user("alice")
    bad = api.client.get("/api/v1/trends/statuses?limit=many")
    assert bad.status_code == 422 and "limit" in bad.json()["error"]
    bad_offset = api.client.get("/api/v1/trends/statuses?offset=x")
    assert bad_offset.status_code == 422
    push_only = bearer(api.token_for(alice, "push"))
    assert api.client.get("/api/v1/trends/statuses", headers=push_only).status_code == 403
    bogus = {"Authorization": "Bearer nonsense"}
    assert api.client.get("/api/v1/trends/statuses", headers=bogus).status_code == 401


def test_no_link_trends_without_posts_with_cards(api):
    """(Links with cards trend: tests/api/test_api_cards.py.)"""
    assert api.client.get("/api/v1/trends/links").json() == []
    assert api.client.get("/api/v1/trends/links?limit=5&offset=3").json() == []
    assert api.client.get("/api/v1/trends/links?limit=x").status_code == 422


def _tags(api) -> list[str]:
    response = api.client.get("/api/v1/trends/tags")
    assert response.status_code == 200, response.text
    return [t["name"] for t in response.json()]


def test_tags_trend_by_people_in_public_posts_from_accounts_in_good_standing(trends_api):
    alice, bob, carol = (trends_api.user(n) for n in ("alice", "bob", "carol"))
    for n in range(5):  # one person shouting a tag
        trends_api.status(alice, f"#shouted {n}")
    for who in (bob, carol):  # two people using one
        trends_api.status(who, "#shared")
    trends_api.status(bob, "#secret", visibility="private")
    trends_api.status(bob, "#quiet", visibility="unlisted")
    assert _tags(trends_api) == ["shared", "shouted"]  # people first; private and unlisted: none
    week = trends_api.client.get("/api/v1/trends/tags").json()[0]["history"]
    assert len(week) == 7 and (week[0]["uses"], week[0]["accounts"]) == ("2", "2")
    _suspend(trends_api, "carol")
    _suspend(trends_api, "bob")
    assert _tags(trends_api) == ["shouted"]


def test_brand_new_accounts_do_not_make_tags_trend(api):
    """The default: accounts younger than a day do not count."""
    api.status(api.user("alice"), "#fresh")
    assert _tags(api) == []
