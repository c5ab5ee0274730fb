"""A post's page: the post, the conversation around it (ancestors, replies), reply and edit forms.

A long conversation is cut so the page stays light (``weight.py``): the nearest ancestors (at
most ``ANCESTORS``, and fewer when heavy; the oldest shown links on up the conversation), then
replies in the order the thread is read, in pages that ``?after=<id>`` continues from the last
reply shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from roost.domain.errors import NotFound
from roost.present.entities import statuses_by_id
from roost.services import posts as post_service
from roost.services import threads
from roost.web import feed, opengraph
from roost.web.errors import page
from roost.web.profiles import find
from roost.web.render import base_context, pieces, render_text, respond
from roost.web.session import viewer
from roost.web.weight import fit

ANCESTORS = 20  # the nearest ancestors a page shows at most
REPLIES = 40  # replies a page shows at most (fewer when they are heavy)
ANCESTOR_SHARE = 0.5  # of a heavy page's room: the replies keep at least half
PATH = re.compile(r"/@([^/?#]+)/(\d+)")  # a post's page, as a refused reply names its origin


@dataclass(frozen=True)
class Conversation:
    ancestors: list[dict]  # oldest first
    earlier: bool  # there are older ancestors than these
    replies: list[dict]  # in reading order, from the cursor on
    more: bool  # there are replies after these


@page
async def thread(request: Request) -> Response:
    status_id = feed.snowflake(request.path_params["id"])
    return await show(request, request.path_params["username"], status_id)


async def show(
    request: Request,
    username: str,
    status_id: int,
    *,
    reply: dict | None = None,
    edit: dict | None = None,
) -> Response:
    """The page; ``reply`` or ``edit``: a refused form's ``values`` and ``errors``, shown in it
    with status 422."""
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        author = await find(conn, username)
        me = await viewer(request, conn)
        me_id = me["id"] if me else None
        row = await post_service.get_visible(conn, status_id, me_id)
        if row["account_id"] != author["id"]:
            raise NotFound("Record")
        before, after = await threads.context(conn, status_id, me_id)
        replies = _from_cursor(after, feed.int_param(request, "after"))
        wanted = [*before[-ANCESTORS:], status_id, *replies[:REPLIES]]
        by_id = {int(s["id"]): s for s in await statuses_by_id(ctx, conn, wanted, me_id)}
    focus = by_id.get(status_id)
    if focus is None:
        raise NotFound("Record")
    talk = Conversation(
        ancestors=[by_id[i] for i in before[-ANCESTORS:] if i in by_id],
        earlier=len(before) > ANCESTORS,
        replies=[by_id[i] for i in replies[:REPLIES] if i in by_id],
        more=len(replies) > REPLIES,
    )
    refused = reply is not None or edit is not None
    context = _context(request, focus, me["username"] if me else None, reply, edit)
    context["og"] = opengraph.of_status(ctx, focus)
    body = _draw(request, context, talk)
    return respond(request, body, status=422 if refused else 200, public=me is None and not refused)


def _from_cursor(replies: list[int], after: int | None) -> list[int]:
    """The replies after ``after`` in reading order; all of them if it is gone (none lost)."""
    if after is None or after not in replies:
        return replies
    return replies[replies.index(after) + 1 :]


def _context(request: Request, focus: dict, me: str | None, reply, edit) -> dict:
    shown = focus["reblog"] or focus
    name = shown["account"]["display_name"] or shown["account"]["username"]
    edit_values = {"text": focus.get("text") or "", "spoiler_text": focus["spoiler_text"]}
    return {
        "title": f"Post by {name}",
        "focus": focus,
        "values": reply["values"] if reply else {"text": reply_prefix(focus, me)},
        "errors": reply["errors"] if reply else {},
        "edit_values": edit["values"] if edit else edit_values,
        "edit_errors": edit["errors"] if edit else {},
        "here": request.url.path,
    }


def _draw(request: Request, context: dict, talk: Conversation) -> str:
    """The page with as many ancestors (nearest first) and replies as its weight allows."""
    values = {**base_context(request), **context}
    nearest = talk.ancestors[::-1]
    up = pieces("status", nearest, values, in_thread=True)
    down = pieces("status", talk.replies, values, in_thread=True)

    def draw(counts: list[int]) -> str:
        above, below = counts
        earlier = None
        if nearest and (talk.earlier or above < len(nearest)):  # on up from the oldest shown
            earlier = _path(nearest[max(above, 1) - 1])
        more = None
        if below and (talk.more or below < len(down)):
            more = f"{request.url.path}?after={talk.replies[below - 1]['id']}#replies"
        return render_text(
            "thread.html",
            **values,
            ancestors=Markup("".join(up[:above][::-1])),
            earlier=earlier,
            replies=Markup("".join(down[:below])),
            any_replies=bool(talk.replies),
            more_replies=more,
        )

    return fit(draw, [up, down], shares=[ANCESTOR_SHARE, 1.0])[0]


def _path(status: dict) -> str:
    return f"/@{status['account']['username']}/{status['id']}"


def reply_prefix(status: dict, me: str | None) -> str:
    """A reply starts by mentioning the author and the people they mentioned, as Mastodon does."""
    names = [status["account"]["username"], *(m["username"] for m in status["mentions"])]
    return "".join(f"@{n} " for n in dict.fromkeys(names) if n != me)
