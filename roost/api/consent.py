"""The OAuth login and consent pages ("App X wants to read and write your posts").

They share the web site's session (cookie ``roost_session``): a person logged in on the site is
asked only to approve. Every form carries a CSRF token kept in the session.
"""

from __future__ import annotations

import hmac
import secrets
from html import escape

from sqlalchemy.engine import RowMapping
from starlette.requests import Request
from starlette.responses import HTMLResponse

from roost.services import accounts as account_service

SCOPE_WORDS = {
    "read": "read your posts, timelines, notifications and account",
    "write": "write posts, favourite, repost and change your profile",
    "follow": "follow, unfollow, block and mute accounts",
    "push": "send you push notifications",
}


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and sent and hmac.compare_digest(expected, str(sent)))


def log_in(request: Request, account: RowMapping) -> None:
    """Start a web session (the shield reads account_id/account_created from it)."""
    request.session.clear()
    request.session["account_id"] = account["id"]
    request.session["account_created"] = int(account["created_at"].timestamp())
    request.session["username"] = account["username"]
    csrf_token(request)


def _layout(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} - Roost</title>"
        '<link rel=stylesheet href="/static/roost.css"></head>'
        f'<body><main class="narrow"><h1>{escape(title)}</h1>{body}</main></body></html>'
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def _hidden(params: dict) -> str:
    keep = (
        "client_id",
        "redirect_uri",
        "scope",
        "response_type",
        "state",
        "code_challenge",
        "code_challenge_method",
    )
    return "".join(
        f'<input type=hidden name="{k}" value="{escape(str(params[k]))}">'
        for k in keep
        if params.get(k)
    )


async def page(
    request: Request, app: RowMapping, params: dict, scopes: list[str], problem: str = ""
) -> HTMLResponse:
    token = csrf_token(request)
    hidden = _hidden(params) + f'<input type=hidden name=csrf value="{token}">'
    name = escape(app["name"])
    if request.session.get("account_id") is None:
        error = f"<p class=error role=alert>{escape(problem)}</p>" if problem else ""
        return _layout(
            "Log in to authorize",
            f"<p><strong>{name}</strong> wants to use your Roost account. Log in first.</p>"
            f'{error}<form method=post action="/oauth/authorize">{hidden}'
            "<input type=hidden name=action value=login>"
            "<label>Username or email <input name=username autocomplete=username required></label>"
            "<label>Password <input type=password name=password "
            "autocomplete=current-password required></label>"
            "<button type=submit>Log in</button></form>",
            401 if problem else 200,
        )
    wants = "".join(
        f"<li>{escape(SCOPE_WORDS.get(s.split(':')[0], s))} ({escape(s)})</li>" for s in scopes
    )
    who = escape(request.session.get("username", ""))
    return _layout(
        "Authorize app",
        f"<p><strong>{name}</strong> wants to act as <strong>@{who}</strong> and:</p>"
        f"<ul>{wants}</ul>"
        f'<form method=post action="/oauth/authorize">{hidden}'
        "<button type=submit name=action value=approve>Authorize</button> "
        "<button type=submit name=action value=deny class=secondary>Deny</button></form>",
    )


async def login(request: Request, form: dict, app: RowMapping, params: dict, scopes: list[str]):
    ctx = request.app.state.ctx
    async with ctx.db.read() as conn:
        account = await account_service.authenticate(
            conn, str(form.get("username", "")), str(form.get("password", ""))
        )
    if account is None:
        return await page(request, app, params, scopes, "The username or password is wrong.")
    log_in(request, account)
    return await page(request, app, params, scopes)


def show_code(request: Request, app: RowMapping, code: str) -> HTMLResponse:
    return _layout(
        "Authorization code",
        f"<p>Copy this code into <strong>{escape(app['name'])}</strong>:</p>"
        f"<p><code id=code class=code>{escape(code)}</code></p>",
    )


def error_page(request: Request, message: str, status: int = 400) -> HTMLResponse:
    return _layout("Cannot authorize", f"<p role=alert>{escape(message)}</p>", status)
