"""Notifications, and the logged-in person's live stream (session-authenticated SSE).

The API's streams want a bearer token; a browser page has a session cookie instead, so
``/web/stream`` subscribes to the same ``user:<id>`` bus channel and tells the page only *that*
something arrived (ids, no content): the page then fetches the posts as HTML, through the same
permission checks as any page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from roost.present import entities
from roost.services import notifications as notification_service
from roost.services.notifications import HEARTBEAT_SECONDS
from roost.web import feed
from roost.web.errors import page
from roost.web.render import base_context, pieces, render_text, respond
from roost.web.session import must_view, viewer
from roost.web.weight import fit, older_cursor

PAGE = 30


@page
async def notifications(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
        max_id = feed.int_param(request, "max_id")
        rows = await notification_service.page(conn, me["id"], max_id=max_id, limit=PAGE)
        items = await entities.notifications(ctx, conn, rows, me["id"])
    values = {**base_context(request), "title": "Notifications", "here": "/notifications"}
    values["past_end"] = max_id is not None  # "Older →" from a page that was exactly full
    parts = pieces("notification", items, values)

    def draw(counts: list[int]) -> str:
        shown = counts[0]
        last = older_cursor(items, shown, rows[-1]["id"] if rows else None, len(rows) == PAGE)
        older = f"/notifications?max_id={last}" if last else None
        notes = Markup("".join(parts[:shown]))
        return render_text(
            "notifications.html", **values, items=items[:shown], shown=notes, older=older
        )

    return respond(request, fit(draw, [parts])[0])


async def stream(request: Request) -> Response:
    """A 401 (not a redirect to the login page) when logged out: EventSource stops on it."""
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        me = await viewer(request, conn)
    if me is None:
        return PlainTextResponse("Log in first", status_code=401)
    subscription = await ctx.bus.subscribe([f"user:{me['id']}"])
    return StreamingResponse(
        _events(subscription),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(subscription) -> AsyncIterator[bytes]:
    try:
        yield b":)\n\n"
        while True:
            try:
                _channel, raw = await asyncio.wait_for(subscription.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b":thump\n\n"
                continue
            event = _summary(raw)
            if event is not None:
                yield f"event: {event[0]}\ndata: {event[1]}\n\n".encode()
    finally:
        await subscription.close()


def _summary(raw: str) -> tuple[str, str] | None:
    """(event, id) of a bus message: update/delete carry a status id, notification its own."""
    try:
        message = json.loads(raw)
        event = message["event"]
        if event == "update":
            payload = message["payload"]
            payload = json.loads(payload) if isinstance(payload, str) else payload
            return "update", str(payload["id"])
        if event == "delete":
            return "delete", str(message["payload"])
        if event == "notification":
            return "notification", str(message["id"])
    except (ValueError, KeyError, TypeError):
        return None
    return None
