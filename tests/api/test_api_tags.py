"""Followed hashtags (Mastodon 4): a tag's card, follow and unfollow, the list of followed tags,
and public posts with a followed tag in the follower's home timeline."""

from __future__ import annotations

import json
import queue

import pytest

from tests.api.conftest import bearer
from tests.support.streams import SseReader


def _home_ids(api, user) -> list[str]:
    api.drain()
    response = api.client.get("/api/v1/timelines/home", headers=user.headers)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def test_a_followed_tags_public_posts_reach_the_followers_home(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    followed = api.client.post("/api/v1/tags/Birds/follow", headers=bob.headers)
    assert followed.status_code == 200, followed.text
    assert followed.json()["name"] == "birds" and followed.json()["following"] is True
    api.client.post(f"/api/v1/accounts/{carol.id}/follow", headers=bob.headers)

    public = api.status(alice, "a heron #birds")
    unlisted = api.status(alice, "a wren #birds", visibility="unlisted")
    private = api.status(alice, "a robin #birds", visibility="private")
    other = api.status(alice, "a cat #cats")
    reblog = api.client.post(f"/api/v1/statuses/{public['id']}/reblog", headers=carol.headers)
    from_followed = api.status(carol, "a swift #birds")
    home = _home_ids(api, bob)
    assert public["id"] in home and from_followed["id"] in home
    assert home.count(public["id"]) == 1 and home.count(from_followed["id"]) == 1
    for left_out in (unlisted, private, other):
        assert left_out["id"] not in home
    # carol's reblog reaches bob because he follows carol, not through the tag
    assert reblog.json()["id"] in home

    assert api.client.post("/api/v1/tags/birds/unfollow", headers=bob.headers).json() == {
        **api.client.get("/api/v1/tags/birds", headers=bob.headers).json(),
        "following": False,
    }
    later = api.status(alice, "an owl #birds")
    home = _home_ids(api, bob)
    assert later["id"] not in home and public["id"] in home  # what came stays, as in Mastodon


def test_hidden_authors_and_deleted_posts_stay_out_of_the_home_timeline(api):
    alice, bob, dave = api.user("alice"), api.user("bob"), api.user("dave")
    api.client.post("/api/v1/tags/birds/follow", headers=bob.headers)
    api.client.post(f"/api/v1/accounts/{dave.id}/mute", headers=bob.headers)
    muted = api.status(dave, "a gull #birds")
    kept = api.status(alice, "a kite #birds")
    gone = api.status(alice, "a tern #birds")
    assert _home_ids(api, bob)[:2] == [gone["id"], kept["id"]]
    assert muted["id"] not in _home_ids(api, bob)
    assert api.client.delete(f"/api/v1/statuses/{gone['id']}", headers=alice.headers).is_success
    assert _home_ids(api, bob) == [kept["id"]]


def test_a_tags_card_counts_this_weeks_public_use(api):
    alice, bob = api.user("alice"), api.user("bob")
    assert api.client.get("/api/v1/tags/birds").status_code == 404  # nobody used it yet
    api.status(alice, "one #birds")
    api.status(alice, "two #Birds")
    api.status(bob, "three #birds")
    api.status(bob, "quiet #birds", visibility="private")
    card = api.client.get("/api/v1/tags/%23Birds")
    assert card.status_code == 200, card.text
    found = card.json()
    assert found["name"] == "birds" and found["url"] == "http://roost.test/tags/birds"
    assert found["following"] is False
    assert len(found["history"]) == 7
    today, *earlier = found["history"]
    assert (today["uses"], today["accounts"]) == ("3", "2")
    assert all((day["uses"], day["accounts"]) == ("0", "0") for day in earlier)
    days = [int(day["day"]) for day in found["history"]]
    assert days == sorted(days, reverse=True) and days[0] - days[1] == 86400
    assert api.client.get("/api/v1/tags/birds", headers=bob.headers).json()["following"] is False


@pytest.mark.parametrize("name", ["no-dash", "123", "%20", "a" * 101])
def test_names_that_cannot_be_tags_are_not_found(api, name):
    bob = api.user("bob")
    for method, path in (("GET", ""), ("POST", "/follow"), ("POST", "/unfollow")):
        response = api.client.request(method, f"/api/v1/tags/{name}{path}", headers=bob.headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "Record not found"


def test_following_twice_is_once_and_unused_tags_can_be_followed(api):
    bob = api.user("bob")
    for _ in range(2):
        response = api.client.post("/api/v1/tags/kestrels/follow", headers=bob.headers)
        assert response.status_code == 200 and response.json()["following"] is True
    listed = api.client.get("/api/v1/followed_tags", headers=bob.headers).json()
    assert [t["name"] for t in listed] == ["kestrels"]
    assert api.client.get("/api/v1/tags/kestrels", headers=bob.headers).json()["following"]
    missing = api.client.post("/api/v1/tags/neverused/unfollow", headers=bob.headers)
    assert missing.status_code == 404


def test_followed_tags_are_paged_newest_first_with_links(api):
    bob = api.user("bob")
    names = [f"tag{letter}" for letter in "abcde"]
    for name in names:
        api.client.post(f"/api/v1/tags/{name}/follow", headers=bob.headers)
    first = api.client.get("/api/v1/followed_tags?limit=2", headers=bob.headers)
    assert [t["name"] for t in first.json()] == ["tage", "tagd"]
    assert all(t["following"] for t in first.json())
    following = first.links["next"]["url"]
    api.status(bob, "about #tagc")
    second = api.client.get(following, headers=bob.headers)
    assert [t["name"] for t in second.json()] == ["tagc", "tagb"]
    assert [t["history"][0]["uses"] for t in second.json()] == ["1", "0"]  # one query, each own
    third = api.client.get(second.links["next"]["url"], headers=bob.headers)
    assert [t["name"] for t in third.json()] == ["taga"]


def test_tags_need_the_right_token(api):
    bob = api.user("bob")
    api.client.post("/api/v1/tags/birds/follow", headers=bob.headers)
    assert api.client.get("/api/v1/followed_tags").status_code == 401
    assert api.client.post("/api/v1/tags/birds/follow").status_code == 401
    reader = bearer(api.token_for(bob, "read"))
    assert api.client.get("/api/v1/followed_tags", headers=reader).status_code == 200
    refused = api.client.post("/api/v1/tags/birds/unfollow", headers=reader)
    assert refused.status_code == 403 and "error" in refused.json()
    writer = bearer(api.token_for(bob, "write:follows"))
    assert api.client.get("/api/v1/followed_tags", headers=writer).status_code == 403
    assert api.client.post("/api/v1/tags/birds/unfollow", headers=writer).status_code == 200
    legacy = bearer(api.token_for(bob, "follow"))  # Mastodon's old scope covers both
    assert api.client.post("/api/v1/tags/birds/follow", headers=legacy).status_code == 200


def test_a_tag_follower_with_a_stream_open_is_streamed_the_post_once(live_api):
    base = live_api.server.url + "/api/v1/streaming"
    alice, bob, carol = live_api.user("alice"), live_api.user("bob"), live_api.user("carol")
    for follower in (bob, carol):
        live_api.client.post("/api/v1/tags/birds/follow", headers=follower.headers)
    live_api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers)
    streams = {
        name: SseReader(base + "/user", who.headers)
        for name, who in [("bob", bob), ("carol", carol)]
    }
    try:
        untagged = live_api.status(alice, "no tag here")
        post = live_api.status(alice, "a heron #birds")
        kind, data = streams["bob"].next(kinds=("update",))
        assert kind == "update" and json.loads(data)["id"] == post["id"]  # not the untagged one
        seen = [json.loads(streams["carol"].next(kinds=("update",))[1])["id"] for _ in range(2)]
        assert seen == [untagged["id"], post["id"]]  # through the follow, once
        with pytest.raises(queue.Empty):
            streams["carol"].next(timeout=0.5, kinds=("update",))
    finally:
        for stream in streams.values():
            stream.close()
