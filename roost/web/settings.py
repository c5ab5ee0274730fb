"""Settings: display name, bio, avatar and header, password and sessions; bad values come back
beside their field."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from roost.bodies import Upload
from roost.domain.errors import Invalid, RoostError
from roost.present.entities import pictures
from roost.services import accounts as account_service
from roost.services import pictures as pictures_service
from roost.services import sessions
from roost.services.context import Row
from roost.slots import give_back
from roost.web.auth import weak_password
from roost.web.composer import refusal
from roost.web.errors import page
from roost.web.forms import Submission, submitted, with_files
from roost.web.render import html
from roost.web.session import field, flash, must_view

PICTURES = ("avatar", "header")


@page
async def settings_form(request: Request) -> Response:
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
    return _page(request, me, {"display_name": me["display_name"], "note": me["note"]}, {})


def _page(request: Request, me: Row, values: dict, errors: dict, status: int = 200) -> Response:
    ctx = request.app.state.ctx
    avatar, header = pictures(ctx, me)
    context: dict[str, Any] = {"title": "Settings", "values": values, "errors": errors}
    context["avatar"] = avatar if me["avatar_key"] else None  # None: the default
    context["header"] = header if me["header_key"] else None
    return html(request, "settings.html", context, status=status)


@submitted
async def save_profile(sent: Submission) -> Response:
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    values = {"display_name": field(form, "display_name", 1000), "note": field(form, "note", 5000)}
    try:
        async with ctx.db.write() as tx:
            await account_service.update_profile(
                ctx, tx, me["id"], display_name=values["display_name"], note=values["note"]
            )
    except Invalid as exc:
        return _page(request, me, values, {exc.field: f"{exc.message}."}, status=422)
    flash(request, "Your profile is saved.")
    return RedirectResponse("/settings", status_code=303)


@with_files(Upload(files=2))
async def save_pictures(sent: Submission) -> Response:
    """A new avatar or header (or both), or back to the default for those ticked "remove"."""
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    files = sent.files
    keys: dict[str, str | None] = {w: None for w in PICTURES if field(form, f"remove_{w}")}
    chosen = {w: files[w].data for w in PICTURES if w in files and files[w].data}
    if chosen:
        give_back(request.scope)  # a worker process makes them: no slot is used
    made: dict[str, str] = {}
    for which, data in chosen.items():
        try:
            made[which] = await pictures_service.make(ctx, which, data)
        except RoostError as exc:
            await ctx.media_files.delete(*made.values())  # all or none
            values = {"display_name": me["display_name"], "note": me["note"]}
            status, message = refusal(exc)
            return _page(request, me, values, {which: message}, status=status)
    keys.update(made)
    async with ctx.db.write() as tx:
        await pictures_service.change(ctx, tx, me["id"], keys)
    flash(request, "Your pictures are saved." if keys else "No picture was chosen.")
    return RedirectResponse("/settings", status_code=303)


@submitted
async def change_password(sent: Submission) -> Response:
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    values = {"display_name": me["display_name"], "note": me["note"]}
    current, new = field(form, "current_password", 300), field(form, "new_password", 300)
    problem = weak_password(new, me["username"]) if len(new) >= 8 else None
    if problem:
        return _page(request, me, values, {"new_password": f"New password {problem}."}, 422)
    try:
        async with ctx.db.write() as tx:
            await account_service.change_password(
                tx, me["id"], current, new, keep_session=request.session.get("sid")
            )
    except Invalid as exc:
        key = "current_password" if exc.field == "current_password" else "new_password"
        message = exc.message if key == "current_password" else f"New {exc.message.lower()}"
        return _page(request, me, values, {key: f"{message}."}, status=422)
    flash(request, "Your password is changed.")
    return RedirectResponse("/settings", status_code=303)


@submitted
async def log_out_everywhere(sent: Submission) -> Response:
    """End every web session of the account, this one included (apps keep their tokens)."""
    async with sent.ctx.db.write() as tx:
        await sessions.end_all(tx, sent.me["id"])
    sent.request.session.clear()
    return RedirectResponse("/login", status_code=303)
