"""Search: people, hashtags and posts for one query, on one page."""

from __future__ import annotations

from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from roost.present import entities
from roost.services import accounts as account_service
from roost.services import search as search_service
from roost.web import feed
from roost.web.errors import page
from roost.web.render import base_context, pieces, render_text, respond
from roost.web.session import clean, viewer
from roost.web.weight import fit, older_cursor

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
            ids = await search_service.statuses_for(conn, me_id, q, POSTS, max_id=max_id)
        items = await entities.statuses_by_id(ctx, conn, ids, me_id)
    values = {
        **base_context(request),
        "title": f"Search: {q}" if q else "Search",
        "q": q,
        "people": [entities.account(ctx, p) for p in people],
        "hashtags": hashtags,
        "here": feed.here(request),
    }
    parts = pieces("status", items, values)

    def draw(counts: list[int]) -> str:
        shown = counts[0]
        last = older_cursor(items, shown, ids[-1] if ids else None, len(ids) == POSTS)
        older = f"/search?{urlencode({'q': q, 'max_id': last})}" if last else None
        posts = Markup("".join(parts[:shown]))
        return render_text("search.html", **values, items=items[:shown], posts=posts, older=older)

    return respond(request, fit(draw, [parts])[0], public=me is None)
