"""Media endpoints: upload a picture, read it back while it is processed, describe it, delete it.

``POST /api/v2/media`` answers 200 with the picture when its processing ends within
``ROOST_MEDIA_WAIT`` seconds (a picture usually does: apps that never poll still work), else 202
with ``url`` null, and the app polls ``GET /api/v1/media/:id`` (206 until ready). A picture the
processing refused (a bomb, a polyglot, not what it claims) is a 422 with the reason, there or
when read back. ``/api/v1/media`` is the same, waiting longer, as Mastodon's v1 did.
"""

from __future__ import annotations

from starlette.responses import Response

from roost.api.endpoint import Call, endpoint
from roost.api.http import ApiError, Json, path_id
from roost.api.params import File, Text
from roost.bodies import Upload
from roost.present import media as present
from roost.services import media
from roost.slots import give_back

UPLOAD = Upload(files=2)  # the body as large as ROOST_SHIELD_MAX_UPLOAD_BYTES
FIELDS = {"file": File(), "thumbnail": File(), "description": Text(), "focus": Text()}
V1_WAIT = 30.0  # seconds a v1 upload waits, as Mastodon's v1 answered when processed


async def _upload(call: Call, wait: float) -> Response:
    sent = call.args["file"]
    if sent is None:
        raise ApiError(422, "Validation failed: File can't be blank")
    ctx = call.ctx
    incoming, _kind = await media.receive(ctx, sent.data)
    async with ctx.db.write() as tx:
        media_id = await media.upload(
            ctx,
            tx,
            call.me,
            incoming,
            len(sent.data),
            call.args["description"],
            call.args["focus"],
        )
    give_back(call.request.scope)  # the wait below uses no slot's worth of the site
    await ctx.media_jobs.wait(media_id, wait)
    return await _answer(call, media_id, accepted=202)


async def _answer(call: Call, media_id: int, accepted: int) -> Response:
    async with call.ctx.db.read() as conn:
        row = await media.own(conn, call.me, media_id)
    if row["state"] == media.FAILED:
        raise ApiError(422, f"Validation failed: {row['error']}")
    status = 200 if row["state"] == media.READY else accepted
    return Json(present.upload(call.ctx, row), status_code=status)


@endpoint("write:media", own_transactions=True, body=FIELDS, upload=UPLOAD)
async def create_v2(call: Call) -> Response:
    return await _upload(call, call.ctx.settings.media.wait)


@endpoint("write:media", own_transactions=True, body=FIELDS, upload=UPLOAD)
async def create_v1(call: Call) -> Response:
    return await _upload(call, max(V1_WAIT, call.ctx.settings.media.wait))


@endpoint("write:media", own_transactions=True)
async def show(call: Call) -> Response:
    """206 while processing (Mastodon's answer), 200 when ready, 422 if it failed."""
    return await _answer(call, path_id(call.request), accepted=206)


@endpoint("write:media", write=True, body={"description": Text(), "focus": Text()})
async def update(call: Call) -> Response:
    row = await media.describe(
        call.tx, call.me, path_id(call.request), call.args["description"], call.args["focus"]
    )
    status = 206 if row["state"] == media.PROCESSING else 200
    return Json(present.upload(call.ctx, row), status_code=status)


@endpoint("write:media", write=True)
async def delete(call: Call) -> dict:
    await media.remove(call.ctx, call.tx, call.me, path_id(call.request))
    return {}
