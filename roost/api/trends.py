"""Trending posts and links (trending tags: ``timelines.trends_tags``)."""

from __future__ import annotations

from starlette.responses import Response

from roost.api.endpoint import PUBLIC, Call, IfToken, endpoint
from roost.api.http import Json
from roost.api.params import Limit, Offset
from roost.present import entities
from roost.present.cards import trend_link
from roost.services import trends


@endpoint(IfToken("read:statuses"), query={"limit": Limit(20, 40), "offset": Offset()})
async def statuses(call: Call) -> Response:
    a = call.args
    ids = await trends.statuses_for(call.ctx, call.conn, call.viewer_id, a["limit"], a["offset"])
    found = await entities.statuses_json_by_id(call.ctx, call.conn, ids, call.viewer_id, True)
    return Json(entities.json_array(found))


@endpoint(PUBLIC, query={"limit": Limit(10, 20), "offset": Offset()})
async def links(call: Call) -> list:
    a = call.args
    found = await trends.links_trending(call.ctx, call.conn)
    return [trend_link(row, week) for row, week in found[a["offset"] : a["offset"] + a["limit"]]]
