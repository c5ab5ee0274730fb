"""Streaming: server-sent events and the WebSocket endpoint, fed by the fan-out; heartbeats."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roost.api import streaming
from tests.support.streams import SseReader


def test_sse_streams(live_api, helpers):
    base = live_api.server.url + "/api/v1/streaming"
    alice, bob = live_api.user("alice"), live_api.user("bob")
    live_api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    missing = httpx.get(base + "/user", timeout=5)
    assert missing.status_code == 401 and "error" in missing.json()
    assert httpx.get(base + "/nope", timeout=5).status_code == 404
    assert httpx.get(base + "/hashtag", timeout=5).status_code == 400
    assert httpx.get(base + "/health", timeout=5).text == "OK"
    user = SseReader(base + "/user", bob.headers)
    note = SseReader(base + "/user/notification", alice.headers)
    public = SseReader(base + "/public")
    local = SseReader(base + f"/public/local?access_token={bob.token}")
    tag = SseReader(base + "/hashtag?tag=Birds")
    try:
        assert user.events.get(timeout=5)[0] == "comment"  # the stream opens with a comment
        started = time.monotonic()
        post = live_api.status(alice, "look, #birds")
        kind, data = user.next()
        assert time.monotonic() - started < 1.0
        assert kind == "update" and json.loads(data)["id"] == post["id"]
        for reader in (public, local, tag):
            kind, data = reader.next()
            assert kind == "update" and json.loads(data)["id"] == post["id"]
        live_api.client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=bob.headers)
        kind, data = note.next()
        assert kind == "notification"
        assert json.loads(data)["type"] in ("follow", "favourite")
        live_api.client.delete(f"/api/v1/statuses/{post['id']}", headers=alice.headers)
        assert user.next() == ("delete", post["id"])
        assert public.next() == ("delete", post["id"])
    finally:
        for reader in (user, note, public, local, tag):
            reader.close()


def test_websocket_stream(live_api):
    websockets = pytest.importorskip("websockets.sync.client")
    alice, bob = live_api.user("alice"), live_api.user("bob")
    live_api.client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    url = live_api.server.url.replace("http://", "ws://") + "/api/v1/streaming"
    with websockets.connect(f"{url}?access_token={bob.token}&stream=user") as ws:
        ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "cats"}))
        ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
        assert "error" in json.loads(ws.recv(timeout=5))
        ws.send("not json")
        assert "error" in json.loads(ws.recv(timeout=5))
        ws.send('{"stream":' * 5000)  # issue 12: a RecursionError dropped the socket
        assert "error" in json.loads(ws.recv(timeout=5))
        ws.send(b"binary")
        assert "error" in json.loads(ws.recv(timeout=5))
        time.sleep(0.2)  # Kept: the protocol acknowledges no subscription, so no event to await
        post = live_api.status(alice, "#cats rule")
        seen = set()
        for _ in range(2):
            message = json.loads(ws.recv(timeout=5))
            assert message["event"] == "update"
            assert json.loads(message["payload"])["id"] == post["id"]
            seen.add(tuple(message["stream"]))
        assert seen == {("user",), ("hashtag", "cats")}
        ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "cats"}))
        time.sleep(0.2)  # Kept: nor an unsubscription
        live_api.status(alice, "#cats again")
        message = json.loads(ws.recv(timeout=5))
        assert message["stream"] == ["user"]
    # the token as the WebSocket subprotocol, as Mastodon's own web client sends it
    with websockets.connect(f"{url}?stream=user", subprotocols=[bob.token]) as ws:
        time.sleep(0.2)  # Kept: nothing says the server has subscribed the socket yet
        post = live_api.status(alice, "over a subprotocol")
        assert json.loads(json.loads(ws.recv(timeout=5))["payload"])["id"] == post["id"]
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    with (
        pytest.raises((InvalidStatus, ConnectionClosed)),
        websockets.connect(f"{url}?access_token=bad&stream=user") as ws,
    ):
        ws.recv(timeout=5)  # a bad token: the socket is refused


class _Quiet:
    """A subscription on which nothing ever arrives."""

    closed = False

    async def get(self):
        await asyncio.sleep(3600)

    async def close(self) -> None:
        self.closed = True


async def test_heartbeat_on_idle_streams(monkeypatch):
    monkeypatch.setattr(streaming, "HEARTBEAT_SECONDS", 0.05)
    quiet = _Quiet()
    events = streaming._events(None, None, "public", quiet)
    assert (await anext(events)).startswith(b":")  # opened
    started = time.monotonic()
    for _ in range(3):
        assert (await anext(events)).startswith(b":")
    assert time.monotonic() - started < 1.0
    await events.aclose()
    assert quiet.closed


def test_heartbeat_is_fifteen_seconds():
    assert streaming.HEARTBEAT_SECONDS == 15.0


@pytest.mark.redis
def test_sse_over_the_redis_bus(live_server_factory, redis_url, helpers):
    server = live_server_factory(ROOST_SHIELD_ENABLED="0", ROOST_REDIS_URL=redis_url)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        from_api = client.post(
            "/api/v1/apps",
            json={
                "client_name": "t",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            },
        ).json()
        app_token = client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": from_api["client_id"],
                "client_secret": from_api["client_secret"],
                "scope": "read write",
            },
        ).json()["access_token"]
        token = client.post(
            "/api/v1/accounts",
            json={
                "username": "rita",
                "email": "rita@example.com",
                "password": helpers.password,
                "agreement": True,
            },
            headers=helpers.bearer(app_token),
        ).json()["access_token"]
        reader = SseReader(server.url + "/api/v1/streaming/user", helpers.bearer(token))
        try:
            post = client.post(
                "/api/v1/statuses", json={"status": "via redis"}, headers=helpers.bearer(token)
            ).json()
            kind, data = reader.next()
            assert kind == "update" and json.loads(data)["id"] == post["id"]
        finally:
            reader.close()


def test_the_user_stream_keeps_mutes_and_scopes(live_api):
    """Issue 12, finding 10: a muted account's posts reached the user stream, and a
    read:statuses token received notification events."""
    base = live_api.server.url + "/api/v1/streaming"
    alice, carol, bob = live_api.user("alice"), live_api.user("carol"), live_api.user("bob")
    for target in (alice, carol):
        live_api.client.post(f"/api/v1/accounts/{target.id}/follow", headers=bob.headers)
    live_api.client.post(f"/api/v1/accounts/{carol.id}/mute", headers=bob.headers)
    statuses_only = {"Authorization": "Bearer " + live_api.token_for(bob, "read:statuses")}
    refused = httpx.get(base + "/user/notification", headers=statuses_only, timeout=5)
    assert refused.status_code == 403
    user = SseReader(base + "/user", statuses_only)
    try:
        user.events.get(timeout=5)  # the opening comment
        live_api.status(carol, "muted: never streamed to bob")
        live_api.client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
        shown = live_api.status(alice, "@bob hello")  # a mention: a notification for bob
        kind, data = user.next()
        assert kind == "update" and json.loads(data)["id"] == shown["id"], data
        time.sleep(0.5)  # Kept: whatever should not come has had time to (an absence is no event)
        leftover = []
        while not user.events.empty():
            leftover.append(user.events.get())
        assert [k for k, _ in leftover if k != "comment"] == [], leftover
    finally:
        user.close()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FRAMES = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    JSON_VALUES.map(json.dumps),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["subscribe", "unsubscribe", "x"]),
            "stream": st.text(max_size=30),
        },
        optional={"tag": JSON_VALUES},
    ).map(json.dumps),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
)


@pytest.mark.slow
def test_the_websocket_survives_whatever_a_client_sends(live_api):
    """Issue 12: a WebSocket fuzz. Every frame gets an answer or nothing, never a dropped
    socket; after the junk, a subscription still works on the same socket."""
    websockets = pytest.importorskip("websockets.sync.client")
    alice, bob = live_api.user("alice"), live_api.user("bob")
    url = (
        live_api.server.url.replace("http://", "ws://")
        + f"/api/v1/streaming?access_token={bob.token}"
    )

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(FRAMES, min_size=1, max_size=6))
    def one_socket(frames):
        with websockets.connect(url) as ws:
            for frame in frames:
                ws.send(frame)
            ws.send(json.dumps({"type": "subscribe", "stream": "public"}))
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # errors for the junk, in order; then silence
                try:
                    ws.recv(timeout=0.3)
                except TimeoutError:
                    break
            post = live_api.status(alice, "still listening")
            while True:
                message = json.loads(ws.recv(timeout=5))
                if message.get("event") == "update":
                    assert json.loads(message["payload"])["id"] == post["id"]
                    break

    one_socket()


def test_public_streams_leave_out_whom_the_reader_mutes_or_blocks(live_api):
    base = live_api.server.url + "/api/v1/streaming"
    alice, carol, dave, bob = (live_api.user(n) for n in ("alice", "carol", "dave", "bob"))
    live_api.client.post(f"/api/v1/accounts/{carol.id}/mute", headers=bob.headers)
    live_api.client.post(f"/api/v1/accounts/{bob.id}/block", headers=dave.headers)
    public = SseReader(base + "/public", bob.headers)
    anyone = SseReader(base + "/public")
    try:
        public.events.get(timeout=5)
        for author in (carol, dave):
            live_api.status(author, f"{author.username} says hi")
        shown = live_api.status(alice, "alice says hi")
        kind, data = public.next()
        assert kind == "update" and json.loads(data)["id"] == shown["id"], data
        seen = {json.loads(anyone.next()[1])["account"]["username"] for _ in range(3)}
        assert seen == {"alice", "carol", "dave"}  # an anonymous reader sees them all
    finally:
        public.close()
        anyone.close()
