"""Timeline pages: the landing page, home, public and hashtag timelines."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from roost.domain.errors import NotFound
from roost.domain.text import normalize_tag
from roost.services import tags as tag_service
from roost.services import timelines
from roost.web import feed
from roost.web.errors import page
from roost.web.forms import Submission, submitted
from roost.web.session import account_id, done, must_view, viewer_id


@page
async def landing(request: Request) -> Response:
    """Visitors get the front page; a logged-in person goes straight to their home timeline."""
    if account_id(request) is not None:
        return RedirectResponse("/home", status_code=303)
    ctx = request.app.state.ctx
    cursor = feed.cursor(request, limit=10)
    async with ctx.db.read() as conn:
        ids = await timelines.public(conn, cursor)
        context = {
            "title": "Welcome",
            "stream": "/api/v1/streaming/public",
            "feed_label": "Public posts",
        }
        return await feed.show(
            request, conn, ids, cursor, None, "landing.html", context, public=True
        )


@page
async def home(request: Request) -> Response:
    return await show_home(request)


async def show_home(request: Request, refused: dict | None = None) -> Response:
    """The home timeline; ``refused``: a post the compose box turned away, shown in it (422)."""
    ctx = request.app.state.ctx
    cursor = feed.cursor(request)
    async with ctx.db.read() as conn:
        me = await must_view(request, conn)
    ids = await timelines.home(ctx, me["id"], cursor)
    context = {
        "title": "Home",
        "stream": "/web/stream",
        "empty": "Your home timeline is empty. Follow people to see their posts here.",
    }
    return await _show(request, ids, cursor, me["id"], context, refused)


@page
async def public(request: Request) -> Response:
    return await show_public(request)


async def show_public(request: Request, refused: dict | None = None) -> Response:
    """The public timeline; ``refused`` as for ``show_home``."""
    ctx = request.app.state.ctx
    cursor = feed.cursor(request)
    async with ctx.db.read() as conn:
        me = await viewer_id(request, conn)
        ids = await timelines.public(conn, cursor, me)
    context = {
        "title": "Public timeline",
        "subtitle": f"Everything posted publicly on {ctx.settings.instance_name}.",
        "stream": "/api/v1/streaming/public",
    }
    return await _show(request, ids, cursor, me, context, refused)


async def _show(
    request: Request, ids: list[int], cursor, me: int | None, context: dict, refused: dict | None
) -> Response:
    """A timeline page with the compose box (holding a refused post, then a 422)."""
    context = {**context, "show_compose": True, **_compose_box(refused)}
    async with request.app.state.ctx.db.read() as conn:
        return await feed.show(
            request, conn, ids, cursor, me, "timeline.html", context,
            public=me is None, status=422 if refused else 200,
        )  # fmt: skip


def _compose_box(refused: dict | None) -> dict:
    """What the compose box shows: empty, or a refused post with the messages beside it."""
    if not refused:
        return {}
    return {"compose_values": refused["values"], "compose_errors": refused["errors"]}


@page
async def tag(request: Request) -> Response:
    ctx = request.app.state.ctx
    name = _tag_name(request)
    cursor = feed.cursor(request)
    async with ctx.db.read() as conn:
        me = await viewer_id(request, conn)
        card = await tag_service.card(ctx, conn, name, me)  # 404 for a tag nobody used or followed
        ids = await timelines.tag(conn, name, cursor, me)
        week = sum(int(day["uses"]) for day in card.history)
        context = {
            "title": f"#{name}",
            "subtitle": f"Public posts tagged #{name}: {week} this week.",
            "stream": f"/api/v1/streaming/hashtag?tag={name}",
            "tag": card,
        }
        return await feed.show(
            request, conn, ids, cursor, me, "timeline.html", context, public=me is None
        )


def _tag_name(request: Request) -> str:
    name = normalize_tag(request.path_params["name"])
    if name is None:
        raise NotFound("Tag")
    return name


async def _follow_tag(sent: Submission, on: bool) -> Response:
    """Follow a tag (its public posts come to the home timeline) or stop; back to its page."""
    name = _tag_name(sent.request)
    async with sent.ctx.db.write() as tx:
        if on:
            await tag_service.follow(sent.ctx, tx, sent.me["id"], name)
        else:
            await tag_service.unfollow(sent.ctx, tx, sent.me["id"], name)
    return done(sent.request, sent.form, f"/tags/{name}", {"following": on})


@submitted
async def follow_tag(sent: Submission) -> Response:
    return await _follow_tag(sent, on=True)


@submitted
async def unfollow_tag(sent: Submission) -> Response:
    return await _follow_tag(sent, on=False)
