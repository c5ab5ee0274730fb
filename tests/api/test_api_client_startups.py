"""Each popular app's start-up, replayed call by call as its own source makes it (the replays
and the files they come from: tests/api/startups/): Elk, Phanpy, Ice Cubes, Tusky
and toot's TUI with its `g` menu. One test per call, on a site where alice follows bob and
carol, posts carry #birds, bob replied to alice, favourited her post and wrote her a direct
post, alice favourited and bookmarked bob's heron, has a list, a followed tag, a v2 filter, a
notifications marker, and an announcement is up.

Each call must answer with the status the app expects (Mastodon's), no `error`, and the shape
the app decodes. Streams: the WebSocket is opened as the app opens it (the token as the
subprotocol) and its subscriptions must be taken without an error. A call Roost does not
answer as the app needs is kept as the app makes it and marked xfail (strict) with what is
missing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from roost.services import announcements
from tests.api.conftest import User
from tests.api.startups import REPLAYS, Call, problems

CASES = [
    pytest.param(
        call,
        id=f"{replay.client}-{n:02d}-{call.method}-{call.path}",
        marks=[pytest.mark.xfail(strict=True, reason=call.gap)] if call.gap else [],
    )
    for replay in REPLAYS
    for n, call in enumerate(replay.calls, start=1)
]


def _ok(response) -> dict | list:
    assert response.status_code == 200, response.text
    return response.json()


def _announce(api, text: str) -> None:
    """As `roost announce` does, through the running site's own database."""
    ctx = api.client.app.state.ctx

    async def work():
        async with ctx.db.write() as tx:
            return await announcements.create(
                ctx, tx, text, starts_at=datetime.now(UTC) - timedelta(hours=1)
            )

    api.client.portal.call(work)


def seed(api) -> tuple[User, User, dict[str, str]]:
    """A little of everything the apps show at start: alice, bob, and the ids to fill in."""
    alice, bob, carol = api.user("alice"), api.user("bob"), api.user("carol")
    post = api.client.post
    for who, whom in ((alice, bob), (alice, carol), (bob, alice)):
        _ok(post(f"/api/v1/accounts/{whom.id}/follow", headers=who.headers))
    heron = api.status(bob, "a grey heron at the pond #birds")
    wren = api.status(carol, "a wren in the hedge #birds")
    mine = api.status(alice, "my first post #birds")
    api.status(bob, "@alice lovely!", in_reply_to_id=mine["id"])
    _ok(post(f"/api/v1/statuses/{mine['id']}/favourite", headers=bob.headers))
    api.status(bob, "@alice a secret", visibility="direct")
    _ok(post(f"/api/v1/statuses/{heron['id']}/favourite", headers=alice.headers))
    _ok(post(f"/api/v1/statuses/{heron['id']}/bookmark", headers=alice.headers))
    friends = _ok(post("/api/v1/lists", json={"title": "Friends"}, headers=alice.headers))
    _ok(
        post(
            f"/api/v1/lists/{friends['id']}/accounts",
            json={"account_ids": [bob.id]},
            headers=alice.headers,
        )
    )
    _ok(post("/api/v1/tags/birds/follow", headers=alice.headers))
    _ok(
        post(
            "/api/v2/filters",
            json={
                "title": "Herons",
                "context": ["home", "public"],
                "keywords_attributes": [{"keyword": "heron"}],
            },
            headers=alice.headers,
        )
    )
    _announce(api, "Welcome to Roost")
    api.drain()
    notifications = _ok(api.client.get("/api/v1/notifications", headers=alice.headers))
    assert len(notifications) >= 3  # bob's follow, favourite, reply and direct post
    oldest, newest = notifications[-1]["id"], notifications[0]["id"]
    marker = {"notifications": {"last_read_id": oldest}}
    _ok(post("/api/v1/markers", json=marker, headers=alice.headers))
    return (
        alice,
        bob,
        {
            "alice_id": alice.id,
            "bob_id": bob.id,
            "list_id": friends["id"],
            "heron_id": heron["id"],
            "wren_id": wren["id"],
            "marker_id": oldest,
            "newest_notification_id": newest,
        },
    )


def _fill(value, seeded: dict[str, str]):
    return value.format(**seeded) if isinstance(value, str) else value


def _request(api, call: Call, headers: dict, seeded: dict[str, str]):
    url = _fill(call.path, seeded)
    params = None
    if isinstance(call.query, str):
        url += "?" + call.query  # exactly as the app encodes it
    elif call.query:
        params = [(key, _fill(value, seeded)) for key, value in call.query]
    form = {k: _fill(v, seeded) for k, v in call.form.items()} if call.form else None
    return api.client.request(
        call.method,
        url,
        params=params,
        json=call.json,
        data=form,
        headers={"Authorization": headers["Authorization"]} if call.token else {},
    )


def _replay_stream(api, call: Call, alice: User, bob: User) -> None:
    """Open the WebSocket as the app does and send its subscriptions, then a hashtag one
    without a tag, which the server must refuse. The server answers subscribe messages in
    order and a good one sends nothing, so the first frame back has to be that refusal: none
    of the app's own was refused. Then a post by bob (whom alice follows) arrives on `user`,
    which all three apps that stream subscribe to."""
    token = alice.token
    with api.client.websocket_connect(call.path, subprotocols=[token]) as ws:
        # a browser (masto.js) and URLSession drop a socket that does not echo the protocol
        assert ws.accepted_subprotocol == token
        for message in call.ws_messages:
            ws.send_text(json.dumps(message))
        ws.send_text(json.dumps({"type": "subscribe", "stream": "hashtag"}))
        first = ws.receive_json()
        assert first == {"error": "Missing or invalid tag", "status": 400}, first
        post = api.status(bob, "streamed at start-up")
        frame = ws.receive_json()
        assert (frame["stream"], frame["event"]) == (["user"], "update"), frame
        assert json.loads(frame["payload"])["id"] == post["id"]


@pytest.mark.parametrize("call", CASES)
def test_client_startup_call(api, call: Call):
    alice, bob, seeded = seed(api)
    if call.is_stream:
        _replay_stream(api, call, alice, bob)
        return
    response = _request(api, call, alice.headers, seeded)
    assert response.status_code == call.status, response.text
    answer = response.json()
    if call.status == 200:
        assert not (isinstance(answer, dict) and "error" in answer), answer
    found = problems(answer, call.needs) if call.needs is not None else []
    assert not found, "\n".join(found)
    if call.check is not None:
        call.check(response, seeded, lambda url: api.client.get(url, headers=alice.headers))
