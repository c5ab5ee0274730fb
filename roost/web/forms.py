"""One wrapper for the site's form handlers, as ``roost.api.endpoint`` is for the API.

Every form a signed-in person sends is read the same way, in the same order: the body
(bounded, ``roost.bodies``), the person (a login page for a stranger), the CSRF token, then
the handler; what a client can cause becomes a page, never a 500 (``errors.page``). The
handler gets it all in a ``Submission`` and only does its own work.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from roost.bodies import SentFile, Upload, sent_files
from roost.services.context import Context, Row
from roost.web.errors import Handler, page
from roost.web.session import check_csrf, must_view, read_form


@dataclass
class Submission:
    request: Request
    ctx: Context
    form: FormData
    me: Row  # the signed-in account that sent the form
    files: dict[str, SentFile] = dataclass_field(default_factory=dict)  # read whole, closed


def submitted(handler: Callable[[Submission], Awaitable[Response]]) -> Handler:
    """A page handler for a form only a signed-in person may send."""
    return _wrap(handler, None)


def with_files(upload: Upload) -> Callable[[Callable[[Submission], Awaitable[Response]]], Handler]:
    """As ``submitted``, for a form that sends pictures (``upload``: how many, how large)."""
    return lambda handler: _wrap(handler, upload)


def _wrap(handler: Callable[[Submission], Awaitable[Response]], upload: Upload | None) -> Handler:
    @page
    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        ctx = request.app.state.ctx
        form = await read_form(request, upload)
        files = await sent_files(form) if upload else {}  # closed at once, whatever follows
        async with ctx.db.read() as conn:
            me = await must_view(request, conn)
        check_csrf(request, form)
        return await handler(Submission(request, ctx, form, me, files))

    return run
