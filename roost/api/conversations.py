"""Direct conversations: the viewer's threads of direct posts, read, hidden, marked read."""

from __future__ import annotations

from starlette.responses import Response

from roost.api.endpoint import Call, endpoint
from roost.api.http import Json, link_header, path_id
from roost.api.params import Paging
from roost.present import entities
from roost.services import conversations


@endpoint("read:statuses", query={"page": Paging(most=40)})
async def index(call: Call) -> Response:
    rows = await conversations.page(call.conn, call.me, call.args["page"])
    found = await entities.conversations(call.ctx, call.conn, rows, call.me)
    cursors = [row["last_status_id"] for row in rows]
    return Json(found, headers=link_header(call.request, cursors))


@endpoint("write:conversations", write=True)
async def remove(call: Call) -> dict:
    """Hide a conversation until a new post arrives in it."""
    await conversations.remove(call.tx, call.me, path_id(call.request))
    return {}


@endpoint("write:conversations", write=True)
async def read(call: Call) -> dict:
    row = await conversations.mark_read(call.tx, call.me, path_id(call.request))
    return (await entities.conversations(call.ctx, call.tx.conn, [row], call.me))[0]
