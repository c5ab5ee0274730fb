"""Conventions: scopes, errors, pagination, booleans, bodies, Idempotency-Key, blocks and mutes."""

from __future__ import annotations

import re

import pytest


def _error(response, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert all(isinstance(v, str) and v for v in body.values())


def test_scopes_are_enforced(api, helpers):
    alice = api.user("alice")
    reader = helpers.bearer(api.token_for(alice, "read"))
    writer = helpers.bearer(api.token_for(alice, "write"))
    granular = helpers.bearer(api.token_for(alice, "read:statuses write:statuses"))
    _error(api.client.post("/api/v1/statuses", json={"status": "x"}, headers=reader), 403)
    _error(api.client.get("/api/v1/timelines/home", headers=writer), 403)
    _error(api.client.get("/api/v1/notifications", headers=granular), 403)
    assert api.client.get("/api/v1/timelines/home", headers=granular).status_code == 200
    posted = api.client.post("/api/v1/statuses", json={"status": "x"}, headers=granular)
    assert posted.status_code == 200
    _error(api.client.post(f"/api/v1/accounts/{alice.id}/block", headers=granular), 403)
    follow = helpers.bearer(api.token_for(alice, "follow"))
    assert api.client.get("/api/v1/blocks", headers=follow).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Bearer " + "x" * 5000}],
)
def test_missing_or_bad_token_is_401(sqlite_api, headers):
    for path in ("/api/v1/timelines/home", "/api/v1/notifications", "/api/v1/favourites"):
        _error(sqlite_api.client.get(path, headers=headers), 401)
    _error(sqlite_api.client.post("/api/v1/statuses", json={"status": "x"}, headers=headers), 401)


def test_errors_never_500(sqlite_api):
    client = sqlite_api.client
    alice = sqlite_api.user("alice")
    h = alice.headers
    _error(client.get("/api/v1/statuses/123456"), 404)
    _error(client.get("/api/v1/statuses/not-a-number"), 404)
    _error(client.get("/api/v1/accounts/99999999999999999999999"), 404)
    _error(client.get("/api/v1/nothing/here"), 404)
    _error(client.get("/api/v1/timelines/home?max_id=abc", headers=h), 422)
    _error(client.get("/api/v1/timelines/home?limit=lots", headers=h), 422)
    _error(client.get("/api/v1/timelines/public?local=maybe"), 422)
    _error(client.post("/api/v1/statuses", json={"status": ""}, headers=h), 422)
    _error(client.post("/api/v1/statuses", json={"status": "x" * 501}, headers=h), 422)
    _error(client.post("/api/v1/statuses", json={"status": ["x"]}, headers=h), 422)
    _error(
        client.post("/api/v1/statuses", json={"status": "x", "visibility": "loud"}, headers=h), 422
    )
    bad_json = client.post(
        "/api/v1/statuses", content=b"{not json", headers={**h, "Content-Type": "application/json"}
    )
    assert bad_json.status_code in (400, 422)
    _error(bad_json, bad_json.status_code)
    _error(
        client.post(
            "/api/v1/statuses", content=b"[1]", headers={**h, "Content-Type": "application/json"}
        ),
        422,
    )
    bad_form = client.post(
        "/api/v1/statuses",
        content=b"--x\r\nbroken",
        headers={**h, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert bad_form.status_code in (400, 422)
    big = client.post("/api/v1/statuses", json={"status": "x" * 100_000}, headers=h)
    _error(big, 413)
    _error(client.delete("/api/v1/statuses/1", headers=h), 404)
    _error(client.put("/api/v1/statuses", headers=h), 405)


def test_foreign_objects(api):
    alice, bob = api.user("alice"), api.user("bob")
    post = api.status(alice, "mine")
    _error(api.client.delete(f"/api/v1/statuses/{post['id']}", headers=bob.headers), 403)
    secret = api.status(alice, "followers only", visibility="private")
    _error(api.client.get(f"/api/v1/statuses/{secret['id']}", headers=bob.headers), 404)
    _error(api.client.post(f"/api/v1/statuses/{secret['id']}/favourite", headers=bob.headers), 404)
    notes = api.client.get("/api/v1/notifications", headers=alice.headers).json()
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    notes = api.client.get("/api/v1/notifications", headers=alice.headers).json()
    _error(api.client.get(f"/api/v1/notifications/{notes[0]['id']}", headers=bob.headers), 404)


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("1", True), ("false", False), ("0", False)]
)
def test_booleans_json_and_form(sqlite_api, raw, expected):
    alice = sqlite_api.user("alice")
    as_form = sqlite_api.client.post(
        "/api/v1/statuses", data={"status": "f", "sensitive": raw}, headers=alice.headers
    )
    assert as_form.json()["sensitive"] is expected
    as_json = sqlite_api.client.post(
        "/api/v1/statuses", json={"status": "j", "sensitive": expected}, headers=alice.headers
    )
    assert as_json.json()["sensitive"] is expected


def test_idempotency_key(api):
    alice = api.user("alice")
    headers = {**alice.headers, "Idempotency-Key": "abc-123"}
    first = api.client.post("/api/v1/statuses", json={"status": "once"}, headers=headers).json()
    second = api.client.post("/api/v1/statuses", json={"status": "once"}, headers=headers).json()
    assert first["id"] == second["id"]
    other = api.client.post(
        "/api/v1/statuses",
        json={"status": "once"},
        headers={**alice.headers, "Idempotency-Key": "other"},
    ).json()
    assert other["id"] != first["id"]


def _links(response) -> list[tuple[str, str]]:
    return re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers.get("link", ""))


def test_pagination(api):
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    ids = [api.status(alice, f"post {n}")["id"] for n in range(7)]
    api.drain()
    newest_first = list(reversed(ids))
    for path, headers in (
        ("/api/v1/timelines/home", bob.headers),
        ("/api/v1/timelines/public", {}),
        (f"/api/v1/accounts/{alice.id}/statuses", {}),
    ):
        first = api.client.get(path, params={"limit": 3}, headers=headers)
        assert [s["id"] for s in first.json()] == newest_first[:3]
        links = _links(first)
        assert [rel for _, rel in links] == ["next", "prev"]  # toot reads the first link
        assert f"max_id={newest_first[2]}" in links[0][0] and "limit=3" in links[0][0]
        assert f"min_id={newest_first[0]}" in links[1][0]
        following = api.client.get(links[0][0], headers=headers)
        assert [s["id"] for s in following.json()] == newest_first[3:6]
        # since_id: the newest above the cursor; min_id: the ones just above it
        since = api.client.get(path, params={"since_id": ids[1], "limit": 2}, headers=headers)
        assert [s["id"] for s in since.json()] == newest_first[:2]
        above = api.client.get(path, params={"min_id": ids[1], "limit": 2}, headers=headers)
        assert [s["id"] for s in above.json()] == [ids[3], ids[2]]
        end = api.client.get(path, params={"max_id": ids[0]}, headers=headers)
        assert end.json() == [] and "link" not in end.headers
    huge = api.client.get("/api/v1/timelines/public", params={"limit": 10_000})
    assert len(huge.json()) == 7
    zero = api.client.get("/api/v1/timelines/public", params={"limit": 0})
    assert zero.status_code == 200


def test_notification_filters_dismiss_clear(api):
    alice, bob = api.user("alice"), api.user("bob")
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    post = api.status(alice, "hi")
    api.client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=bob.headers)
    h = alice.headers
    only = api.client.get("/api/v1/notifications", params={"types[]": "follow"}, headers=h).json()
    assert [n["type"] for n in only] == ["follow"]
    without = api.client.get(
        "/api/v1/notifications", params={"exclude_types[]": ["follow"]}, headers=h
    ).json()
    assert [n["type"] for n in without] == ["favourite"]
    dismissed = api.client.post(f"/api/v1/notifications/{only[0]['id']}/dismiss", headers=h)
    assert dismissed.status_code == 200
    assert [n["type"] for n in api.client.get("/api/v1/notifications", headers=h).json()] == [
        "favourite"
    ]
    api.client.post("/api/v1/notifications/clear", headers=h)
    assert api.client.get("/api/v1/notifications", headers=h).json() == []


def test_blocks_and_mutes_hide_posts_and_notifications(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    for target in (bob, carol):
        api.client.post(f"/api/v1/accounts/{target.id}/follow", headers=alice.headers)
    api.client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice.headers)
    api.client.post(f"/api/v1/accounts/{carol.id}/block", headers=alice.headers)
    muted = api.status(bob, "@alice muted speaking")
    api.status(carol, "blocked speaking")
    api.drain()
    home = api.client.get("/api/v1/timelines/home", headers=alice.headers).json()
    assert home == []
    public = api.client.get("/api/v1/timelines/public", headers=alice.headers).json()
    assert public == [] or all(s["account"]["id"] not in (bob.id, carol.id) for s in public)
    notes = api.client.get("/api/v1/notifications", headers=alice.headers).json()
    assert all(n["account"]["id"] not in (bob.id, carol.id) for n in notes)
    # a blocked account cannot follow, favourite or see the blocker's posts
    mine = api.status(alice, "hello")
    refused = api.client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=carol.headers)
    assert refused.status_code in (403, 404)
    assert [a["id"] for a in api.client.get("/api/v1/mutes", headers=alice.headers).json()] == [
        bob.id
    ]
    assert [a["id"] for a in api.client.get("/api/v1/blocks", headers=alice.headers).json()] == [
        carol.id
    ]
    api.client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=alice.headers)
    home = api.client.get("/api/v1/timelines/home", headers=alice.headers).json()
    assert [s["id"] for s in home] == [mine["id"], muted["id"]]


def test_hidden_authors_never_cut_a_public_page_short(api):
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    kept = [api.status(carol, f"kept #roost {n}")["id"] for n in range(3)]
    for n in range(5):  # newer than carol's: without screening in SQL they would fill the page
        api.status(bob, f"loud #roost {n}")
    api.client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)
    for url in ("/api/v1/timelines/public?limit=3", "/api/v1/timelines/tag/roost?limit=3"):
        page = api.client.get(url, headers=alice.headers)
        assert [s["id"] for s in page.json()] == kept[::-1], url
        anonymous = api.client.get(url).json()
        assert all(s["account"]["id"] == bob.id for s in anonymous)  # others see bob's


def test_registration_closed_and_validation(api_with):
    closed = api_with(registrations_open=False)
    token = closed.app_token("read write")
    response = closed.client.post(
        "/api/v1/accounts",
        json={"username": "zed", "email": "z@example.com", "password": "p" * 12, "agreement": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    _error(response, 403)


def test_cors_preflight(sqlite_api):
    response = sqlite_api.client.options(
        "/api/v1/timelines/home",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.example")


def test_locked_accounts_answer_follow_requests(api, helpers):
    alice, bob, eve = api.user("alice"), api.user("bob"), api.user("eve")
    locked = api.client.patch(
        "/api/v1/accounts/update_credentials", json={"locked": True}, headers=alice.headers
    )
    assert locked.status_code == 200 and locked.json()["locked"] is True
    asked = api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers).json()
    assert asked["requested"] is True and asked["following"] is False
    api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=eve.headers)
    waiting = api.client.get("/api/v1/follow_requests", headers=alice.headers).json()
    assert {a["username"] for a in waiting} == {"bob", "eve"}
    notes = api.client.get("/api/v1/notifications", headers=alice.headers).json()
    assert {n["type"] for n in notes} == {"follow_request"}
    yes = api.client.post(f"/api/v1/follow_requests/{bob.id}/authorize", headers=alice.headers)
    assert yes.status_code == 200 and yes.json()["followed_by"] is True
    no = api.client.post(f"/api/v1/follow_requests/{eve.id}/reject", headers=alice.headers)
    assert no.status_code == 200 and no.json()["followed_by"] is False
    assert api.client.get("/api/v1/follow_requests", headers=alice.headers).json() == []
    bob_sees = api.client.get(
        f"/api/v1/accounts/relationships?id[]={alice.id}", headers=bob.headers
    ).json()
    assert bob_sees[0]["following"] is True
    again = api.client.post(f"/api/v1/follow_requests/{eve.id}/authorize", headers=alice.headers)
    _error(again, 422)
    wrong_scope = api.client.get(
        "/api/v1/follow_requests", headers=helpers.bearer(api.token_for(alice, "write"))
    )
    _error(wrong_scope, 403)
