"""Search: people, hashtags and posts for one query, on one page."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from roost.api import entities
from roost.services import accounts as account_service
from roost.services import search as search_service
from roost.web import feed
from roost.web.errors import page
from roost.web.render import html
from roost.web.session import clean, viewer

POSTS = 20


@page
async def search(request: Request) -> Response:
    ctx = request.app.state.ctx
    q = clean(request.query_params.get("q", "")).strip()[:200]
    max_id = feed.int_param(request, "max_id")
    async with ctx.db.read() as conn:
        me = await viewer(request, conn)
        me_id = me["id"] if me else None
        people, hashtags, ids = [], [], []
        if q:
            people = await account_service.search(conn, q, 10)
            hashtags = [t["name"] for t in await search_service.hashtags(conn, q, 10)]
            ids = await search_service.statuses_matching(conn, q, POSTS, max_id=max_id)
        items = await entities.statuses_by_id(ctx, conn, ids, me_id)
    older = None
    if len(ids) == POSTS:
        older = f"/search?{urlencode({'q': q, 'max_id': ids[-1]})}"
    context = {
        "title": f"Search: {q}" if q else "Search",
        "q": q,
        "people": [entities.account(ctx, p) for p in people],
        "hashtags": hashtags,
        "items": items,
        "older": older,
        "here": feed.here(request),
    }
    return html(request, "search.html", context, public=me is None)
