"""Polls: read one and vote (Mastodon's /api/v1/polls); a poll's id is its post's."""

from __future__ import annotations

from roost.api.endpoint import Call, IfToken, endpoint
from roost.api.http import path_id
from roost.api.params import Wholes
from roost.present.polls import poll
from roost.services import polls


@endpoint(IfToken("read:statuses"))
async def show(call: Call) -> dict:
    found = await polls.one(call.conn, path_id(call.request), call.viewer_id)
    return poll(found, call.viewer_id)


@endpoint("write:statuses", write=True, body={"choices": Wholes(most=polls.MOST_CHOICES)})
async def vote(call: Call) -> dict:
    """Vote (``choices[]``: option indexes), once; answers the poll as it is now."""
    picked = call.args["choices"]
    found = await polls.vote(call.ctx, call.tx, path_id(call.request), call.me, picked)
    return poll(found, call.viewer_id)
