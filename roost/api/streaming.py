"""Streaming: server-sent events and the WebSocket endpoint, fed by the same fan-out.

Each stream subscribes to bus channels (``user:<id>``, ``direct:<id>``, ``public``,
``public:local``, ``hashtag:<tag>``, ``list:<id>``). Status updates arrive rendered once by the
fan-out; notifications and conversations arrive as ids and are rendered for their one
recipient. A comment line every 15 s keeps proxies and clients (Mastodon.py reads with a 300 s
timeout) from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from roost.api.auth import Caller, caller_from, covers
from roost.api.endpoint import PUBLIC, IfToken
from roost.api.http import ApiError, error_response
from roost.bodies import BadJson, client_json
from roost.domain.errors import NotFound
from roost.domain.ids import parse_id
from roost.domain.text import normalize_tag
from roost.present import entities
from roost.services import conversations as conversation_service
from roost.services import lists as list_service
from roost.services import notifications as notification_service
from roost.services import social
from roost.services.context import Context
from roost.services.notifications import HEARTBEAT_SECONDS

PUBLIC_STREAMS = {"public": "public", "public:local": "public:local"}


def channels_for(stream: str, caller: Caller | None, tag: str | None) -> list[str]:
    """Bus channels of a Mastodon stream name; ApiError when it cannot be had."""
    if caller is not None and not covers(caller.scopes, "read:statuses"):
        raise ApiError(403, "This stream is outside the authorized scopes")
    if stream in PUBLIC_STREAMS:
        return [PUBLIC_STREAMS[stream]]
    if stream in ("hashtag", "hashtag:local"):
        name = normalize_tag(tag or "")
        if name is None:
            raise ApiError(400, "Missing or invalid tag")
        return [f"hashtag:{name}"]
    if stream == "direct":  # Conversation entities of one's direct threads (Ice Cubes, Elk)
        if caller is None or caller.account is None:
            raise ApiError(401, "Error: Missing access token")
        return [f"direct:{caller.account_id}"]
    if stream in ("user", "user:notification"):
        if caller is None or caller.account is None:
            raise ApiError(401, "Error: Missing access token")
        needed = "read:notifications" if stream == "user:notification" else "read:statuses"
        if not covers(caller.scopes, needed):
            raise ApiError(403, "This stream is outside the authorized scopes")
        return [f"user:{caller.account_id}"]
    raise ApiError(400, "Unknown stream type")


async def _channels(ctx: Context, stream: str, caller: Caller | None, key: str | None):
    """``channels_for``, and the ``list`` stream, whose list must be the caller's (``key``:
    the tag of a hashtag stream, the list id of a list stream)."""
    if stream != "list":
        return channels_for(stream, caller, key)
    channels_for("user", caller, None)  # signed in with read:statuses, as for user
    owner = caller.account_id if caller is not None else None
    list_id = parse_id(key) if isinstance(key, str | int) else None
    if list_id is None:
        raise ApiError(400, "Missing or invalid list")
    async with ctx.db.read() as conn:
        if owner is None or not await list_service.owns(conn, owner, list_id):
            raise ApiError(401, "Not authorized to stream this list")  # Mastodon's answer
    return [f"list:{list_id}"]


@functools.lru_cache(maxsize=64)
def _decode(raw: str) -> tuple[str, str | None, int | None]:
    """(event, payload text, notification or conversation id) of a bus message.

    One message goes to every subscriber of its channel (1,000 open streams get the same
    string): it is parsed and re-serialised once, not once per stream.
    """
    message = json.loads(raw)
    event = message["event"]
    if event in ("notification", "conversation"):  # rendered for their one recipient
        return event, None, message["id"]
    payload = message["payload"]
    return event, payload if isinstance(payload, str) else json.dumps(payload), None


@functools.lru_cache(maxsize=64)
def _authors(raw: str) -> frozenset[int]:
    """The accounts whose post a bus message carries (the author, and a repost's original)."""
    payload = json.loads(raw).get("payload")
    if not isinstance(payload, dict):
        return frozenset()
    found = {payload.get("account", {}).get("id")}
    if isinstance(payload.get("reblog"), dict):
        found.add(payload["reblog"].get("account", {}).get("id"))
    return frozenset(int(i) for i in found if i)


class Screen:
    """What a signed-in subscriber must not be streamed: posts of accounts they mute or block
    or that block them, as their timelines leave out (Mastodon's streaming does the same).
    The set is read at subscribe and again at most every ``REFRESH`` seconds."""

    REFRESH = 30.0

    def __init__(self, ctx: Context, caller: Caller | None) -> None:
        self.ctx = ctx
        self.account = caller.account_id if caller and caller.account else None
        self.hidden: set[int] = set()
        self.read_at = -self.REFRESH

    async def hides(self, raw: str) -> bool:
        if self.account is None:
            return False
        authors = _authors(raw)
        if not authors:
            return False
        now = time.monotonic()
        if now - self.read_at >= self.REFRESH:
            self.read_at = now
            async with self.ctx.db.read() as conn:
                self.hidden = await social.hidden_ids(conn, self.account)
        return bool(self.hidden) and not authors.isdisjoint(self.hidden)


async def _render(ctx: Context, caller: Caller | None, stream: str, raw: str):
    """(event, payload string) for one bus message, or None to skip it on this stream."""
    event, payload, notification_id = _decode(raw)
    if payload is not None:
        return None if stream == "user:notification" else (event, payload)
    if event == "conversation":
        return await _conversation(ctx, caller, notification_id)
    if caller is None or not covers(caller.scopes, "read:notifications"):
        return None  # a read:statuses token gets posts, not notifications
    account_id = caller.account_id
    if account_id is None or notification_id is None:
        return None
    async with ctx.db.read() as conn:
        try:
            row = await notification_service.get(conn, account_id, notification_id)
        except NotFound:  # dismissed or cleared since: nothing to show
            return None
        found = await entities.notifications(ctx, conn, [row], account_id)
    return ("notification", json.dumps(found[0])) if found else None


async def _conversation(ctx: Context, caller: Caller | None, conversation_id: int | None):
    """A direct thread's Conversation as its one participant sees it now (None once hidden)."""
    account_id = caller.account_id if caller is not None else None
    if account_id is None or conversation_id is None:
        return None
    async with ctx.db.read() as conn:
        try:
            row = await conversation_service.get(conn, account_id, conversation_id)
        except NotFound:  # hidden since: nothing to show
            return None
        found = await entities.conversations(ctx, conn, [row], account_id)
    return ("conversation", json.dumps(found[0])) if found else None


@functools.lru_cache(maxsize=64)
def _sse_frame(event: str, payload: str) -> bytes:
    return f"event: {event}\ndata: {payload}\n\n".encode()


async def _caller(request) -> Caller | None:
    async with request.app.state.ctx.db.read() as conn:
        return await caller_from(conn, request)


async def sse(request: Request) -> Response:
    ctx: Context = request.app.state.ctx
    path = request.url.path.removeprefix("/api/v1/streaming").strip("/") or "user"
    stream = path.replace("/", ":")
    try:
        caller = await _caller(request)
        key = request.query_params.get("list" if stream == "list" else "tag")
        channels = await _channels(ctx, stream, caller, key)
    except ApiError as exc:
        return error_response(exc.status, exc.error)
    subscription = await ctx.bus.subscribe(channels)
    return StreamingResponse(
        _events(ctx, caller, stream, subscription),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(ctx, caller, stream, subscription) -> AsyncIterator[bytes]:
    screen = Screen(ctx, caller)
    try:
        yield b":)\n\n"
        while True:
            try:
                # asyncio.timeout, not wait_for: no task per message (1,000 streams, 1 post)
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    _channel, raw = await subscription.get()
            except TimeoutError:
                yield b":thump\n\n"
                continue
            event, payload, _id = _decode(raw)
            if payload is not None:  # the common case: one shared frame
                shown = screen.account is None or not await screen.hides(raw)
                if shown and stream != "user:notification":
                    yield _sse_frame(event, payload)
                continue
            rendered = await _render(ctx, caller, stream, raw)
            if rendered is not None:
                yield _sse_frame(*rendered)
    finally:
        await subscription.close()


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


async def websocket(ws: WebSocket) -> None:
    """Mastodon's multiplexed WebSocket: ``{"type": "subscribe", "stream": ..., "tag": ...}``."""
    ctx: Context = ws.app.state.ctx
    try:
        caller = await _caller(ws)
    except ApiError:
        await ws.close(code=4001)
        return
    # a token sent as the subprotocol must be echoed back, or the browser drops the socket
    await ws.accept(subprotocol=ws.headers.get("sec-websocket-protocol"))
    subscriptions: dict[tuple[str, str | None], asyncio.Task] = {}
    first = ws.query_params.get("stream")
    try:
        if first:
            key = ws.query_params.get("list" if first == "list" else "tag")
            await _ws_subscribe(ws, ctx, caller, first, key, subscriptions)
        while True:
            try:
                message = client_json(await ws.receive_text())
            except (BadJson, TypeError, KeyError):
                await ws.send_json({"error": "Invalid JSON"})
                continue
            if not isinstance(message, dict):
                continue
            stream = str(message.get("stream", ""))
            tag = message.get("list" if stream == "list" else "tag")
            if message.get("type") == "subscribe":
                await _ws_subscribe(ws, ctx, caller, stream, tag, subscriptions)
            elif message.get("type") == "unsubscribe":
                task = subscriptions.pop((stream, tag), None)
                if task:
                    task.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        for task in subscriptions.values():
            task.cancel()


async def _ws_subscribe(ws, ctx, caller, stream, tag, subscriptions) -> None:
    try:
        channels = await _channels(ctx, stream, caller, tag)
    except ApiError as exc:
        await ws.send_json({"error": exc.error, "status": exc.status})
        return
    if (stream, tag) in subscriptions:
        return
    subscription = await ctx.bus.subscribe(channels)
    names = [stream, str(tag)] if tag else [stream]
    subscriptions[(stream, tag)] = asyncio.create_task(
        _ws_pump(ws, ctx, caller, stream, names, subscription)
    )


async def _ws_pump(ws, ctx, caller, stream, names, subscription) -> None:
    screen = Screen(ctx, caller)
    try:
        while True:
            _channel, raw = await subscription.get()
            if await screen.hides(raw):
                continue
            rendered = await _render(ctx, caller, stream, raw)
            if rendered is not None:
                event, payload = rendered
                with contextlib.suppress(Exception):
                    await ws.send_json({"stream": names, "event": event, "payload": payload})
    finally:
        await subscription.close()


# What the route table's test reads: streams are public, a token must carry read:statuses
# (and read:notifications for notifications), as ``channels_for`` checks per stream.
sse.access = websocket.access = IfToken("read:statuses")  # type: ignore[attr-defined]
health.access = PUBLIC  # type: ignore[attr-defined]
