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


def test_two_authorization_headers_never_file_a_private_view_for_anyone(api):
    """Issue 12, finding 8: the front cache keyed on the last Authorization header, the router
    used the first: `Bearer <bob>` then an empty one filed bob's view under the anonymous key."""
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    api.status(alice, "followers only: the door code", visibility="private")
    url = f"/api/v1/accounts/{alice.id}/statuses"
    doubled = [("Authorization", f"Bearer {bob.token}"), ("Authorization", "")]
    for _ in range(2):
        seen = api.client.get(url, headers=doubled)
        assert seen.status_code == 200
    anonymous = api.client.get(url)
    assert anonymous.status_code == 200
    assert all("door code" not in s["content"] for s in anonymous.json())


def test_ids_in_other_scripts_digits_are_not_found_not_a_crash(api):
    """Issue 12: `1²7` passed str.isdigit() and raised in int(): a 500."""
    alice = api.user("alice")
    for path in ("/api/v1/statuses/1\u00b27", "/api/v1/accounts/\u0661\u0662", "/@alice/1\u00b27"):
        answer = api.client.get(path, headers=alice.headers)
        assert answer.status_code == 404, (path, answer.status_code)
    listed = api.client.get("/api/v1/timelines/public", params={"max_id": "1\u00b27"})
    assert listed.status_code in (200, 422)


def test_deeply_nested_json_is_a_400_and_the_connection_lives(api):
    """Issue 12: `{"status":` 5,000 times (50 KB, under the body cap) was a 500."""
    alice = api.user("alice")
    headers = {**alice.headers, "Content-Type": "application/json"}
    for raw in ('{"status":' * 5000, '{"status": "x", "a": ' + "[" * 40 + "]" * 40 + "}"):
        answer = api.client.post("/api/v1/statuses", content=raw, headers=headers)
        assert answer.status_code == 400, answer.text
        assert "nested" in answer.json()["error"]
    fine = api.client.post("/api/v1/statuses", json={"status": "still here"}, headers=alice.headers)
    assert fine.status_code == 200


def test_every_route_declares_its_access():
    """Issue 12: a route without a scope used the token's identity whatever its scopes.
    `endpoint` has no default now; this walks the table for handlers outside it."""
    from roost.api.auth import KNOWN_SCOPES
    from roost.api.endpoint import PUBLIC, IfToken
    from roost.api.routes import routes

    undeclared = []
    for route in routes:
        access = getattr(route.endpoint, "access", None)
        ok = access == PUBLIC or isinstance(access, IfToken) or access in KNOWN_SCOPES
        if not ok:
            undeclared.append(route.path)
    assert undeclared == []


def test_a_token_without_read_scopes_reads_nothing_private(api):
    """Issue 12, finding 2: a push-only or write-only token read followers-only posts."""
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    secret = api.status(alice, "followers only: the door code", visibility="private")
    for scopes in ("push", "write", "write:statuses follow"):
        narrow = {"Authorization": "Bearer " + api.token_for(bob, scopes)}
        for path in (
            f"/api/v1/statuses/{secret['id']}",
            f"/api/v1/statuses/{secret['id']}/context",
            f"/api/v1/statuses/{secret['id']}/history",
            f"/api/v1/accounts/{alice.id}/statuses",
            "/api/v1/timelines/public",
        ):
            answer = api.client.get(path, headers=narrow)
            assert answer.status_code == 403, (scopes, path, answer.status_code)
            assert "door code" not in answer.text
    reader = {"Authorization": "Bearer " + api.token_for(bob, "read:statuses")}
    assert api.client.get(f"/api/v1/statuses/{secret['id']}", headers=reader).status_code == 200
    assert api.client.get(f"/api/v1/statuses/{secret['id']}").status_code == 404  # anonymous


def test_a_mention_edited_away_leaves_that_readers_timeline_and_notifications(api):
    """Issue 12, finding 4: a DM to bob and carol, edited to '@bob only: the door code',
    was 404 for carol as a status but readable in her home timeline and notifications."""
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    dm = api.status(alice, "@bob @carol plans", visibility="direct")
    api.drain()
    for reader in (bob, carol):
        home = api.client.get("/api/v1/timelines/home", headers=reader.headers).json()
        assert dm["id"] in [s["id"] for s in home]
    edited = api.client.put(
        f"/api/v1/statuses/{dm['id']}",
        json={"status": "@bob only: the door code is 4711"},
        headers=alice.headers,
    )
    assert edited.status_code == 200, edited.text
    assert api.client.get(f"/api/v1/statuses/{dm['id']}", headers=carol.headers).status_code == 404
    for path in ("/api/v1/timelines/home", "/api/v1/notifications"):
        seen = api.client.get(path, headers=carol.headers)
        assert seen.status_code == 200 and "4711" not in seen.text, path
    bob_home = api.client.get("/api/v1/timelines/home", headers=bob.headers).text
    assert "4711" in bob_home


def test_secrets_in_other_scripts_letters_are_refused_not_a_crash(api):
    """Issue 12 (found by a longer schemathesis run): hmac.compare_digest raises TypeError on a
    str with non-ASCII characters, so a client secret, token MAC or CSRF value in other
    scripts' letters was a 500."""
    app = api.default_app
    revoke = api.client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": "s\u00e9cret\u0f00", "token": "x"},
    )
    assert revoke.status_code == 401, revoke.text
    raw = '{"grant_type": "client_credentials", "client_id": "%s", "client_secret": "\\ud97f"}'
    grant = api.client.post(
        "/oauth/token",
        content=raw % app["client_id"],
        headers={"Content-Type": "application/json"},
    )
    assert grant.status_code == 401, grant.text
    forged = {"Authorization": "Bearer r1.1.2.abc.\u00e9\u00e9".encode()}
    assert api.client.get("/api/v1/accounts/verify_credentials", headers=forged).status_code == 401
