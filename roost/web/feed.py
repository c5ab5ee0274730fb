"""One page of posts: cursor from the query, entities in batch, links to older and newer.

Pages are cut by ``max_id`` (older) and ``min_id`` (newer) as the Mastodon API does, never by
page number, so a page stays cheap however deep a reader goes; and by weight (``weight.py``):
a page of heavy posts shows fewer, and its links carry on from the last one shown.
``?fragment=1`` answers with just the posts, for the script's "load newer posts".
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from roost.domain.errors import NotFound
from roost.domain.ids import parse_id
from roost.present.entities import statuses_by_id
from roost.services.context import Conn
from roost.services.timelines import DEFAULT_LIMIT, Page
from roost.web.render import base_context, cacheable, headers, pieces, render_text, respond
from roost.web.weight import fit


def int_param(request: Request, name: str) -> int | None:
    """An id from the query string; junk is ignored rather than an error."""
    return parse_id(request.query_params.get(name, ""))


def snowflake(raw: str) -> int:
    """An id from a path; anything that cannot be one is simply not found."""
    value = parse_id(raw)
    if value is None:
        raise NotFound("Record")
    return value


def cursor(request: Request, limit: int = DEFAULT_LIMIT) -> Page:
    return Page(
        max_id=int_param(request, "max_id"), min_id=int_param(request, "min_id"), limit=limit
    )


def here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return request.url.path + query


def links(
    request: Request, ids: list[int], page: Page, *, cut: bool = False
) -> dict[str, str | None]:
    """Older/newer links for a page of ids (newest first) and the "check for newer" link;
    ``cut``: the page was cut short by its weight, so there is more beyond what it shows."""
    path = request.url.path
    full = len(ids) >= page.limit or cut
    older = f"{path}?max_id={ids[-1]}" if ids and (full or page.forward) else None
    newer = f"{path}?min_id={ids[0]}" if ids and (page.max_id or (page.forward and full)) else None
    check = f"{path}?min_id={ids[0]}" if ids and not page.max_id and not newer else None
    end = None  # an empty page past either end says so, not "nothing here" or "no posts yet"
    if not ids and page.forward:  # nothing newer yet: offer to look again, or go back
        check, older, end = f"{path}?min_id={page.min_id}", path, "newer"
    elif not ids and page.max_id:  # "Older →" from a page that was exactly full
        newer, end = path, "older"
    return {
        "older": older,
        "newer": newer,
        "check_newer": check,
        "newer_base": f"{path}?min_id=",
        "end": end,
    }


async def show(
    request: Request,
    conn: Conn,
    ids: list[int],
    page: Page,
    viewer_id: int | None,
    template: str,
    context: dict[str, Any],
    *,
    public: bool = False,
    status: int = 200,
) -> Response:
    items = await statuses_by_id(request.app.state.ctx, conn, ids, viewer_id)
    values = {"here": here(request), **context}
    if request.query_params.get("fragment") == "1":
        values.update(items=items, **links(request, ids, page))
        return fragment(request, values, public=public)
    body = draw_feed(request, template, items, ids, page, values)
    return respond(request, body, status=status, public=public)


def draw_feed(request: Request, template: str, items, ids, page: Page, context: dict) -> str:
    """The page with as many posts as its weight allows, those nearest the cursor first."""
    values = {**base_context(request), **context}
    parts = pieces("status", items, values)
    if page.forward:  # reading towards newer posts: keep those just after the cursor
        items, parts = items[::-1], parts[::-1]

    def draw(counts: list[int]) -> str:
        count = counts[0]
        shown, drawn = items[:count], parts[:count]
        if page.forward:
            shown, drawn = shown[::-1], drawn[::-1]
        cut = count < len(items)
        shown_ids = [int(s["id"]) for s in shown] if cut else ids
        more = links(request, shown_ids, page, cut=cut)
        posts = Markup("".join(drawn))
        return render_text(template, **{**values, **more, "items": shown, "posts": posts})

    return fit(draw, [parts])[0]


def fragment(request: Request, values: dict[str, Any], *, public: bool = False) -> Response:
    body = render_text("_items.html", **{**base_context(request), **values})
    response = HTMLResponse(body)
    headers(response, public=public and cacheable(request))
    return response
