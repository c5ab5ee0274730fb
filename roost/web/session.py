"""Who is looking (the session's account), CSRF checks, and the helpers every form handler uses."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from roost import bodies
from roost.domain.errors import NotFound
from roost.domain.paths import local_path
from roost.domain.signed import same_secret
from roost.services import accounts as account_service
from roost.services import sessions
from roost.services.context import Conn, Row

MAX_FIELDS = 20


class Refused(Exception):
    """A request the site turns away with a friendly page (bad CSRF token, not allowed...)."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginNeeded(Exception):
    """The page needs a logged-in person; carries where to come back to."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and sent and same_secret(str(sent), expected))


async def log_in(request: Request, account: Row) -> None:
    """Start a web session, held on the server (``roost.services.sessions``); the shield and
    the edge read account_id/account_created from the cookie for priority only."""
    async with request.app.state.ctx.db.write() as tx:
        session_id = await sessions.start(tx, account["id"])
    request.session.clear()
    request.session["sid"] = session_id
    request.session["account_id"] = account["id"]
    request.session["account_created"] = int(account["created_at"].timestamp())
    request.session["username"] = account["username"]
    csrf_token(request)


def account_id(request: Request) -> int | None:
    value = request.session.get("account_id")
    return value if isinstance(value, int) else None


async def viewer(request: Request, conn: Conn) -> Row | None:
    """The logged-in account, or None; a session for a gone or recreated account is dropped."""
    wanted = account_id(request)
    if wanted is None:
        return None
    try:
        row = await account_service.get(conn, wanted)
    except NotFound:
        row = None
    created = request.session.get("account_created")
    if (
        row is None
        or int(row["created_at"].timestamp()) != created
        or not await sessions.is_live(conn, wanted, request.session.get("sid"))
    ):
        request.session.clear()
        return None
    return row


async def viewer_id(request: Request, conn: Conn) -> int | None:
    row = await viewer(request, conn)
    return row["id"] if row else None


async def must_view(request: Request, conn: Conn) -> Row:
    row = await viewer(request, conn)
    if row is None:
        raise LoginNeeded(back_path(request))
    return row


def back_path(request: Request) -> str:
    """Where to return after logging in: this page for GET, the page the form was on for POST."""
    if request.method == "GET":
        query = f"?{request.url.query}" if request.url.query else ""
        return safe_next(request.url.path + query)
    referer = request.headers.get("referer", "")
    base = str(request.base_url).rstrip("/")
    return safe_next(referer.removeprefix(base)) if referer.startswith(base) else "/home"


def seen_at(request: Request, path: str) -> Request:
    """This request as a GET of ``path`` (a local path, no query): a refused form is shown on
    the page it came from, drawn as that page is, within the same session."""
    scope = {
        **request.scope,
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
    }
    return Request(scope, request.receive)


def login_redirect(back: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(back, safe='/')}", status_code=303)


def safe_next(value: str | None, default: str = "/home") -> str:
    """A local path to go to next; another site, a scheme or junk becomes ``default``."""
    return local_path(value, default)


async def read_form(request: Request, upload: bodies.Upload | None = None) -> FormData:
    """A page's form, read and bounded as every body is (``roost.bodies``); only the forms that
    send pictures say ``upload`` (and get the shield's upload limit)."""
    try:
        return await bodies.read_form(request, max_fields=MAX_FIELDS, upload=upload)
    except bodies.BadBody as exc:
        message = "The form is too large." if exc.status == 413 else "The form could not be read."
        if upload and exc.status == 413:
            message = "That picture is too large."
        raise Refused(exc.status, message) from None


def check_csrf(request: Request, form: FormData) -> None:
    if not csrf_ok(request, _text(form.get("csrf"))):
        raise Refused(403, "This form has expired. Go back, reload the page and try again.")


def field(form: FormData, name: str, limit: int = 10_000) -> str:
    """A text field, cut to a sane length (the rules give the precise message), control
    characters removed: PostgreSQL refuses NUL in text, which would otherwise be a 500."""
    return clean(_text(form.get(name))[:limit])


def clean(text: str) -> str:
    return text.translate(CONTROL)


CONTROL = {c: None for c in (*range(0, 9), 11, 12, *range(14, 32), 127)}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def wants_json(request: Request) -> bool:
    """The page's script asked (fetch), rather than a plain form post."""
    return request.headers.get("x-requested-with") == "fetch"


def done(request: Request, form: FormData, default: str, payload: dict | None = None) -> Response:
    """Answer a finished action: JSON for the script, a redirect back for a plain form."""
    if wants_json(request):
        return JSONResponse(payload or {"ok": True}, headers={"Cache-Control": "no-store"})
    return RedirectResponse(safe_next(field(form, "next"), default), status_code=303)


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message
