"""The OAuth login and consent pages of ``/oauth/authorize`` ("App X wants to read and write
your posts").

They share the web site's session (cookie ``roost_session``): a person logged in on the site is
asked only to approve. Every form carries a CSRF token kept in the session. The pages use the
site's templates (``roost/web/templates/oauth.html``) so they look like the rest of Roost; the
apps, codes and tokens behind them are ``roost.services.oauth``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from roost import bodies
from roost.domain.errors import OAuthError, RoostError
from roost.domain.scopes import parse_scopes
from roost.services import accounts as account_service
from roost.services import oauth, sessions
from roost.web.render import html
from roost.web.session import csrf_ok, csrf_token, log_in

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
Row = Mapping


async def authorize(request: Request) -> Response:
    """GET shows login or consent; POST handles them."""
    ctx = request.app.state.ctx
    params = dict(request.query_params)
    form: dict = {}
    if request.method == "POST":
        try:
            form = dict(await bodies.read_form(request))  # bounded like every body
        except bodies.BadBody as exc:
            return error_page(request, exc.message, exc.status)
        params.update({k: v for k, v in form.items() if k not in ("csrf", "password")})
    try:
        app = await oauth.client(ctx, params.get("client_id"), None, check_secret=False)
        redirect_uri = oauth.check_redirect(app, params.get("redirect_uri"))
        if params.get("response_type", "code") != "code":
            raise OAuthError("unsupported_response_type", "Only response_type=code")
        wanted = parse_scopes(params.get("scope") or params.get("scopes"), "read")
        scopes = oauth.granted(wanted, app)
    except RoostError as exc:
        return error_page(request, exc.message)
    if request.method == "POST":
        return await _answer(request, app, form, params, redirect_uri, scopes)
    return await page(request, app, params, scopes)


authorize.access = "public"  # type: ignore[attr-defined]  # a page: the session and CSRF decide


async def _answer(request, app, form, params, redirect_uri, scopes) -> Response:
    if not csrf_ok(request, form.get("csrf")):
        return error_page(request, "The form expired; please try again.", 403)
    if form.get("action") == "login":
        return await login(request, form, app, params, scopes)
    account_id = await signed_in(request)
    if account_id is None:
        return await page(request, app, params, scopes)
    if form.get("action") != "approve":
        if redirect_uri == oauth.OOB:  # `urn:ietf:wg:oauth:2.0:oob?error=...` is nowhere to go
            return show_denied(request, app)
        return _redirect(redirect_uri, {"error": "access_denied", "state": params.get("state")})
    code = await oauth.create_code(
        request.app.state.ctx,
        app,
        account_id,
        scopes,
        redirect_uri,
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    )
    if redirect_uri == oauth.OOB:
        return show_code(request, app, code)
    return _redirect(redirect_uri, {"code": code, "state": params.get("state")})


def _redirect(uri: str, values: dict) -> Response:
    query = urlencode({k: v for k, v in values.items() if v})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=303)


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
    request: Request, app: Row, params: dict, scopes: list[str], problem: str = ""
) -> HTMLResponse:
    values = {"app_name": app["name"], "hidden": _hidden(params)}
    if await signed_in(request) is None:
        values.update(kind="login", problem=problem)
        return _layout(request, "Log in to authorize", values, 401 if problem else 200)
    wants = [(SCOPE_WORDS.get(s.split(":")[0], s), s) for s in scopes]
    values.update(kind="consent", wants=wants, who=request.session.get("username", ""))
    return _layout(request, "Authorize app", values)


async def login(request: Request, form: dict, app: Row, params: dict, scopes: list[str]):
    ctx = request.app.state.ctx
    account = await account_service.authenticate(
        ctx.db, str(form.get("username", "")), str(form.get("password", ""))
    )
    if account is None:
        return await page(request, app, params, scopes, "The username or password is wrong.")
    await log_in(request, account)
    return await page(request, app, params, scopes)


def show_code(request: Request, app: Row, code: str) -> HTMLResponse:
    values = {"kind": "code", "app_name": app["name"], "code": code}
    return _layout(request, "Authorization code", values)


def show_denied(request: Request, app: Row) -> HTMLResponse:
    """Denied with the out-of-band redirect: no app is listening at a URL, so say it here."""
    return _layout(request, "Access denied", {"kind": "denied", "app_name": app["name"]})


def error_page(request: Request, message: str, status: int = 400) -> HTMLResponse:
    return _layout(request, "Cannot authorize", {"kind": "error", "message": message}, status)
