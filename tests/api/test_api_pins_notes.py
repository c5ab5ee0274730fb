"""Pins, status mutes, account notes and featured tags (Mastodon 4): the endpoints, their
limits and refusals, and what they change in the Status and Relationship entities."""

from __future__ import annotations

from tests.api.conftest import bearer


def _post(api, user, path: str, **extra):
    return api.client.post(f"/api/v1{path}", headers=user.headers, **extra)


def _pinned(api, user, viewer=None) -> list[str]:
    headers = viewer.headers if viewer else {}
    found = api.client.get(f"/api/v1/accounts/{user.id}/statuses?pinned=true", headers=headers)
    assert found.status_code == 200, found.text
    return [s["id"] for s in found.json()]


def test_pins_show_first_on_a_profile_and_in_the_status(api):
    alice, bob = api.user("alice"), api.user("bob")
    first, second = api.status(alice, "first"), api.status(alice, "second")
    private = api.status(alice, "for followers", visibility="private")
    pinned = _post(api, alice, f"/statuses/{first['id']}/pin")
    assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    for post in (second, private):
        assert _post(api, alice, f"/statuses/{post['id']}/pin").json()["pinned"] is True
    assert _post(api, alice, f"/statuses/{first['id']}/pin").status_code == 200  # twice: once
    assert _pinned(api, alice, alice) == [private["id"], second["id"], first["id"]]
    assert _pinned(api, alice) == [second["id"], first["id"]]  # a stranger: no private post
    mine = api.client.get(f"/api/v1/statuses/{first['id']}", headers=alice.headers).json()
    theirs = api.client.get(f"/api/v1/statuses/{first['id']}", headers=bob.headers).json()
    assert mine["pinned"] is True and theirs["pinned"] is False
    timeline = api.client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=alice.headers)
    flags = {s["id"]: s["pinned"] for s in timeline.json()}
    assert flags == {first["id"]: True, second["id"]: True, private["id"]: True}
    unpinned = _post(api, alice, f"/statuses/{second['id']}/unpin")
    assert unpinned.status_code == 200 and unpinned.json()["pinned"] is False
    assert _pinned(api, alice, alice) == [private["id"], first["id"]]
    page = f"/api/v1/accounts/{alice.id}/statuses?pinned=true&max_id={first['id']}"
    assert api.client.get(page).json() == []


def test_what_cannot_be_pinned(api):
    alice, bob = api.user("alice"), api.user("bob")
    bobs = api.status(bob, "bob's")
    direct = api.status(alice, "@bob psst", visibility="direct")
    reblog = _post(api, alice, f"/statuses/{bobs['id']}/reblog").json()
    for post in (bobs, direct, reblog):
        refused = _post(api, alice, f"/statuses/{post['id']}/pin")
        assert refused.status_code == 422 and "error" in refused.json()
    carols = api.status(api.user("carol"), "@bob only", visibility="direct")
    assert _post(api, alice, f"/statuses/{carols['id']}/pin").status_code == 404
    assert _post(api, alice, "/statuses/99/pin").status_code == 404
    posts = [api.status(alice, f"post {n}") for n in range(6)]
    for post in posts[:5]:
        assert _post(api, alice, f"/statuses/{post['id']}/pin").status_code == 200
    assert _post(api, alice, f"/statuses/{posts[5]['id']}/pin").status_code == 422
    follows_only = bearer(api.token_for(alice, "write:follows"))
    url = f"/api/v1/statuses/{posts[5]['id']}/pin"
    assert api.client.post(url, headers=follows_only).status_code == 403
    assert api.client.post(url).status_code == 401


def _notification_types(api, user) -> list[str]:
    found = api.client.get("/api/v1/notifications", headers=user.headers)
    return [n["type"] for n in found.json()]


def test_a_muted_thread_stops_notifying(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    root = api.status(alice, "a thread")
    reply = api.status(bob, "@alice a reply", in_reply_to_id=root["id"])
    assert _notification_types(api, alice) == ["mention"]
    muted = _post(api, alice, f"/statuses/{reply['id']}/mute")
    assert muted.status_code == 200 and muted.json()["muted"] is True
    for status in (root, reply):  # every post of the thread shows as muted, to alice alone
        shown = api.client.get(f"/api/v1/statuses/{status['id']}", headers=alice.headers)
        assert shown.json()["muted"] is True
        assert api.client.get(f"/api/v1/statuses/{status['id']}").json()["muted"] is False
    api.status(carol, "@alice me too", in_reply_to_id=reply["id"])
    _post(api, carol, f"/statuses/{root['id']}/favourite")
    _post(api, carol, f"/statuses/{root['id']}/reblog")
    assert _notification_types(api, alice) == ["mention"]
    api.status(carol, "@alice elsewhere")  # another thread still notifies
    assert _notification_types(api, alice) == ["mention", "mention"]

    unmuted = _post(api, alice, f"/statuses/{root['id']}/unmute")
    assert unmuted.status_code == 200 and unmuted.json()["muted"] is False
    _post(api, bob, f"/statuses/{root['id']}/favourite")
    assert _notification_types(api, alice)[0] == "favourite"


def test_only_a_thread_one_takes_part_in_can_be_muted(api):
    alice, bob = api.user("alice"), api.user("bob")
    post = api.status(alice, "not bob's business")
    assert _post(api, bob, f"/statuses/{post['id']}/mute").status_code == 422
    mentioned = api.status(alice, "@bob you are in this one")
    assert _post(api, bob, f"/statuses/{mentioned['id']}/mute").status_code == 200
    hidden = api.status(alice, "@carol secret", visibility="direct")
    assert _post(api, bob, f"/statuses/{hidden['id']}/mute").status_code == 404
    favourites_only = bearer(api.token_for(bob, "write:favourites"))
    url = f"/api/v1/statuses/{mentioned['id']}/mute"
    assert api.client.post(url, headers=favourites_only).status_code == 403


def test_account_notes_show_in_the_relationship_to_their_writer_only(api):
    alice, bob = api.user("alice"), api.user("bob")
    written = _post(api, alice, f"/accounts/{bob.id}/note", json={"comment": "met at the zoo"})
    assert written.status_code == 200 and written.json()["note"] == "met at the zoo"
    rel = api.client.get(f"/api/v1/accounts/relationships?id[]={bob.id}", headers=alice.headers)
    assert rel.json()[0]["note"] == "met at the zoo"
    theirs = api.client.get(f"/api/v1/accounts/relationships?id[]={alice.id}", headers=bob.headers)
    assert theirs.json()[0]["note"] == ""
    changed = _post(api, alice, f"/accounts/{bob.id}/note", data={"comment": "the zoo, 2024"})
    assert changed.json()["note"] == "the zoo, 2024"
    assert _post(api, alice, f"/accounts/{bob.id}/note", json={"comment": ""}).json()["note"] == ""
    too_long = _post(api, alice, f"/accounts/{bob.id}/note", json={"comment": "x" * 2001})
    assert too_long.status_code == 422 and "error" in too_long.json()
    assert _post(api, alice, "/accounts/99/note", json={"comment": "who?"}).status_code == 404
    read_only = bearer(api.token_for(alice, "read"))
    url = f"/api/v1/accounts/{bob.id}/note"
    assert api.client.post(url, headers=read_only, json={"comment": "x"}).status_code == 403


def test_featured_tags(api):
    alice, bob = api.user("alice"), api.user("bob")
    api.status(alice, "#birds and #cats")
    api.status(alice, "more #birds")
    api.status(alice, "quiet #birds", visibility="private")
    suggested = api.client.get("/api/v1/featured_tags/suggestions", headers=alice.headers)
    assert [t["name"] for t in suggested.json()] == ["birds", "cats"]

    made = _post(api, alice, "/featured_tags", json={"name": "#Birds"})
    assert made.status_code == 200, made.text
    tag = made.json()
    assert tag["name"] == "birds" and tag["statuses_count"] == 2
    assert tag["url"].endswith("/@alice/tagged/birds") and len(tag["last_status_at"]) == 10
    fresh = _post(api, alice, "/featured_tags", data={"name": "newtag"}).json()
    assert fresh["statuses_count"] == 0 and fresh["last_status_at"] is None
    assert _post(api, alice, "/featured_tags", json={"name": "birds"}).status_code == 422
    assert _post(api, alice, "/featured_tags", json={"name": "no such!"}).status_code == 422
    assert _post(api, alice, "/featured_tags", json={}).status_code == 422

    mine = api.client.get("/api/v1/featured_tags", headers=alice.headers).json()
    assert [t["name"] for t in mine] == ["birds", "newtag"]
    public = api.client.get(f"/api/v1/accounts/{alice.id}/featured_tags").json()
    assert public == mine
    suggested = api.client.get("/api/v1/featured_tags/suggestions", headers=alice.headers)
    assert [t["name"] for t in suggested.json()] == ["cats"]

    assert (
        api.client.delete(f"/api/v1/featured_tags/{tag['id']}", headers=bob.headers).status_code
        == 404
    )
    gone = api.client.delete(f"/api/v1/featured_tags/{tag['id']}", headers=alice.headers)
    assert gone.status_code == 200 and gone.json() == {}
    assert [
        t["name"] for t in api.client.get("/api/v1/featured_tags", headers=alice.headers).json()
    ] == ["newtag"]
    for n in range(9):
        assert _post(api, alice, "/featured_tags", json={"name": f"t{n}"}).status_code == 200
    assert _post(api, alice, "/featured_tags", json={"name": "eleventh"}).status_code == 422

    assert api.client.get("/api/v1/featured_tags").status_code == 401
    follows_only = bearer(api.token_for(alice, "read:follows"))
    assert api.client.get("/api/v1/featured_tags", headers=follows_only).status_code == 403
    assert api.client.get("/api/v1/accounts/99/featured_tags").status_code == 404
