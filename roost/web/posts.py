"""A post and its thread, writing posts (with replies and content warnings), and post actions."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from roost.api.entities import statuses_by_id
from roost.domain.errors import Invalid, NotFound, RoostError
from roost.services import posts as post_service
from roost.web import feed
from roost.web.errors import page
from roost.web.profiles import find
from roost.web.render import base_context, html, render_text
from roost.web.session import (
    Refused,
    check_csrf,
    done,
    field,
    flash,
    must_view,
    read_form,
    safe_next,
    viewer,
    wants_json,
)

COMPOSE_FIELDS = ("text", "spoiler_text", "visibility", "in_reply_to_id")


@page
async def thread(request: Request) -> Response:
    ctx = request.app.state.ctx
    status_id = feed.snowflake(request.path_params["id"])
    async with ctx.db.read() as conn:
        author = await find(conn, request.path_params["username"])
        me = await viewer(request, conn)
        me_id = me["id"] if me else None
        row = await post_service.get_visible(conn, status_id, me_id)
        if row["account_id"] != author["id"]:
            raise NotFound("Record")
        before, after = await post_service.context(conn, status_id, me_id)
        found = await statuses_by_id(ctx, conn, [*before, status_id, *after], me_id)
    by_id = {int(s["id"]): s for s in found}
    focus = by_id.get(status_id)
    if focus is None:
        raise NotFound("Record")
    values = {"text": _reply_prefix(focus, me["username"] if me else None)}
    return _thread_page(request, focus, by_id, before, after, values, {}, public=me is None)


def _thread_page(request, focus, by_id, before, after, values, errors, status=200, public=False):
    shown = focus["reblog"] or focus
    name = shown["account"]["display_name"] or shown["account"]["username"]
    context = {
        "title": f"Post by {name}",
        "focus": focus,
        "ancestors": [by_id[i] for i in before if i in by_id],
        "descendants": [by_id[i] for i in after if i in by_id],
        "values": values,
        "errors": errors,
        "here": request.url.path,
    }
    return html(request, "thread.html", context, status=status, public=public)


def _reply_prefix(status: dict, me: str | None) -> str:
    """A reply starts by mentioning the author and the people they mentioned, as Mastodon does."""
    names = [status["account"]["username"], *(m["username"] for m in status["mentions"])]
    return "".join(f"@{n} " for n in dict.fromkeys(names) if n != me)


@page
async def compose_form(request: Request) -> Response:
    ctx = request.app.state.ctx
    reply_id = feed.int_param(request, "in_reply_to")
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
        reply_to = await _reply_target(ctx, conn, reply_id, me["id"])
    values = {"text": _reply_prefix(reply_to, me["username"]) if reply_to else ""}
    return _compose_page(request, values, {}, reply_to)


async def _reply_target(ctx, conn, reply_id: int | None, me_id: int) -> dict | None:
    if reply_id is None:
        return None
    await post_service.get_visible(conn, reply_id, me_id)
    found = await statuses_by_id(ctx, conn, [reply_id], me_id)
    return found[0] if found else None


def _compose_page(request, values, errors, reply_to, status=200) -> Response:
    context = {
        "title": "Reply" if reply_to else "New post",
        "values": values,
        "errors": errors,
        "reply_to": reply_to,
        "next": values.get("next") or "/home",
        "here": "/compose",
    }
    return html(request, "compose.html", context, status=status)


@page
async def compose(request: Request) -> Response:
    ctx = request.app.state.ctx
    form = await read_form(request)
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
    check_csrf(request, form)
    values = {name: field(form, name, 20_000) for name in (*COMPOSE_FIELDS, "next")}
    reply_id = feed.parse_id(values["in_reply_to_id"])
    try:
        async with ctx.db.write() as tx:
            status_id = await post_service.create(
                ctx, tx, me, values["text"], in_reply_to_id=reply_id,
                visibility=values["visibility"] or "public", spoiler_text=values["spoiler_text"],
            )  # fmt: skip
    except Invalid as exc:
        return await _invalid(request, values, {_field(exc.field): f"{exc.message}."}, reply_id)
    except NotFound:
        message = "The post you are replying to is gone."
        return await _invalid(request, values, {"form": message}, None)
    return await _posted(request, form, me, status_id, reply_id)


def _field(name: str) -> str:
    return name if name in COMPOSE_FIELDS else "form"


async def _invalid(request: Request, values: dict, errors: dict, reply_id: int | None):
    """The same form again, with what was typed and a message beside the field."""
    if wants_json(request):
        return JSONResponse({"errors": errors}, status_code=422)
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
        try:
            reply_to = await _reply_target(ctx, conn, reply_id, me["id"])
        except NotFound:
            reply_to = None
    return _compose_page(request, values, errors, reply_to, status=422)


async def _posted(request: Request, form: FormData, me, status_id: int, reply_id) -> Response:
    ctx = request.app.state.ctx
    target = f"/@{me['username']}/{status_id}"
    if wants_json(request):
        async with ctx.db.read() as conn:
            items = await statuses_by_id(ctx, conn, [status_id], me["id"])
        values = {**base_context(request), "items": items, "here": field(form, "next")}
        return JSONResponse({"id": str(status_id), "url": target, "html": _items(values)})
    if reply_id is not None:
        back = field(form, "next")
        destination = back if back.startswith("/@") else target
        return RedirectResponse(f"{destination}#post-{status_id}", status_code=303)
    flash(request, "Your post is up.")
    return RedirectResponse(target, status_code=303)


def _items(values: dict) -> str:
    return render_text("_items.html", **values)


@page
async def edit(request: Request) -> Response:
    """The author's edit form on a post's page: new text and content warning, as the API's PUT."""
    ctx = request.app.state.ctx
    status_id = feed.snowflake(request.path_params["id"])
    form = await read_form(request)
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
    check_csrf(request, form)
    target = f"/@{me['username']}/{status_id}"
    try:
        async with ctx.db.write() as tx:
            await post_service.edit(
                ctx, tx, status_id, me["id"], field(form, "text", 20_000),
                spoiler_text=field(form, "spoiler_text"),
            )  # fmt: skip
    except Invalid as exc:
        flash(request, f"Not saved: {exc.message}.")
        return RedirectResponse(target, status_code=303)
    except RoostError as exc:
        raise Refused(exc.status if exc.status in (403, 404) else 400, exc.message) from exc
    flash(request, "Your post was edited.")
    return RedirectResponse(target, status_code=303)


ACTIONS = ("favourite", "unfavourite", "reblog", "unreblog", "delete")


@page
async def act(request: Request) -> Response:
    """Favourite, repost (and undo) or delete; the script gets the new action bar back."""
    ctx = request.app.state.ctx
    action = request.path_params["action"]
    status_id = feed.snowflake(request.path_params["id"])
    if action not in ACTIONS:
        raise NotFound("Action")
    form = await read_form(request)
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
    check_csrf(request, form)
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
