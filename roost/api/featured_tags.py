"""Featured hashtags: the ones shown on one's profile, and suggestions from one's own posts."""

from __future__ import annotations

from roost.api.endpoint import Call, endpoint
from roost.api.http import path_id
from roost.api.params import Text
from roost.present import entities
from roost.services import featured


@endpoint("read:accounts")
async def index(call: Call) -> list:
    found = await featured.featured(call.conn, call.me)
    return [entities.featured_tag(call.ctx, call.account["username"], f) for f in found]


@endpoint("write:accounts", write=True, body={"name": Text(required=True)})
async def create(call: Call) -> dict:
    found = await featured.feature(call.ctx, call.tx, call.me, call.args["name"] or "")
    return entities.featured_tag(call.ctx, call.account["username"], found)


@endpoint("write:accounts", write=True)
async def remove(call: Call) -> dict:
    await featured.unfeature(call.tx, call.me, path_id(call.request))
    return {}


@endpoint("read:accounts")
async def suggestions(call: Call) -> list:
    """The tags one uses most and does not feature yet (Tag entities, as Mastodon sends)."""
    return [entities.tag(call.ctx, name) for name in await featured.suggestions(call.conn, call.me)]
