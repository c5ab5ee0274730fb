"""Writing posts (with replies and content warnings), editing them, and post actions.

A refused post comes back on the page its form was on (home, public, a post's page, or
/compose), named by the form's ``origin`` field, with what was typed and a message beside the
field; a refused edit comes back on the post's page, in the edit form.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from roost.domain.errors import Invalid, NotFound, RoostError, ValidationFailed
from roost.present.entities import statuses_by_id
from roost.services import polls as poll_service
from roost.services import posts as post_service
from roost.web import composer, feed, thread, timelines
from roost.web.errors import page
from roost.web.forms import Submission, submitted
from roost.web.render import base_context, render_text
from roost.web.session import (
    Refused,
    done,
    field,
    flash,
    must_view,
    safe_next,
    seen_at,
    wants_json,
)

COMPOSE_FIELDS = ("text", "spoiler_text", "visibility", "in_reply_to_id")
SHOWN_FIELDS = ("text", "spoiler_text", "visibility")  # the rest has its message at the top
GONE = "The post you are replying to is gone."
UNSENT = "Press Attach to add the picture you chose (or clear it), then post."
TIMELINES = {"/home": timelines.show_home, "/public": timelines.show_public}


@page
async def compose_form(request: Request) -> Response:
    """The compose page: empty, replying, or a draft holding pictures (``?media=1,2``)."""
    ctx = request.app.state.ctx
    reply_id = feed.int_param(request, "in_reply_to")
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
        reply_to = await composer.reply_target(ctx, conn, reply_id, me["id"])
        pictures = await composer.pending(ctx, conn, me["id"], composer.wanted(request))
    values = {"text": thread.reply_prefix(reply_to, me["username"]) if reply_to else ""}
    values.update(composer.take_draft(request))
    return composer.page(request, values, {}, reply_to, pictures)


@submitted
async def compose(sent: Submission) -> Response:
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    values: dict[str, Any] = {
        n: field(form, n, 20_000) for n in (*COMPOSE_FIELDS, "next", "origin")
    }
    reply_id = feed.parse_id(values["in_reply_to_id"].strip())
    if values["in_reply_to_id"].strip() and reply_id is None:  # junk is no top-level post
        return await _invalid(request, values, {"form": GONE}, None)
    if field(form, "file") and not wants_json(request):  # chosen, but the form never sent it
        return await _invalid(request, values, {"file": UNSENT}, reply_id)
    try:
        ids = values["media_ids"] = composer.media_ids(form)
        described = values["descriptions"] = composer.descriptions(form, ids)
        async with ctx.db.write() as tx:
            await composer.describe(tx, me["id"], described)
            status_id = await post_service.create(
                ctx, tx, me, values["text"], in_reply_to_id=reply_id, media_ids=ids,
                visibility=values["visibility"] or "public", spoiler_text=values["spoiler_text"],
            )  # fmt: skip
    except Invalid as exc:
        return await _invalid(request, values, {_field(exc.field): f"{exc.message}."}, reply_id)
    except NotFound:
        return await _invalid(request, values, {"form": GONE}, None)
    except ValidationFailed as exc:  # the pictures: too many, not one's own, not processed
        errors = {"form": composer.refusal(exc)[1]}
        return await _invalid(request, values, errors, reply_id)
    return await _posted(request, form, me, status_id, reply_id)


def _field(name: str) -> str:
    return name if name in SHOWN_FIELDS else "form"


async def _invalid(request: Request, values: dict, errors: dict, reply_id: int | None):
    """The form again on the page it came from, with what was typed and a message beside the
    field; the compose page when that page is unknown or gone."""
    if wants_json(request):
        return JSONResponse({"errors": errors}, status_code=422)
    refused = {"values": values, "errors": errors}
    origin = safe_next(values["origin"], "/compose").split("?")[0]
    if values.get("media_ids") or "file" in errors:  # the compose page shows a draft's pictures
        origin = "/compose"
    if origin in TIMELINES:
        return await TIMELINES[origin](seen_at(request, origin), refused)
    post = thread.PATH.fullmatch(origin)
    if post and (status_id := feed.parse_id(post[2])) is not None:
        try:
            return await thread.show(seen_at(request, origin), post[1], status_id, reply=refused)
        except NotFound:
            pass  # the post was deleted meanwhile: the compose page says so
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
        try:
            reply_to = await composer.reply_target(ctx, conn, reply_id, me["id"])
        except NotFound:
            reply_to = None
        pictures = await composer.pending(ctx, conn, me["id"], values.get("media_ids") or [])
    return composer.page(request, values, errors, reply_to, pictures, status=422)


async def _posted(request: Request, form: FormData, me, status_id: int, reply_id) -> Response:
    ctx = request.app.state.ctx
    target = f"/@{me['username']}/{status_id}"
    if wants_json(request):
        async with ctx.db.read() as conn:
            items = await statuses_by_id(ctx, conn, [status_id], me["id"])
        values = {**base_context(request), "items": items, "here": field(form, "next")}
        values["in_thread"] = reply_id is not None  # shown among its thread's replies
        return JSONResponse({"id": str(status_id), "url": target, "html": _items(values)})
    if reply_id is not None:
        back = field(form, "next")
        destination = back if back.startswith("/@") else target
        return RedirectResponse(f"{destination}#post-{status_id}", status_code=303)
    flash(request, "Your post is up.")
    return RedirectResponse(target, status_code=303)


def _items(values: dict) -> str:
    return render_text("_items.html", **values)


@submitted
async def edit(sent: Submission) -> Response:
    """The author's edit form on a post's page: new text and content warning, as the API's PUT."""
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    status_id = feed.snowflake(request.path_params["id"])
    target = f"/@{me['username']}/{status_id}"
    values = {"text": field(form, "text", 20_000), "spoiler_text": field(form, "spoiler_text")}
    try:
        async with ctx.db.write() as tx:
            await post_service.edit(
                ctx, tx, status_id, me["id"], values["text"], spoiler_text=values["spoiler_text"]
            )
    except Invalid as exc:
        if exc.field not in EDIT_FIELDS:  # not a field of the form (a repost cannot be edited)
            raise Refused(400, f"{exc.message}.") from exc
        refused = {
            "values": values,
            "errors": {EDIT_FIELDS[exc.field]: f"Not saved: {exc.message}."},
        }
        return await thread.show(seen_at(request, target), me["username"], status_id, edit=refused)
    except RoostError as exc:
        raise Refused(exc.status if exc.status in (403, 404) else 400, exc.message) from exc
    flash(request, "Your post was edited.")
    return RedirectResponse(target, status_code=303)


EDIT_FIELDS = {"text": "edit-text", "spoiler_text": "edit-spoiler"}  # ids in thread.html
ACTIONS = ("favourite", "unfavourite", "reblog", "unreblog", "delete")


@submitted
async def act(sent: Submission) -> Response:
    """Favourite, repost (and undo) or delete; the script gets the new action bar back."""
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    action = request.path_params["action"]
    status_id = feed.snowflake(request.path_params["id"])
    if action not in ACTIONS:
        raise NotFound("Action")
    try:
        async with ctx.db.write() as tx:
            original = await _apply(ctx, tx, me, action, status_id)
    except RoostError as exc:
        raise Refused(exc.status if exc.status in (403, 404) else 400, exc.message) from exc
    if action == "delete":
        return _deleted(request, form, me, status_id)
    async with ctx.db.read() as conn:
        found = await statuses_by_id(ctx, conn, [original], me["id"])
    payload = {"html": _actions_html(request, found[0], field(form, "next"))} if found else None
    return done(request, form, "/home", payload)


@submitted
async def vote(sent: Submission) -> Response:
    """Vote on a post's poll with a plain form (``choices``: the options' indexes)."""
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    poll_id = feed.snowflake(request.path_params["id"])
    sent_choices = [str(c) for c in form.getlist("choices")][:40]
    # junk is no choice: an empty vote is refused by the rule, with its own words
    choices = [int(c) for c in sent_choices if c.isascii() and c.isdigit() and len(c) < 6]
    try:
        async with ctx.db.write() as tx:
            await poll_service.vote(ctx, tx, poll_id, me["id"], choices)
    except RoostError as exc:
        raise Refused(exc.status if exc.status in (403, 404) else 400, exc.message) from exc
    flash(request, "Your vote was counted.")
    return done(request, form, "/home")


def _deleted(request: Request, form: FormData, me, status_id: int) -> Response:
    """After a delete, go back, unless back is the deleted post's own page."""
    profile = f"/@{me['username']}"
    if wants_json(request):
        return JSONResponse({"deleted": str(status_id)})
    back = safe_next(field(form, "next"), profile)
    if str(status_id) in back:
        back = profile
    flash(request, "Your post was deleted.")
    return RedirectResponse(back, status_code=303)


async def _apply(ctx, tx, me, action: str, status_id: int) -> int:
    """Do one action; the id of the post it touched (a repost acts on its original)."""
    if action == "delete":
        await post_service.delete_status(ctx, tx, status_id, me["id"])
        return status_id
    row = await post_service.get_visible(tx.conn, status_id, me["id"])
    original = row["reblog_of_id"] or status_id
    if action == "favourite":
        await post_service.favourite(ctx, tx, me["id"], status_id)
    elif action == "unfavourite":
        await post_service.unfavourite(tx, me["id"], status_id)
    elif action == "reblog":
        await post_service.reblog(ctx, tx, me, status_id)
    else:
        await post_service.unreblog(ctx, tx, me["id"], status_id)
    return original


def _actions_html(request: Request, status: dict, here: str) -> str:
    values = {**base_context(request), "s": status, "here": here}
    return render_text("_actions.html", **values)
