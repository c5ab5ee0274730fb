"""Hashtags: a tag's card, following and unfollowing it, and the viewer's followed tags."""

from __future__ import annotations

from starlette.responses import Response

from roost.api.endpoint import Call, IfToken, endpoint
from roost.api.http import Json, link_header
from roost.api.params import Paging
from roost.present import entities
from roost.services import tags
from roost.services.tags import TagCard


def _entity(call: Call, found: TagCard) -> dict:
    return entities.tag(call.ctx, found.name, found.history, found.following)


def _name(call: Call) -> str:
    return tags.tag_name(call.request.path_params["name"])


@endpoint(IfToken("read:follows"))
async def show(call: Call) -> dict:
    return _entity(call, await tags.card(call.ctx, call.conn, _name(call), call.viewer_id))


@endpoint("write:follows", write=True)
async def follow(call: Call) -> dict:
    return _entity(call, await tags.follow(call.ctx, call.tx, call.me, _name(call)))


@endpoint("write:follows", write=True)
async def unfollow(call: Call) -> dict:
    return _entity(call, await tags.unfollow(call.ctx, call.tx, call.me, _name(call)))


@endpoint("read:follows", query={"page": Paging(most=200)})
async def followed(call: Call) -> Response:
    cards, cursors = await tags.followed(call.ctx, call.conn, call.me, call.args["page"])
    found = [_entity(call, one) for one in cards]
    return Json(found, headers=link_header(call.request, cursors))
