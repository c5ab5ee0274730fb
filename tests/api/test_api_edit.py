"""Editing a status as Mastodon 4 does: PUT, history, source, and ``status.update`` on streams."""

from __future__ import annotations

import json
import queue
from datetime import datetime

import pytest

from tests.support.streams import SseReader


def _error(response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert all(isinstance(v, str) and v for v in body.values())


def _edit(api, user, status_id: str, **body):
    return api.client.put(f"/api/v1/statuses/{status_id}", json=body, headers=user.headers)


def test_the_author_edits(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    post = api.status(alice, "hello #cats @bob", language="en", spoiler_text="cw")
    assert post["edited_at"] is None
    edited = _edit(api, alice, post["id"], status="bye #Dogs @carol https://example.com/x")
    assert edited.status_code == 200, edited.text
    status = edited.json()
    assert status["id"] == post["id"] and status["created_at"] == post["created_at"]
    assert datetime.fromisoformat(status["edited_at"]) >= datetime.fromisoformat(
        status["created_at"]
    )
    assert "/tags/dogs" in status["content"] and "/@carol" in status["content"]
    same = api.status(alice, "bye #Dogs @carol https://example.com/x")
    assert status["content"] == same["content"]  # rendered exactly as a new post is
    assert [t["name"] for t in status["tags"]] == ["dogs"]
    assert [m["id"] for m in status["mentions"]] == [carol.id]
    # as in Mastodon the whole post is sent again: no spoiler clears it, the language stays
    assert status["spoiler_text"] == "" and status["language"] == "en"
    shown = api.client.get(f"/api/v1/statuses/{post['id']}").json()
    assert shown["content"] == status["content"] and shown["edited_at"] == status["edited_at"]
    api.drain()
    dogs = api.client.get("/api/v1/timelines/tag/dogs").json()
    assert post["id"] in [s["id"] for s in dogs]
    assert post["id"] not in [s["id"] for s in api.client.get("/api/v1/timelines/tag/cats").json()]
    carol_notes = api.client.get("/api/v1/notifications", headers=carol.headers).json()
    assert [(n["type"], n["status"]["id"]) for n in carol_notes] == [
        ("mention", same["id"]),
        ("mention", post["id"]),
    ]
    bob_notes = api.client.get("/api/v1/notifications", headers=bob.headers).json()
    assert [n["type"] for n in bob_notes] == ["mention"]  # the first text's, not again

    history = api.client.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert len(history) == 2  # the original is kept as the first revision
    assert "#<span>cats</span>" in history[0]["content"] and history[0]["spoiler_text"] == "cw"
    assert history[0]["sensitive"] is True and history[0]["created_at"] == post["created_at"]
    assert history[1]["content"] == status["content"]
    assert history[1]["created_at"] == status["edited_at"]
    for revision in history:
        assert revision["account"]["id"] == alice.id
        assert revision["media_attachments"] == [] and revision["emojis"] == []

    form = api.client.put(
        f"/api/v1/statuses/{post['id']}",
        data={"status": "third time", "spoiler_text": "again", "sensitive": "0"},
        headers=alice.headers,
    )
    assert form.status_code == 200, form.text
    assert form.json()["spoiler_text"] == "again" and form.json()["sensitive"] is True
    assert form.json()["tags"] == [] and form.json()["mentions"] == []
    history = api.client.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert history[2]["content"] == "<p>third time</p>" and len(history) == 3
    source = api.client.get(f"/api/v1/statuses/{post['id']}/source", headers=alice.headers)
    assert source.json() == {"id": post["id"], "text": "third time", "spoiler_text": "again"}


def test_edits_that_are_refused(api, helpers):
    alice, bob = api.user("alice"), api.user("bob")
    post = api.status(alice, "mine")
    _error(_edit(api, bob, post["id"], status="yours now"), 403)
    _error(api.client.get(f"/api/v1/statuses/{post['id']}/source", headers=bob.headers), 403)
    _error(_edit(api, alice, "123456789", status="nobody's"), 404)
    _error(_edit(api, alice, "not-a-number", status="x"), 404)
    secret = api.status(alice, "followers only", visibility="private")
    _error(_edit(api, bob, secret["id"], status="hidden"), 404)
    _error(api.client.get(f"/api/v1/statuses/{secret['id']}/history", headers=bob.headers), 404)
    _error(_edit(api, alice, post["id"], status=""), 422)
    _error(_edit(api, alice, post["id"], status="   "), 422)
    _error(_edit(api, alice, post["id"], status="x" * 501), 422)
    _error(_edit(api, alice, post["id"], status="ok", media_ids=["1"]), 422)
    _error(_edit(api, alice, post["id"], status="ok", language="not a language"), 422)
    # length counts as on create: a link is 23 characters whatever its length
    long_link = "x" * 470 + " https://example.com/" + "a" * 100
    assert _edit(api, alice, post["id"], status=long_link).status_code == 200
    reblog = api.client.post(f"/api/v1/statuses/{post['id']}/reblog", headers=bob.headers).json()
    _error(_edit(api, bob, reblog["id"], status="rewritten"), 422)
    reader = helpers.bearer(api.token_for(alice, "read"))
    refused = api.client.put(
        f"/api/v1/statuses/{post['id']}", json={"status": "read only"}, headers=reader
    )
    _error(refused, 403)
    _error(api.client.put(f"/api/v1/statuses/{post['id']}", json={"status": "anon"}), 401)
    # nothing refused was stored: two revisions (the original and the long link)
    history = api.client.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert history[0]["content"] == "<p>mine</p>" and len(history) == 2
    # reposters are told the post changed, as Mastodon tells them
    notes = api.client.get("/api/v1/notifications", headers=bob.headers).json()
    assert [n["type"] for n in notes] == []
    _edit(api, alice, post["id"], status="now bob reposted it")
    notes = api.client.get("/api/v1/notifications", headers=bob.headers).json()
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("update", post["id"])]


def test_history_of_an_unedited_status_and_source_scope(api, helpers):
    alice = api.user("alice")
    post = api.status(alice, "never edited")
    history = api.client.get(f"/api/v1/statuses/{post['id']}/history").json()
    assert [(h["content"], h["created_at"]) for h in history] == [
        ("<p>never edited</p>", post["created_at"])
    ]
    _error(api.client.get(f"/api/v1/statuses/{post['id']}/source"), 401)
    writer = helpers.bearer(api.token_for(alice, "write"))
    _error(api.client.get(f"/api/v1/statuses/{post['id']}/source", headers=writer), 403)


def test_a_cached_home_timeline_shows_the_edit(api):
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    post = api.status(alice, "first words")
    api.drain()
    for _ in range(2):  # the second answer comes from the cache
        home = api.client.get("/api/v1/timelines/home", headers=bob.headers).json()
        assert home[0]["content"] == "<p>first words</p>" and home[0]["edited_at"] is None
    assert _edit(api, alice, post["id"], status="better words").status_code == 200
    home = api.client.get("/api/v1/timelines/home", headers=bob.headers).json()
    assert [s["id"] for s in home] == [post["id"]]
    assert home[0]["content"] == "<p>better words</p>" and home[0]["edited_at"] is not None


def test_status_update_is_streamed(live_api):
    base = live_api.server.url + "/api/v1/streaming"
    alice, bob = live_api.user("alice"), live_api.user("bob")
    live_api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    readers = {
        "user": SseReader(base + "/user", bob.headers),
        "own": SseReader(base + "/user", alice.headers),
        "public": SseReader(base + "/public"),
        "local": SseReader(base + f"/public/local?access_token={bob.token}"),
        "tag": SseReader(base + "/hashtag?tag=birds"),
    }
    notes = SseReader(base + "/user/notification", bob.headers)
    try:
        post = live_api.status(alice, "look, #birds")
        for reader in readers.values():
            kind, data = reader.next()
            assert kind == "update" and json.loads(data)["id"] == post["id"]
        edited = live_api.client.put(
            f"/api/v1/statuses/{post['id']}",
            json={"status": "look, #birds!"},
            headers=alice.headers,
        )
        assert edited.status_code == 200, edited.text
        for name, reader in readers.items():
            kind, data = reader.next()
            assert kind == "status.update", name
            payload = json.loads(data)
            assert payload["id"] == post["id"] and payload["edited_at"] is not None
            assert payload["content"] == edited.json()["content"]
        with pytest.raises(queue.Empty):  # the notification stream carries notifications only
            notes.next(timeout=0.3)
    finally:
        for reader in (*readers.values(), notes):
            reader.close()
