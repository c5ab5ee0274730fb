"""Lists (Mastodon's /api/v1/lists): the owner's lists, their members, the list timeline with
its replies policy, exclusive lists leaving the home timeline, and the list stream."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.api.conftest import bearer
from tests.support.streams import SseReader


def _make(api, user, title="Friends", **extra) -> dict:
    response = api.client.post(
        "/api/v1/lists", json={"title": title, **extra}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def _follow(api, user, *others) -> None:
    for other in others:
        answer = api.client.post(f"/api/v1/accounts/{other.id}/follow", headers=user.headers)
        assert answer.status_code == 200, answer.text


def _add(api, user, list_id, *others) -> httpx.Response:
    ids = [other.id for other in others]
    return api.client.post(
        f"/api/v1/lists/{list_id}/accounts", json={"account_ids": ids}, headers=user.headers
    )


def _timeline(api, user, list_id, query="") -> list[str]:
    api.drain()
    response = api.client.get(f"/api/v1/timelines/list/{list_id}{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


def test_lists_are_made_shown_changed_and_deleted_by_their_owner(api):
    alice = api.user("alice")
    made = _make(api, alice, "  Birders  ")
    assert made == {
        "id": made["id"],
        "title": "Birders",
        "replies_policy": "list",
        "exclusive": False,
    }
    form = api.client.post(
        "/api/v1/lists",
        data={"title": "Work", "replies_policy": "none", "exclusive": "true"},
        headers=alice.headers,
    )
    assert form.status_code == 200 and form.json()["exclusive"] is True
    assert form.json()["replies_policy"] == "none"
    listed = api.client.get("/api/v1/lists", headers=alice.headers).json()
    assert [one["title"] for one in listed] == ["Birders", "Work"]
    shown = api.client.get(f"/api/v1/lists/{made['id']}", headers=alice.headers).json()
    assert shown == made
    changed = api.client.put(
        f"/api/v1/lists/{made['id']}", json={"replies_policy": "followed"}, headers=alice.headers
    )
    assert changed.json() == {**made, "replies_policy": "followed"}  # the rest left as it was
    renamed = api.client.put(
        f"/api/v1/lists/{made['id']}", data={"title": "Owls"}, headers=alice.headers
    )
    assert renamed.json()["title"] == "Owls" and renamed.json()["replies_policy"] == "followed"
    gone = api.client.delete(f"/api/v1/lists/{made['id']}", headers=alice.headers)
    assert gone.status_code == 200 and gone.json() == {}
    assert api.client.get(f"/api/v1/lists/{made['id']}", headers=alice.headers).status_code == 404
    assert [
        one["title"] for one in api.client.get("/api/v1/lists", headers=alice.headers).json()
    ] == ["Work"]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({}, "Title can't be blank"),
        ({"title": "   "}, "Title can't be blank"),
        ({"title": "x" * 101}, "Title is too long"),
        ({"title": ["a"]}, "title must be a string"),
        ({"title": "ok", "replies_policy": "all"}, "replies_policy must be followed, list or none"),
        ({"title": "ok", "exclusive": "maybe"}, "is not a boolean"),
    ],
)
def test_bad_lists_are_a_422_that_says_why(api, body, said):
    alice = api.user("alice")
    response = api.client.post("/api/v1/lists", json=body, headers=alice.headers)
    assert response.status_code == 422, response.text
    assert said in response.json()["error"]
    made = _make(api, alice)
    changed = api.client.put(f"/api/v1/lists/{made['id']}", json=body, headers=alice.headers)
    if body.get("title") != "ok" and body:  # an absent title is left as it is when changing
        assert changed.status_code == 422 and said in changed.json()["error"]


def test_someone_elses_list_is_not_found(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    _follow(api, bob, carol)
    theirs = _make(api, alice)["id"]
    for method, path, body in (
        ("GET", "", None),
        ("PUT", "", {"title": "mine now"}),
        ("DELETE", "", None),
        ("GET", "/accounts", None),
        ("POST", "/accounts", {"account_ids": [carol.id]}),
        ("DELETE", "/accounts", {"account_ids": [carol.id]}),
    ):
        response = api.client.request(
            method, f"/api/v1/lists/{theirs}{path}", json=body, headers=bob.headers
        )
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "Record not found"
    refused = api.client.get(f"/api/v1/timelines/list/{theirs}", headers=bob.headers)
    assert refused.status_code == 404
    for junk in ("abc", "99999999999999999999999"):
        assert api.client.get(f"/api/v1/lists/{junk}", headers=bob.headers).status_code == 404
    assert api.client.get(f"/api/v1/lists/{theirs}", headers=alice.headers).status_code == 200


def test_members_are_followed_accounts_paged_with_links(api):
    alice = api.user("alice")
    others = [api.user(name) for name in ("bob", "carol", "dave", "erin")]
    stranger = api.user("frank")
    _follow(api, alice, *others)
    list_id = _make(api, alice)["id"]
    added = _add(api, alice, list_id, *others[:2])
    assert added.status_code == 200 and added.json() == {}
    form = api.client.post(
        f"/api/v1/lists/{list_id}/accounts",
        data={"account_ids[]": [others[2].id, others[3].id]},
        headers=alice.headers,
    )
    assert form.status_code == 200, form.text
    assert _add(api, alice, list_id, others[0]).status_code == 200  # twice is once

    refused = _add(api, alice, list_id, stranger, others[0])
    assert refused.status_code == 422 and "follow" in refused.json()["error"]
    assert _add(api, alice, list_id, alice).status_code == 422  # nobody follows themselves
    unknown = api.client.post(
        f"/api/v1/lists/{list_id}/accounts", json={"account_ids": ["12345"]}, headers=alice.headers
    )
    assert unknown.status_code == 404
    empty = api.client.post(
        f"/api/v1/lists/{list_id}/accounts", json={"account_ids": []}, headers=alice.headers
    )
    assert empty.status_code == 422

    first = api.client.get(f"/api/v1/lists/{list_id}/accounts?limit=3", headers=alice.headers)
    assert [a["username"] for a in first.json()] == ["erin", "dave", "carol"]
    second = api.client.get(first.links["next"]["url"], headers=alice.headers)
    assert [a["username"] for a in second.json()] == ["bob"]
    back = api.client.get(second.links["prev"]["url"], headers=alice.headers)
    assert [a["username"] for a in back.json()] == ["erin", "dave", "carol"]
    everyone = api.client.get(f"/api/v1/lists/{list_id}/accounts?limit=0", headers=alice.headers)
    assert len(everyone.json()) == 4 and "link" not in everyone.headers

    removed = api.client.request(
        "DELETE",
        f"/api/v1/lists/{list_id}/accounts",
        json={"account_ids": [others[1].id, stranger.id]},
        headers=alice.headers,
    )
    assert removed.status_code == 200 and removed.json() == {}
    left = api.client.get(f"/api/v1/lists/{list_id}/accounts", headers=alice.headers).json()
    assert [a["username"] for a in left] == ["erin", "dave", "bob"]


def test_an_accounts_lists_and_unfollowing_leaves_them(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    _follow(api, alice, bob, carol)
    first, second, third = (_make(api, alice, title)["id"] for title in ("a", "b", "c"))
    for list_id in (first, third):
        assert _add(api, alice, list_id, bob).status_code == 200
    assert _add(api, alice, second, carol).status_code == 200
    # carol's own list holding bob is not alice's business
    _follow(api, carol, bob)
    assert _add(api, carol, _make(api, carol)["id"], bob).status_code == 200
    holding = api.client.get(f"/api/v1/accounts/{bob.id}/lists", headers=alice.headers).json()
    assert [one["id"] for one in holding] == [first, third]
    assert api.client.get("/api/v1/accounts/123/lists", headers=alice.headers).status_code == 404

    api.client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice.headers)
    assert api.client.get(f"/api/v1/accounts/{bob.id}/lists", headers=alice.headers).json() == []
    members = api.client.get(f"/api/v1/lists/{first}/accounts", headers=alice.headers).json()
    assert members == []
    api.client.post(f"/api/v1/accounts/{carol.id}/block", headers=alice.headers)  # unfollows
    assert api.client.get(f"/api/v1/lists/{second}/accounts", headers=alice.headers).json() == []
    assert (
        len(api.client.get(f"/api/v1/accounts/{bob.id}/lists", headers=carol.headers).json()) == 1
    )


def test_the_list_timeline_shows_members_posts_the_owner_may_see(api):
    alice, bob, carol, dave = (api.user(n) for n in ("alice", "bob", "carol", "dave"))
    _follow(api, alice, bob, carol)
    list_id = _make(api, alice)["id"]
    _add(api, alice, list_id, bob)
    public = api.status(bob, "public")
    unlisted = api.status(bob, "unlisted", visibility="unlisted")
    private = api.status(bob, "followers only", visibility="private")
    direct = api.status(bob, "@alice direct", visibility="direct")
    outsider = api.status(carol, "not in the list")
    other = api.status(dave, "a stranger's post")
    repost = api.client.post(f"/api/v1/statuses/{other['id']}/reblog", headers=bob.headers).json()
    shown = _timeline(api, alice, list_id)
    assert shown == [repost["id"], private["id"], unlisted["id"], public["id"]]
    assert direct["id"] not in shown and outsider["id"] not in shown

    page = api.client.get(f"/api/v1/timelines/list/{list_id}?limit=2", headers=alice.headers)
    assert [s["id"] for s in page.json()] == [repost["id"], private["id"]]
    rest = api.client.get(page.links["next"]["url"], headers=alice.headers)
    assert [s["id"] for s in rest.json()] == [unlisted["id"], public["id"]]
    assert _timeline(api, alice, list_id, f"?min_id={public['id']}&limit=1") == [unlisted["id"]]
    assert _timeline(api, alice, list_id, f"?since_id={private['id']}") == [repost["id"]]

    api.client.post(f"/api/v1/accounts/{dave.id}/mute", headers=alice.headers)
    assert repost["id"] not in _timeline(api, alice, list_id)  # a muted original's repost
    api.client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice.headers)
    assert _timeline(api, alice, list_id) == []


@pytest.mark.parametrize(
    ("policy", "shown"),
    [
        ("followed", {"plain", "own", "to_owner", "to_member", "to_followed"}),
        ("list", {"plain", "own", "to_owner", "to_member"}),
        ("none", {"plain", "own", "to_owner"}),
    ],
)
def test_the_replies_policy_decides_which_replies_the_list_shows(api, policy, shown):
    alice, bob, carol, dave, erin = (api.user(n) for n in ("alice", "bob", "carol", "dave", "erin"))
    _follow(api, alice, bob, carol, dave)
    list_id = _make(api, alice, replies_policy=policy)["id"]
    _add(api, alice, list_id, bob, carol)
    to = {
        "owner": api.status(alice, "from the owner"),
        "member": api.status(carol, "from a member"),
        "followed": api.status(dave, "from someone followed"),
        "stranger": api.status(erin, "from a stranger"),
        "own": api.status(bob, "bob's own thread"),
    }
    posts = {"plain": api.status(bob, "plain")}
    for name, parent in to.items():
        key = "own" if name == "own" else f"to_{name}"
        posts[key] = api.status(bob, f"a reply to {name}", in_reply_to_id=parent["id"])
    seen = set(_timeline(api, alice, list_id, "?limit=40"))
    expected = {posts[name]["id"] for name in shown}
    bobs = {p["id"] for p in posts.values()}
    assert seen & bobs == expected


def test_exclusive_lists_take_their_members_out_of_home(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    _follow(api, alice, bob, carol)
    inclusive = _make(api, alice, "all")["id"]
    _add(api, alice, inclusive, bob)
    bobs = [api.status(bob, f"bob {n}") for n in range(5)]
    carols = [api.status(carol, f"carol {n}") for n in range(2)]
    api.drain()
    home = api.client.get("/api/v1/timelines/home?limit=40", headers=alice.headers).json()
    assert {p["id"] for p in bobs} <= {s["id"] for s in home}

    exclusive = _make(api, alice, "apart", exclusive=True)["id"]
    _add(api, alice, exclusive, bob)
    home = api.client.get("/api/v1/timelines/home", headers=alice.headers).json()
    assert [s["id"] for s in home] == [carols[1]["id"], carols[0]["id"]]
    # a window of only bob's posts is read past, not answered empty
    page = api.client.get(
        f"/api/v1/timelines/home?limit=2&max_id={carols[0]['id']}", headers=alice.headers
    )
    assert page.status_code == 200
    assert _timeline(api, alice, exclusive)[:5] == [p["id"] for p in reversed(bobs)]

    api.client.put(f"/api/v1/lists/{exclusive}", json={"exclusive": False}, headers=alice.headers)
    home = api.client.get("/api/v1/timelines/home?limit=40", headers=alice.headers).json()
    assert {p["id"] for p in bobs} <= {s["id"] for s in home}


def test_exclusive_filtering_fills_a_home_page(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    _follow(api, alice, bob, carol)
    older = api.status(carol, "carol before")
    for n in range(6):
        api.status(bob, f"bob {n}")
    newer = api.status(carol, "carol after")
    list_id = _make(api, alice, exclusive=True)["id"]
    _add(api, alice, list_id, bob)
    api.drain()
    first = api.client.get("/api/v1/timelines/home?limit=2", headers=alice.headers)
    assert [s["id"] for s in first.json()] == [newer["id"], older["id"]]
    forward = api.client.get(
        f"/api/v1/timelines/home?limit=2&min_id={older['id']}", headers=alice.headers
    )
    assert [s["id"] for s in forward.json()] == [newer["id"]]


def test_lists_need_the_right_token(api):
    alice, bob = api.user("alice"), api.user("bob")
    _follow(api, alice, bob)
    list_id = _make(api, alice)["id"]
    for method, path in (
        ("GET", "/api/v1/lists"),
        ("POST", "/api/v1/lists"),
        ("GET", f"/api/v1/lists/{list_id}/accounts"),
        ("GET", f"/api/v1/timelines/list/{list_id}"),
        ("GET", f"/api/v1/accounts/{bob.id}/lists"),
    ):
        assert api.client.request(method, path).status_code == 401, (method, path)
    reader = bearer(api.token_for(alice, "read:lists"))
    assert api.client.get("/api/v1/lists", headers=reader).status_code == 200
    assert api.client.get(f"/api/v1/timelines/list/{list_id}", headers=reader).status_code == 200
    refused = api.client.post("/api/v1/lists", json={"title": "x"}, headers=reader)
    assert refused.status_code == 403 and "error" in refused.json()
    adding = api.client.post(
        f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [bob.id]}, headers=reader
    )
    assert adding.status_code == 403
    writer = bearer(api.token_for(alice, "write:lists"))
    assert api.client.get("/api/v1/lists", headers=writer).status_code == 403
    statuses_only = bearer(api.token_for(alice, "read:statuses"))
    listed = api.client.get(f"/api/v1/timelines/list/{list_id}", headers=statuses_only)
    assert listed.status_code == 403
    made = api.client.post("/api/v1/lists", json={"title": "x"}, headers=writer)
    assert made.status_code == 200
    assert (
        api.client.put(
            f"/api/v1/lists/{list_id}",
            json={"title": "y"},
            headers=bearer(api.token_for(alice, "write")),
        ).json()["title"]
        == "y"
    )


def test_the_list_stream_carries_members_posts_to_its_owner(live_api):
    base = live_api.server.url + "/api/v1/streaming"
    alice, bob, carol = live_api.user("alice"), live_api.user("bob"), live_api.user("carol")
    _follow(live_api, alice, bob, carol)
    list_id = _make(live_api, alice)["id"]
    _add(live_api, alice, list_id, bob)
    carols = _make(live_api, carol)["id"]
    assert httpx.get(f"{base}/list?list={list_id}", timeout=5).status_code == 401
    refused = httpx.get(f"{base}/list?list={carols}", headers=alice.headers, timeout=5)
    assert refused.status_code == 401 and "error" in refused.json()
    assert httpx.get(f"{base}/list", headers=alice.headers, timeout=5).status_code == 400
    reader = SseReader(f"{base}/list?list={list_id}", alice.headers)
    try:
        live_api.status(carol, "not a member")
        post = live_api.status(bob, "to the list")
        kind, data = reader.next()
        assert kind == "update" and json.loads(data)["id"] == post["id"]
        live_api.client.delete(f"/api/v1/statuses/{post['id']}", headers=bob.headers)
        assert reader.next() == ("delete", post["id"])
    finally:
        reader.close()


def test_the_list_stream_over_a_websocket(live_api):
    websockets = pytest.importorskip("websockets.sync.client")
    alice, bob, carol = live_api.user("alice"), live_api.user("bob"), live_api.user("carol")
    _follow(live_api, alice, bob)
    list_id = _make(live_api, alice)["id"]
    _add(live_api, alice, list_id, bob)
    carols = _make(live_api, carol)["id"]
    url = live_api.server.url.replace("http://", "ws://") + "/api/v1/streaming"
    with websockets.connect(f"{url}?access_token={alice.token}") as ws:
        ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": carols}))
        assert json.loads(ws.recv(timeout=5)) == {
            "error": "Not authorized to stream this list",
            "status": 401,
        }
        ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": list_id}))
        time.sleep(0.2)  # Kept: the protocol acknowledges no subscription
        post = live_api.status(bob, "over the socket")
        message = json.loads(ws.recv(timeout=5))
        assert message["stream"] == ["list", list_id] and message["event"] == "update"
        assert json.loads(message["payload"])["id"] == post["id"]


def test_an_exclusive_lists_members_reach_its_stream_not_the_owners_user_stream(live_api):
    base = live_api.server.url + "/api/v1/streaming"
    alice, bob, carol = live_api.user("alice"), live_api.user("bob"), live_api.user("carol")
    _follow(live_api, alice, bob, carol)
    list_id = _make(live_api, alice, exclusive=True)["id"]
    _add(live_api, alice, list_id, bob)
    in_list = SseReader(f"{base}/list?list={list_id}", alice.headers)
    user = SseReader(f"{base}/user", alice.headers)
    try:
        from_bob = live_api.status(bob, "only in the list")
        from_carol = live_api.status(carol, "at home")
        _kind, data = in_list.next(kinds=("update",))
        assert json.loads(data)["id"] == from_bob["id"]
        _kind, data = user.next(kinds=("update",))
        assert json.loads(data)["id"] == from_carol["id"]  # bob's came first, and was left out
    finally:
        in_list.close()
        user.close()
