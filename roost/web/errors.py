"""Friendly error pages in the site's look, and the wrapper that turns failures into them.

``render_error`` is what ``roost.app`` calls for HTTP errors outside the API
(``site.state.render_error``). It touches no database, so it stays cheap under load.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from roost.domain.errors import NotFound, RoostError
from roost.web.render import html
from roost.web.session import LoginNeeded, Refused, login_redirect, wants_json

Handler = Callable[[Request], Awaitable[Response]]

TITLES = {
    400: ("That did not work", "The request could not be understood."),
    403: ("Not allowed", "You cannot do that here."),
    404: ("Nothing here", "There is no page at this address. It may have been deleted."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "That was more than Roost accepts at once."),
    429: ("Slow down", "Too many requests in a short time. Wait a moment and try again."),
    500: ("Something broke", "Roost had a problem showing this page. Please try again."),
    503: ("Busy", "Roost is very busy right now. Please try again in a moment."),
}


async def render_error(request: Request, status: int, message: str = "") -> Response:
    title, text = TITLES.get(status, TITLES[400] if status < 500 else TITLES[500])
    if wants_json(request):
        return JSONResponse({"error": message or text}, status_code=status)
    return html(
        request,
        "error.html",
        {"title": title, "message": message or text, "status": status},
        status=status,
    )


def page(handler: Handler) -> Handler:
    """Run a page handler; what a client can cause becomes a page, never a 500."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except LoginNeeded as exc:
            if wants_json(request):
                return JSONResponse({"error": "Log in first", "login": True}, status_code=401)
            return login_redirect(exc.back)
        except Refused as exc:
            return await render_error(request, exc.status, exc.message)
        except NotFound:
            return await render_error(request, 404)
        except RoostError as exc:  # each domain error carries the status both faces answer
            return await render_error(request, exc.status, exc.message)

    return run
