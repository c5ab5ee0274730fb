"""Issue 14's endpoints through Mastodon.py, against a real `roost serve`: every method the
library has for followed tags, lists, filters (v2 and v1), conversations, pins, status mutes,
notes, featured tags, polls, announcements, trends, the instance's extras and the unread
count."""

from __future__ import annotations

import pytest
from mastodon import Mastodon

from tests.api.test_api_clients import SCOPES

pytestmark = pytest.mark.slow


def _client(api, username: str, password: str) -> Mastodon:
    base = api.server.url
    client_id, client_secret = Mastodon.create_app(
        "roost-tests", scopes=SCOPES, api_base_url=base, redirect_uris="urn:ietf:wg:oauth:2.0:oob"
    )
    client = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=base,
        version_check_mode="none",  # Roost says 4.2.0; unread_count and some others are 4.3's
    )
    client.log_in(f"{username}@example.com", password, scopes=SCOPES, allow_http=True)
    return client


def test_the_new_endpoints_through_mastodon_py(live_api, helpers):
    for name in ("alice", "bob", "carol"):
        live_api.user(name)
    alice = _client(live_api, "alice", helpers.password)
    bob = _client(live_api, "bob", helpers.password)
    carol_id = bob.account_lookup("carol")["id"]
    alice_id = bob.account_lookup("alice")["id"]

    # followed tags
    assert bob.tag_follow("Birds")["following"] is True
    assert [t["name"] for t in bob.followed_tags()] == ["birds"]
    tagged = alice.status_post("a heron #birds")
    assert bob.tag("birds")["history"][0]["uses"] == "1"

    # lists
    bob.account_follow(carol_id)
    friends = bob.list_create("Friends", replies_policy="followed", exclusive=False)
    bob.list_accounts_add(friends, [carol_id])
    assert [a["username"] for a in bob.list_accounts(friends)] == ["carol"]
    assert [lst["title"] for lst in bob.account_lists(carol_id)] == ["Friends"]
    carol = _client(live_api, "carol", helpers.password)
    from_carol = carol.status_post("hello list")
    assert [s["id"] for s in bob.timeline_list(friends)] == [from_carol["id"]]
    assert bob.list_update(friends, "Close friends")["title"] == "Close friends"
    assert [lst["title"] for lst in bob.lists()] == ["Close friends"]
    bob.list_delete(friends)
    assert bob.lists() == []

    # filters, v2 then v1
    made = bob.create_filter_v2(
        "Herons", ["home", "public"], "warn", keywords_attributes=[{"keyword": "heron"}]
    )
    assert [k["keyword"] for k in made["keywords"]] == ["heron"]
    bob.add_filter_keyword_v2(made, "egret", whole_word=True)
    assert {k["keyword"] for k in bob.filter_keywords_v2(made)} == {"heron", "egret"}
    bob.add_filter_status_v2(made, tagged["id"])
    assert [f["title"] for f in bob.filters_v2()] == ["Herons"]
    seen = bob.status(tagged["id"])
    assert seen["filtered"][0]["filter"]["title"] == "Herons"
    bob.delete_filter_v2(made)
    old = bob.filter_create("spoiler", ["home"], irreversible=False, whole_word=True)
    assert [f["phrase"] for f in bob.filters()] == ["spoiler"]
    bob.filter_delete(old)
    assert bob.filters() == []

    # conversations, pins, status mutes, notes, featured tags
    direct = alice.status_post("@bob a word in private", visibility="direct")
    conversations = bob.conversations()
    assert conversations[0]["last_status"]["id"] == direct["id"] and conversations[0]["unread"]
    assert bob.conversations_read(conversations[0])["unread"] is False
    assert alice.status_pin(tagged)["pinned"] is True
    assert [s["id"] for s in bob.account_statuses(alice_id, pinned=True)] == [tagged["id"]]
    alice.status_unpin(tagged)
    assert alice.status_mute(direct)["muted"] is True
    alice.status_unmute(direct)
    assert bob.account_note_set(alice_id, "met at the lake")["note"] == "met at the lake"
    featured = alice.featured_tag_create("birds")
    assert [t["name"] for t in bob.account_featured_tags(alice_id)] == ["birds"]
    alice.featured_tag_delete(featured)

    # polls
    asked = alice.status_post("Which heron?", poll=alice.make_poll(["grey", "purple"], 3600))
    voted = bob.poll_vote(asked["poll"]["id"], [0])
    assert voted["voted"] is True and voted["own_votes"] == [0]
    assert [o["votes_count"] for o in bob.poll(asked["poll"]["id"])["options"]] == [1, 0]

    # announcements, trends, the instance, the unread count
    assert bob.announcements() == []
    assert isinstance(bob.trending_statuses(), list) and bob.trending_links() == []
    assert bob.instance_peers() == [] and isinstance(bob.instance_rules(), list)
    assert len(bob.instance_activity()) == 12
    assert "content" in bob.instance_extended_description()
    assert bob.instance_translation_languages() == {}
    assert bob.notifications_unread_count()["count"] >= 1  # alice's direct post mentions bob
