"""The OAuth login and consent pages ("App X wants to read and write your posts").

They share the web site's session (cookie ``roost_session``): a person logged in on the site is
asked only to approve. Every form carries a CSRF token kept in the session. The pages use the
site's templates (``roost/web/templates/oauth.html``) so they look like the rest of Roost.
"""

from __future__ import annotations

import secrets

from sqlalchemy.engine import RowMapping
from starlette.requests import Request
from starlette.responses import HTMLResponse

from roost.domain.signed import same_secret
from roost.services import accounts as account_service
from roost.services import sessions
from roost.web.render import html

SCOPE_WORDS = {
    "read": "read your posts, timelines, notifications and account",
    "write": "write posts, favourite, repost and change your profile",
    "follow": "follow, unfollow, block and mute accounts",
    "push": "send you push notifications",
}
KEEP = (
    "client_id",
    "redirect_uri",
    "scope",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and sent and same_secret(str(sent), expected))


async def log_in(request: Request, account: RowMapping) -> None:
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


def _layout(request: Request, title: str, values: dict, status: int = 200) -> HTMLResponse:
    context = {"title": title, "form_csrf": csrf_token(request), **values}
    return html(request, "oauth.html", context, status=status)


def _hidden(params: dict) -> list[tuple[str, str]]:
    return [(k, str(params[k])) for k in KEEP if params.get(k)]


async def signed_in(request: Request) -> int | None:
    """The account of a live web session, or None (a revoked session is dropped)."""
    account_id = request.session.get("account_id")
    if not isinstance(account_id, int):
        return None
    async with request.app.state.ctx.db.read() as conn:
        live = await sessions.is_live(conn, account_id, request.session.get("sid"))
    if not live:
        request.session.clear()
        return None
    return account_id


async def page(
    request: Request, app: RowMapping, params: dict, scopes: list[str], problem: str = ""
) -> HTMLResponse:
    values = {"app_name": app["name"], "hidden": _hidden(params)}
    if await signed_in(request) is None:
        values.update(kind="login", problem=problem)
        return _layout(request, "Log in to authorize", values, 401 if problem else 200)
    wants = [(SCOPE_WORDS.get(s.split(":")[0], s), s) for s in scopes]
    values.update(kind="consent", wants=wants, who=request.session.get("username", ""))
    return _layout(request, "Authorize app", values)


async def login(request: Request, form: dict, app: RowMapping, params: dict, scopes: list[str]):
    ctx = request.app.state.ctx
    account = await account_service.authenticate(
        ctx.db, str(form.get("username", "")), str(form.get("password", ""))
    )
    if account is None:
        return await page(request, app, params, scopes, "The username or password is wrong.")
    await log_in(request, account)
    return await page(request, app, params, scopes)


def show_code(request: Request, app: RowMapping, code: str) -> HTMLResponse:
    values = {"kind": "code", "app_name": app["name"], "code": code}
    return _layout(request, "Authorization code", values)


def show_denied(request: Request, app: RowMapping) -> HTMLResponse:
    """Denied with the out-of-band redirect: no app is listening at a URL, so say it here."""
    return _layout(request, "Access denied", {"kind": "denied", "app_name": app["name"]})


def error_page(request: Request, message: str, status: int = 400) -> HTMLResponse:
    return _layout(request, "Cannot authorize", {"kind": "error", "message": message}, status)
