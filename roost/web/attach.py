"""``POST /compose/media``: the composer's "Attach" and "Remove" buttons, without a script.

The whole compose form comes here (multipart, its draft with it): the alt text typed so far is
kept, then one picture is attached (stored and processed by ``roost.services.media``, waited for
as the API's upload waits) or one removed, and the person is sent back to the composer holding
the draft's pictures. A refused picture (not a picture, too large, a bomb) comes back on the
compose page with its reason beside the file field and the draft as it was, never a 500.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import RedirectResponse, Response

from roost.bodies import Upload
from roost.domain.errors import Invalid, NotFound, RoostError, ValidationFailed
from roost.domain.ids import parse_id
from roost.services import media
from roost.slots import give_back
from roost.web import composer
from roost.web.forms import Submission, with_files
from roost.web.session import field

UPLOAD = Upload(files=1)  # the shield's upload limit; the path is one of its UPLOAD_PATHS
TOO_MANY = f"A post has at most {media.MOST_ATTACHED} pictures."


@with_files(UPLOAD)
async def attach(sent: Submission) -> Response:
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    values: dict[str, Any] = {n: field(form, n, 20_000) for n in composer.DRAFT_FIELDS}
    ids: list[int] = []
    try:
        ids = composer.media_ids(form)
        values["descriptions"] = composer.descriptions(form, ids)
        async with ctx.db.write() as tx:
            await composer.describe(tx, me["id"], values["descriptions"])
        if removed := parse_id(field(form, "remove")):
            await _remove(sent, removed)
            ids = [i for i in ids if i != removed]
        else:
            ids.append(await _add(sent, len(ids)))
    except RoostError as exc:
        status, message = composer.refusal(exc)
        return await _again(sent, values, ids, {"file": message}, status)
    target = composer.address(values, ids)
    if composer.keep_draft(request, values):
        return RedirectResponse(target, status_code=303)
    return await _again(sent, values, ids, {}, 200)  # too long for the cookie: drawn here


async def _add(sent: Submission, held: int) -> int:
    """One picture stored and processed; its id (the draft already holding four: refused)."""
    ctx, me = sent.ctx, sent.me
    if held >= media.MOST_ATTACHED:
        raise ValidationFailed(TOO_MANY)
    picture = sent.files.get("file")
    if picture is None or not picture.data:
        raise Invalid("file", "was not chosen: choose a picture, then press Attach")
    incoming, _kind = await media.receive(ctx, picture.data)
    alt = field(sent.form, "description", 5000)
    async with ctx.db.write() as tx:
        media_id = await media.upload(ctx, tx, me["id"], incoming, len(picture.data), alt)
    give_back(sent.request.scope)  # the wait uses a worker process, not a request slot
    if await ctx.media_jobs.wait(media_id, ctx.settings.media.wait) == media.FAILED:
        async with ctx.db.read() as conn:
            why = (await media.own(conn, me["id"], media_id))["error"]
        async with ctx.db.write() as tx:
            await media.remove(ctx, tx, me["id"], media_id)  # nothing to keep of a refused one
        raise ValidationFailed(why or "the picture could not be read")
    return media_id


async def _remove(sent: Submission, media_id: int) -> None:
    try:
        async with sent.ctx.db.write() as tx:
            await media.remove(sent.ctx, tx, sent.me["id"], media_id)
    except NotFound:
        pass  # gone already (removed in another tab): the draft simply no longer holds it


async def _again(sent: Submission, values: dict, ids: list[int], errors: dict, status: int):
    """The compose page drawn in answer: the draft, its pictures, and what went wrong."""
    ctx, me = sent.ctx, sent.me
    reply_id = parse_id(values.get("in_reply_to_id", ""))
    async with ctx.db.read() as conn:
        try:
            reply_to = await composer.reply_target(ctx, conn, reply_id, me["id"])
        except NotFound:
            reply_to = None
        pictures = await composer.pending(ctx, conn, me["id"], ids)
    return composer.page(sent.request, values, errors, reply_to, pictures, status)
