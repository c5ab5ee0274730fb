"""Profile pages (``/@username``): posts, followers, following, follow, mute and block."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from roost.domain.accounts import USERNAME
from roost.domain.errors import NotFound
from roost.present import entities
from roost.services import accounts as account_service
from roost.services import relations, social, timelines
from roost.services.context import Conn, Row
from roost.services.social import Relationship
from roost.services.timelines import Page
from roost.web import feed, opengraph
from roost.web.errors import Handler, page
from roost.web.forms import Submission, submitted
from roost.web.render import base_context, html, render_text
from roost.web.session import done, viewer


async def find(conn: Conn, username: str) -> Row:
    """The account at ``/@username``; junk that cannot be a username is not even looked up."""
    if not USERNAME.fullmatch(username.lower()):
        raise NotFound("Account")
    row = await account_service.by_username(conn, username)
    if row is None or row["suspended_at"] is not None:
        raise NotFound("Account")
    return row


async def _head(request: Request, conn: Conn, row: Row, me) -> dict:
    rel = Relationship(id=row["id"])
    if me is not None and me["id"] != row["id"]:
        rel = (await social.relationships(conn, me["id"], [row["id"]]))[0]
    shown = row["display_name"] or row["username"]
    return {
        "account": entities.account(request.app.state.ctx, row),
        "rel": rel,
        "title": f"{shown} (@{row['username']})",
        "here": feed.here(request),
    }


@page
async def profile(request: Request) -> Response:
    ctx = request.app.state.ctx
    cursor = feed.cursor(request)
    async with ctx.db.read() as conn:
        row = await find(conn, request.path_params["username"])
        me = await viewer(request, conn)
        me_id = me["id"] if me else None
        ids = await timelines.account(conn, row["id"], me_id, cursor)
        context = await _head(request, conn, row, me)
        context["empty"] = "No posts yet."
        context["og"] = opengraph.of_account(ctx, context["account"])
        return await feed.show(
            request, conn, ids, cursor, me_id, "profile.html", context, public=me is None
        )


async def _people(request: Request, followers: bool) -> Response:
    ctx = request.app.state.ctx
    max_id = feed.int_param(request, "max_id")
    async with ctx.db.read() as conn:
        row = await find(conn, request.path_params["username"])
        me = await viewer(request, conn)
        kind = "followers" if followers else "following"
        pairs = await relations.page(conn, kind, row["id"], Page(max_id=max_id, limit=40))
        found = await account_service.get_many(conn, [a for _, a in pairs])
        context = await _head(request, conn, row, me)
    people = [entities.account(ctx, found[a]) for _, a in pairs if a in found]
    older = f"{request.url.path}?max_id={pairs[-1][0]}" if len(pairs) == 40 else None
    label = "Followers" if followers else "Following"
    context.update(people=people, older=older, list_title=label)
    context["title"] = f"{label} of @{row['username']}"
    return html(request, "accounts.html", context, public=me is None)


@page
async def followers(request: Request) -> Response:
    return await _people(request, followers=True)


@page
async def following(request: Request) -> Response:
    return await _people(request, followers=False)


async def _follow(sent: Submission, on: bool) -> Response:
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    async with ctx.db.read() as conn:
        row = await find(conn, request.path_params["username"])
    async with ctx.db.write() as tx:
        if on:
            await social.follow(ctx, tx, me["id"], row["id"])
        else:
            await social.unfollow(ctx, tx, me["id"], row["id"])
    async with ctx.db.read() as conn:
        fresh = await account_service.get(conn, row["id"])
        context = await _head(request, conn, fresh, me)
    context["here"] = f"/@{row['username']}"
    body = render_text("_follow.html", **{**base_context(request), **context})
    payload = {"html": body, "followers_count": fresh["followers_count"]}
    return done(request, form, f"/@{row['username']}", payload)


@submitted
async def follow(sent: Submission) -> Response:
    return await _follow(sent, on=True)


@submitted
async def unfollow(sent: Submission) -> Response:
    return await _follow(sent, on=False)


async def _shun(sent: Submission, how: str, on: bool) -> Response:
    """Mute or block (``how``) the profile's account, or stop; plain forms, back to the page."""
    request, ctx, form, me = sent.request, sent.ctx, sent.form, sent.me
    async with ctx.db.read() as conn:
        row = await find(conn, request.path_params["username"])
    change = social.block if how == "block" else social.mute
    async with ctx.db.write() as tx:
        await change(ctx, tx, me["id"], row["id"], on)
    return done(request, form, f"/@{row['username']}")


def _shunning(how: str, on: bool) -> Handler:
    """The page for one of mute, unmute, block, unblock."""

    @submitted
    async def route(sent: Submission) -> Response:
        return await _shun(sent, how, on)

    return route


mute, unmute = _shunning("mute", on=True), _shunning("mute", on=False)
block, unblock = _shunning("block", on=True), _shunning("block", on=False)
