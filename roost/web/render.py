"""Templates and the HTML responses around them: security headers, cache policy, asset URLs.

Caching policy (the shield's brownout cache and the nginx micro-cache rely on it): a page a
logged-out visitor reads without any session cookie is ``public`` for a few seconds; anything
else, including a visitor who only holds a CSRF token, is ``private, no-store``. Every page
says ``Vary: Cookie`` so no cache hands one person's page to another.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
PUBLIC_MAX_AGE = 15  # seconds: long enough to absorb a flood, short enough to feel live

# connect-src 'self': the script only fetches pages and listens on same-origin SSE streams;
# WebSockets (the API's streaming for apps) are never opened from a page. img-src also names
# where pictures are served from when that is another host (ROOST_MEDIA_URL: a bucket, a CDN).
CSP_FOR_MEDIA = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:{media}; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
CSP = CSP_FOR_MEDIA.format(media="")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@cache
def asset_version(name: str) -> str:
    """A short content hash, so a changed file gets a new URL and old ones can live a year."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def asset(name: str) -> str:
    return f"/static/{name}?v={asset_version(name)}"


def relative_time(value: str | datetime | None, now: datetime | None = None) -> str:
    """'now', '5m', '3h', '2d', or a date: what a timeline shows beside each post."""
    moment = _moment(value)
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 45:
        return "now"
    for below, size, unit in RELATIVE_STEPS:
        if seconds < below:
            return f"{seconds // size}{unit}"
    return moment.strftime("%-d %b %Y")


RELATIVE_STEPS = ((3600, 60, "m"), (86400, 3600, "h"), (7 * 86400, 86400, "d"))  # as roost.js


def remaining_time(value: str | datetime | None, now: datetime | None = None) -> str:
    """How long until a moment ('4m', '2h', '3d'): when a poll ends."""
    moment = _moment(value)
    if moment is None:
        return ""
    seconds = max(60, int((moment - (now or datetime.now(UTC))).total_seconds()))
    for below, size, unit in RELATIVE_STEPS:
        if seconds < below:
            return f"{seconds // size}{unit}"
    return f"{seconds // 86400}d"


def exact_time(value: str | datetime | None) -> str:
    moment = _moment(value)
    return moment.strftime("%-d %B %Y, %H:%M UTC") if moment else ""


# A post's stored HTML (roost/domain/text.py) is made for every client: absolute links, h-card
# and mention classes that Mastodon apps read. A page needs none of that, and a post dense with
# hashtags weighs three times as much with it (80 bytes for "#a "), so pages show a leaner form.
# The patterns match only the renderer's own markup: user text in it is escaped, so a quote or
# a "<" cannot come from a person, and whatever does not match is left exactly as stored.
LEAN = (
    (
        re.compile(
            r'<a href="https?://[^"/]+(/tags/[^"]+)" class="mention hashtag" rel="tag">'
            r"#<span>([^<]*)</span></a>"
        ),
        r'<a href="\1" rel="tag">#\2</a>',
    ),
    (
        re.compile(
            r'<span class="h-card"><a href="https?://[^"/]+(/@[^"]+)" class="u-url mention">'
            r"@<span>([^<]*)</span></a></span>"
        ),
        r'<a href="\1">@\2</a>',
    ),
    # The page's Referrer-Policy (same-origin) already keeps the referrer from other sites.
    (re.compile('rel="nofollow noopener noreferrer"'), 'rel="nofollow noopener"'),
)


def lean(stored: str | None) -> Markup:
    """A post's or bio's stored HTML as a page shows it: local links relative, no API classes."""
    text = stored or ""
    for pattern, replacement in LEAN:
        text = pattern.sub(replacement, text)
    return Markup(text)


def _moment(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = asset
    env.filters["reltime"] = relative_time
    env.filters["exact"] = exact_time
    env.filters["remaining"] = remaining_time
    env.filters["lean"] = lean
    return env


def render_text(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def macro(name: str) -> Any:
    """A macro of ``macros.html``, to render one piece (a post) from Python."""
    return getattr(environment().get_template("macros.html").module, name)


def pieces(name: str, items: Iterable[dict], values: dict[str, Any], **flags: Any) -> list[str]:
    """Each item drawn by macro ``name`` (``status``, ``notification``): HTML a page can weigh."""
    draw = macro(name)
    me, csrf, here = values.get("me"), values.get("csrf", ""), values.get("here", "")
    return [str(draw(item, me, csrf, here, **flags)) for item in items]


def cacheable(request: Request) -> bool:
    """Only a visitor with no session at all sees a page that caches may share.

    A stale or empty ``roost_session`` cookie makes Starlette answer with a Set-Cookie that
    clears it, and a response carrying Set-Cookie must never be shared.
    """
    return not _session(request) and "roost_session" not in request.cookies


def _session(request: Request) -> dict:
    """The session, or {} where SessionMiddleware has not run (a 500 page is drawn outside it)."""
    return request.scope.get("session") or {}


def html(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    public: bool = False,
) -> HTMLResponse:
    """A full page: the layout gets the viewer's name, CSRF token and site links."""
    values = base_context(request)
    values.update(context or {})
    return respond(request, render_text(template, **values), status=status, public=public)


def respond(
    request: Request, body: str, *, status: int = 200, public: bool = False
) -> HTMLResponse:
    """A page already drawn (see ``html``): shared caches may keep it only if ``public``."""
    response = HTMLResponse(body, status_code=status)
    shared = public and status < 400 and cacheable(request)
    headers(response, public=shared, media_url=pictures_from(request.app.state.ctx))
    return response


def pictures_from(ctx: Any) -> str:
    """Where the pictures' files are served, when that is not this site: ROOST_MEDIA_URL (a
    CDN), or the S3 endpoint or bucket itself when that is unset."""
    where = ctx.media_files.url("small/where.jpg")
    return "" if media_origin(where) == media_origin(ctx.base_url) else where


@cache
def media_origin(media_url: str) -> str:
    """The scheme, host and port of a URL ("" for anything else)."""
    found = re.match(r"(https?://[^/?#\s;,']+)", media_url)
    return found.group(1) if found else ""


def content_policy(media_url: str = "") -> str:
    origin = media_origin(media_url)
    return CSP_FOR_MEDIA.format(media=f" {origin}" if origin else "")


def headers(response: HTMLResponse, *, public: bool, media_url: str = "") -> None:
    response.headers.update(SECURITY_HEADERS)
    if media_url:
        response.headers["Content-Security-Policy"] = content_policy(media_url)
    # Vary: Cookie comes from SessionMiddleware, which adds it whenever the session was read;
    # every page reads it (base_context), so it is never missing and never doubled.
    if public:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    else:
        response.headers["Cache-Control"] = "private, no-store"


def base_context(request: Request) -> dict[str, Any]:
    ctx = request.app.state.ctx
    session = _session(request)
    me = session.get("username") if session.get("account_id") is not None else None
    return {
        "request": request,
        "me": me,
        "csrf": session.get("csrf", "") if me else "",
        "instance_name": ctx.settings.instance_name,
        "status_page_url": ctx.settings.status.page_url,
        "max_chars": ctx.settings.max_post_chars,
        "path": request.url.path,
        "flash": session.pop("flash", None) if me else None,
    }
