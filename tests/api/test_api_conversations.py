"""Direct conversations (Mastodon's /api/v1/conversations): each participant's view of a thread
of direct posts, unread for recipients and read for the author, hidden until a new post, paged;
and the ``direct`` stream over SSE and the WebSocket."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import bearer
from tests.support.streams import SseReader


def _conversations(api, user, query: str = "") -> list[dict]:
    response = api.client.get(f"/api/v1/conversations{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_direct_post_makes_a_conversation_for_each_participant(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    first = api.status(alice, "@bob @carol a secret", visibility="direct")
    api.status(alice, "a public post")

    [mine] = _conversations(api, alice)
    assert mine["unread"] is False and mine["last_status"]["id"] == first["id"]
    assert sorted(a["username"] for a in mine["accounts"]) == ["bob", "carol"]
    [bobs] = _conversations(api, bob)
    assert bobs["unread"] is True and bobs["id"] != mine["id"]
    assert sorted(a["username"] for a in bobs["accounts"]) == ["alice", "carol"]
    assert bobs["last_status"]["visibility"] == "direct"

    reply = api.status(bob, "@alice only you", visibility="direct", in_reply_to_id=first["id"])
    [mine] = _conversations(api, alice)
    assert mine["unread"] is True and mine["last_status"]["id"] == reply["id"]
    [bobs] = _conversations(api, bob)
    assert bobs["unread"] is False and bobs["last_status"]["id"] == reply["id"]
    # carol was not mentioned in the reply: her view still ends at the first post
    [carols] = _conversations(api, carol)
    assert carols["last_status"]["id"] == first["id"] and carols["unread"] is True
    assert _conversations(api, api.user("dave")) == []


def test_read_and_hide(api):
    alice, bob = api.user("alice"), api.user("bob")
    first = api.status(alice, "@bob hi", visibility="direct")
    [bobs] = _conversations(api, bob)
    read = api.client.post(f"/api/v1/conversations/{bobs['id']}/read", headers=bob.headers)
    assert read.status_code == 200, read.text
    assert read.json()["unread"] is False and read.json()["id"] == bobs["id"]
    assert _conversations(api, bob)[0]["unread"] is False

    # someone else's conversation is not found, to read or to hide
    [alices] = _conversations(api, alice)
    for method, path in (("post", "/read"), ("delete", "")):
        url = f"/api/v1/conversations/{alices['id']}{path}"
        assert getattr(api.client, method)(url, headers=bob.headers).status_code == 404
    assert api.client.post("/api/v1/conversations/99/read", headers=bob.headers).status_code == 404

    hidden = api.client.delete(f"/api/v1/conversations/{bobs['id']}", headers=bob.headers)
    assert hidden.status_code == 200 and hidden.json() == {}
    assert _conversations(api, bob) == [] and len(_conversations(api, alice)) == 1
    again = api.status(
        alice, "@bob are you there?", visibility="direct", in_reply_to_id=first["id"]
    )
    [back] = _conversations(api, bob)
    assert back["unread"] is True and back["last_status"]["id"] == again["id"]


def test_conversations_are_paged_by_their_last_post(api):
    alice, bob = api.user("alice"), api.user("bob")
    posts = [api.status(alice, f"@bob thread {n}", visibility="direct") for n in range(3)]
    page = api.client.get("/api/v1/conversations?limit=2", headers=bob.headers)
    assert [c["last_status"]["id"] for c in page.json()] == [posts[2]["id"], posts[1]["id"]]
    assert f"max_id={posts[1]['id']}" in page.headers["link"]
    older = _conversations(api, bob, f"?max_id={posts[1]['id']}")
    assert [c["last_status"]["id"] for c in older] == [posts[0]["id"]]
    assert api.client.get("/api/v1/conversations?limit=x", headers=bob.headers).status_code == 422


def test_a_deleted_last_post_and_blocks(api):
    alice, bob, eve = api.user("alice"), api.user("bob"), api.user("eve")
    post = api.status(alice, "@bob soon gone", visibility="direct")
    api.client.delete(f"/api/v1/statuses/{post['id']}", headers=alice.headers)
    [bobs] = _conversations(api, bob)
    assert bobs["last_status"] is None
    api.client.post(f"/api/v1/accounts/{eve.id}/block", headers=bob.headers)
    api.status(eve, "@bob let me in", visibility="direct")
    assert len(_conversations(api, bob)) == 1  # nothing from whom bob blocks


def test_conversation_scopes(api):
    alice = api.user("alice")
    assert api.client.get("/api/v1/conversations").status_code == 401
    follows_only = bearer(api.token_for(alice, "read:follows"))
    assert api.client.get("/api/v1/conversations", headers=follows_only).status_code == 403
    statuses = bearer(api.token_for(alice, "read:statuses"))
    assert api.client.get("/api/v1/conversations", headers=statuses).status_code == 200
    assert api.client.post("/api/v1/conversations/1/read", headers=statuses).status_code == 403
    write = bearer(api.token_for(alice, "write:conversations"))
    assert api.client.delete("/api/v1/conversations/1", headers=write).status_code == 404


def test_the_direct_stream_over_sse_and_websocket(live_api):
    alice, bob = live_api.user("alice"), live_api.user("bob")
    base = live_api.server.url + "/api/v1/streaming"
    stream = SseReader(f"{base}/direct", bob.headers)
    try:
        live_api.status(alice, "a public post, not for this stream")
        post = live_api.status(alice, "@bob psst", visibility="direct")
        kind, data = stream.next(kinds=("update", "conversation", "notification"))
    finally:
        stream.close()
    assert kind == "conversation"
    entity = json.loads(data)
    assert entity["unread"] is True and entity["last_status"]["id"] == post["id"]
    assert [a["username"] for a in entity["accounts"]] == ["alice"]

    websockets = pytest.importorskip("websockets.sync.client")
    url = live_api.server.url.replace("http://", "ws://") + "/api/v1/streaming"
    with websockets.connect(f"{url}?access_token={alice.token}") as ws:
        ws.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        ws.send(json.dumps({"type": "subscribe", "stream": "user"}))
        reply = live_api.status(bob, "@alice hello", visibility="direct")
        seen = {}
        while "conversation" not in seen:
            message = json.loads(ws.recv(timeout=5))
            assert "error" not in message, message
            seen[message["event"]] = message
    frame = seen["conversation"]
    assert frame["stream"] == ["direct"]
    assert json.loads(frame["payload"])["last_status"]["id"] == reply["id"]

    with websockets.connect(url) as anonymous:  # no token: the one refusal, and it is right
        anonymous.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        assert json.loads(anonymous.recv(timeout=5))["status"] == 401
    assert live_api.client.get(f"{base}/direct").status_code == 401


def test_min_id_pages_the_conversations_just_above_it(api):
    alice = api.user("alice")
    others = [api.user(f"friend{n}") for n in range(4)]
    posts = [api.status(other, "@alice psst", visibility="direct") for other in others]
    newest_first = api.client.get("/api/v1/conversations", headers=alice.headers).json()
    assert [c["last_status"]["id"] for c in newest_first] == [p["id"] for p in reversed(posts)]
    above = api.client.get(
        f"/api/v1/conversations?min_id={posts[0]['id']}&limit=2", headers=alice.headers
    ).json()
    assert [c["last_status"]["id"] for c in above] == [posts[2]["id"], posts[1]["id"]]
