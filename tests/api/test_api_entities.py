"""Entity shapes: every field Mastodon marks required, in its type; ids as strings; ISO times."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.api.conftest import make_api

ACCOUNT = {
    "id": str,
    "username": str,
    "acct": str,
    "url": str,
    "display_name": str,
    "note": str,
    "avatar": str,
    "avatar_static": str,
    "header": str,
    "header_static": str,
    "locked": bool,
    "fields": list,
    "emojis": list,
    "bot": bool,
    "group": bool,
    "created_at": "iso",
    "statuses_count": int,
    "followers_count": int,
    "following_count": int,
}
STATUS = {
    "id": str,
    "uri": str,
    "created_at": "iso",
    "account": dict,
    "content": str,
    "visibility": str,
    "sensitive": bool,
    "spoiler_text": str,
    "media_attachments": list,
    "mentions": list,
    "tags": list,
    "emojis": list,
    "reblogs_count": int,
    "favourites_count": int,
    "replies_count": int,
    "url": str,
    "favourited": bool,
    "reblogged": bool,
    "bookmarked": bool,
    "muted": bool,
}
NOTIFICATION = {"id": str, "type": str, "created_at": "iso", "account": dict}
RELATIONSHIP = {
    "id": str,
    "following": bool,
    "showing_reblogs": bool,
    "notifying": bool,
    "followed_by": bool,
    "blocking": bool,
    "blocked_by": bool,
    "muting": bool,
    "muting_notifications": bool,
    "requested": bool,
    "domain_blocking": bool,
    "endorsed": bool,
    "note": str,
}
TAG = {"name": str, "url": str, "history": list}


def check(entity: dict, shape: dict) -> None:
    for key, kind in shape.items():
        assert key in entity, f"missing {key}"
        if kind == "iso":
            assert isinstance(entity[key], str), key
            datetime.fromisoformat(entity[key].replace("Z", "+00:00"))
        else:
            assert isinstance(entity[key], kind), (key, entity[key])


def check_status(entity: dict) -> None:
    check(entity, STATUS)
    check(entity["account"], ACCOUNT)
    assert "scheduled_at" not in entity  # toot crashes on the key, even null
    for key in ("in_reply_to_id", "in_reply_to_account_id"):
        assert entity[key] is None or isinstance(entity[key], str)
    for mention in entity["mentions"]:
        assert isinstance(mention["id"], str) and "@" not in mention["acct"]
    if entity["reblog"] is not None:
        check_status(entity["reblog"])


def test_statuses_accounts_and_threads(api):
    alice, bob = api.user("alice"), api.user("bob")
    root = api.status(alice, "Hello #Roost, @bob <b>escaped</b>", spoiler_text="cw")
    check_status(root)
    assert root["account"]["acct"] == "alice"
    assert root["tags"][0]["name"] == "roost"
    assert root["mentions"][0]["id"] == bob.id
    assert "&lt;b&gt;" in root["content"]
    reply = api.status(bob, "@alice hi", in_reply_to_id=root["id"])
    check_status(reply)
    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == alice.id
    context = api.client.get(f"/api/v1/statuses/{root['id']}/context").json()
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    assert context["ancestors"] == []
    reblog = api.client.post(f"/api/v1/statuses/{root['id']}/reblog", headers=bob.headers).json()
    check_status(reblog)
    assert reblog["reblog"]["id"] == root["id"] and reblog["reblogged"] is True
    shown = api.client.get(f"/api/v1/statuses/{root['id']}", headers=bob.headers).json()
    check_status(shown)
    assert shown["reblogged"] is True and shown["reblogs_count"] == 1
    profile = api.client.get(f"/api/v1/accounts/{alice.id}").json()
    check(profile, ACCOUNT)
    assert profile["statuses_count"] == 1
    me = api.client.get("/api/v1/accounts/verify_credentials", headers=alice.headers).json()
    check(me, ACCOUNT)
    assert isinstance(me["source"], dict) and "privacy" in me["source"]


@pytest.fixture
def api(database_url: str):
    """The site with trends counting brand-new accounts (the tests' people are seconds old)."""
    yield from make_api(database_url, trends_account_age=0)


def test_notifications_relationships_search(api):
    alice, bob = api.user("alice"), api.user("bob")
    rel = api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers).json()
    check(rel, RELATIONSHIP)
    assert rel["following"] is True
    post = api.status(alice, "about #gardening")
    api.client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=bob.headers)
    found = api.client.get("/api/v1/notifications", headers=alice.headers).json()
    assert {n["type"] for n in found} == {"follow", "favourite"}
    for notification in found:
        check(notification, NOTIFICATION)
        check(notification["account"], ACCOUNT)
        if notification["type"] == "favourite":
            check_status(notification["status"])
    one = api.client.get(f"/api/v1/notifications/{found[0]['id']}", headers=alice.headers)
    assert one.json()["id"] == found[0]["id"]
    rels = api.client.get(
        "/api/v1/accounts/relationships", params={"id[]": alice.id}, headers=bob.headers
    ).json()
    check(rels[0], RELATIONSHIP)
    results = api.client.get(
        "/api/v2/search", params={"q": "gardening", "resolve": "true"}, headers=bob.headers
    ).json()
    assert set(results) == {"accounts", "statuses", "hashtags"}
    check(results["hashtags"][0], TAG)
    check_status(results["statuses"][0])
    people = api.client.get("/api/v2/search", params={"q": "ALICE", "type": "accounts"}).json()
    check(people["accounts"][0], ACCOUNT)
    trends = api.client.get("/api/v1/trends/tags").json()
    check(trends[0], TAG)


def test_instance_nodeinfo_and_small_endpoints(sqlite_api):
    client = sqlite_api.client
    for path in ("/api/v1/instance", "/api/v1/instance/"):
        v1 = client.get(path).json()
        assert v1["uri"] == "roost.test"
        assert [int(x) for x in v1["version"].split(".")] >= [4, 0, 0]
        assert v1["urls"]["streaming_api"].startswith(("ws://", "wss://"))
        assert v1["configuration"]["statuses"]["max_characters"] == 500
        assert isinstance(v1["stats"]["user_count"], int) and isinstance(v1["rules"], list)
    for path in ("/api/v2/instance", "/api/v2/instance/"):
        v2 = client.get(path).json()
        assert v2["domain"] == "roost.test" and v2["registrations"]["enabled"] is True
    links = client.get("/.well-known/nodeinfo").json()["links"]
    assert links[0]["href"].endswith("/nodeinfo/2.0")
    assert client.get("/nodeinfo/2.0").json()["software"]["name"] == "roost"
    assert client.get("/api/v1/custom_emojis").json() == []
    user = sqlite_api.user("prefs")
    prefs = client.get("/api/v1/preferences", headers=user.headers).json()
    assert prefs["posting:default:visibility"] == "public"


def test_markers(api):
    alice = api.user("alice")
    post = api.status(alice, "mark me")
    saved = api.client.post(
        "/api/v1/markers", json={"home": {"last_read_id": post["id"]}}, headers=alice.headers
    ).json()
    assert saved["home"]["last_read_id"] == post["id"]
    again = api.client.post(
        "/api/v1/markers", data={"home[last_read_id]": post["id"]}, headers=alice.headers
    ).json()
    assert again["home"]["version"] == 2
    read = api.client.get(
        "/api/v1/markers", params={"timeline[]": "home"}, headers=alice.headers
    ).json()
    assert read["home"]["last_read_id"] == post["id"]
    datetime.fromisoformat(read["home"]["updated_at"].replace("Z", "+00:00"))


def test_lists_of_favourites_bookmarks_and_actors(api):
    alice, bob = api.user("alice"), api.user("bob")
    post = api.status(alice, "likeable")
    for action in ("favourite", "bookmark", "reblog"):
        response = api.client.post(f"/api/v1/statuses/{post['id']}/{action}", headers=bob.headers)
        assert response.status_code == 200
    assert [s["id"] for s in api.client.get("/api/v1/favourites", headers=bob.headers).json()] == [
        post["id"]
    ]
    assert [s["id"] for s in api.client.get("/api/v1/bookmarks", headers=bob.headers).json()] == [
        post["id"]
    ]
    for path in ("favourited_by", "reblogged_by"):
        people = api.client.get(f"/api/v1/statuses/{post['id']}/{path}").json()
        assert [a["id"] for a in people] == [bob.id]
    for action, flag in (
        ("unfavourite", "favourited"),
        ("unbookmark", "bookmarked"),
        ("unreblog", "reblogged"),
    ):
        undone = api.client.post(f"/api/v1/statuses/{post['id']}/{action}", headers=bob.headers)
        assert undone.json()[flag] is False
    deleted = api.client.delete(f"/api/v1/statuses/{post['id']}", headers=alice.headers)
    assert deleted.status_code == 200 and deleted.json()["text"] == "likeable"
    assert api.client.get(f"/api/v1/statuses/{post['id']}").status_code == 404


def test_account_endpoints(api):
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    api.status(alice, "one")
    reply_to = api.status(bob, "two")
    api.status(alice, "@bob three", in_reply_to_id=reply_to["id"])
    updated = api.client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "Alice A.", "note": "hi", "locked": "0", "bot": "false"},
        headers=alice.headers,
    )
    assert updated.status_code == 200 and updated.json()["display_name"] == "Alice A."
    assert api.client.get("/api/v1/accounts/lookup", params={"acct": "alice"}).json()["id"] == (
        alice.id
    )
    everything = api.client.get(f"/api/v1/accounts/{alice.id}/statuses").json()
    assert len(everything) == 2
    no_replies = api.client.get(
        f"/api/v1/accounts/{alice.id}/statuses", params={"exclude_replies": "true"}
    ).json()
    assert [s["content"] for s in no_replies] == ["<p>one</p>"]
    for flag in ("pinned", "only_media"):
        assert api.client.get(f"/api/v1/accounts/{alice.id}/statuses?{flag}=1").json() == []
    followers = api.client.get(f"/api/v1/accounts/{alice.id}/followers").json()
    assert [a["id"] for a in followers] == [bob.id]
    following = api.client.get(f"/api/v1/accounts/{bob.id}/following").json()
    assert [a["id"] for a in following] == [alice.id]
    found = api.client.get(
        "/api/v1/accounts/search", params={"q": "ali"}, headers=bob.headers
    ).json()
    assert [a["id"] for a in found] == [alice.id]
    unfollowed = api.client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers)
    assert unfollowed.json()["following"] is False
