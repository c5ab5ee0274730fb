"""Trust boundaries (issue 12): each finding of the outside review, as a regression test."""

from __future__ import annotations


def test_deleting_a_post_you_cannot_see_says_it_does_not_exist(api):
    alice, mallory = api.user("alice"), api.user("mallory")
    secret = api.status(alice, "followers only", visibility="private")
    public = api.status(alice, "for all")
    hidden = api.client.delete(f"/api/v1/statuses/{secret['id']}", headers=mallory.headers)
    assert hidden.status_code == 404, hidden.text
    assert api.client.delete("/api/v1/statuses/1", headers=mallory.headers).status_code == 404
    seen = api.client.delete(f"/api/v1/statuses/{public['id']}", headers=mallory.headers)
    assert seen.status_code == 403
    assert api.client.get(f"/api/v1/statuses/{secret['id']}", headers=alice.headers).json()


def test_reposting_ones_own_private_post_keeps_it_private(api):
    alice, stranger = api.user("alice"), api.user("stranger")
    secret = api.status(alice, "followers only: the door code", visibility="private")
    reply = api.client.post(
        f"/api/v1/statuses/{secret['id']}/reblog",
        json={"visibility": "public"},
        headers=alice.headers,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["visibility"] == "private"
    api.drain()
    public = api.client.get("/api/v1/timelines/public").json()
    assert all("door code" not in (s.get("reblog") or s)["content"] for s in public)
    profile = api.client.get(
        f"/api/v1/accounts/{alice.id}/statuses", headers=stranger.headers
    ).json()
    assert all("door code" not in (s.get("reblog") or s)["content"] for s in profile)
