"""The challenge page: small HTML, no inline script, a strict Content-Security-Policy.

With JavaScript, ``/-/shield/challenge.js`` solves the proof of work and submits the form. Without
it, the ``<noscript>`` part explains the wait and offers two working paths: the waiting room (a
meta refresh after ``WAIT_SECONDS`` with a ``w`` pass cookie that becomes valid then) and logging in
(the login page and login requests are never challenged).
"""

from __future__ import annotations

import html
import time

from starlette.types import Scope, Send

from roost.shield.challenge import PASS_COOKIE, WAIT_SECONDS, issue_challenge, issue_pass

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'; "
    "base-uri 'none'; "
    "frame-ancestors 'none'"
)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<noscript><meta http-equiv="refresh" content="{wait}"></noscript>
<link rel="stylesheet" href="/static/roost.css">
<title>One moment — Roost</title></head>
<body><main class="narrow">
<h1>One moment, please</h1>
<p>Roost is being flooded by automated traffic, so we check that each visitor is a real browser.
This takes about a second and happens once an hour.</p>
<p id="roost-status">Checking your browser…</p>
<form id="roost-pass" method="post" action="/-/shield/verify">
<input type="hidden" name="challenge" value="{challenge}">
<input type="hidden" name="next" value="{next}">
<input type="hidden" name="answer" value="">
<noscript>
<p>Your browser has JavaScript turned off. That is fine: this page will reload by itself in
{wait} seconds and let you in then, and you can always <a href="/login">log in</a>, which is
never held up.</p>
</noscript>
</form>
</main>
<script src="/-/shield/challenge.js"></script>
</body></html>
"""


def challenge_page(challenge: str, next_path: str) -> bytes:
    return _PAGE.format(
        wait=WAIT_SECONDS,
        challenge=html.escape(challenge, quote=True),
        next=html.escape(next_path, quote=True),
    ).encode()


async def send_challenge(
    send: Send, secret: bytes, scope: Scope, bits: int, prefix: str, user_agent: str, ttl: int
) -> None:
    """The 403 challenge page, with a waiting-room pass for browsers without JavaScript."""
    wall = time.time()
    challenge = issue_challenge(secret, bits, prefix, user_agent, wall)
    query = scope.get("query_string") or b""
    target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
    body = challenge_page(challenge, target)
    waiting = issue_pass(secret, "w", prefix, user_agent, wall, ttl, WAIT_SECONDS)
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"content-security-policy", CSP.encode()),
        (b"x-roost-challenge", challenge.encode()),
        (b"set-cookie", f"{PASS_COOKIE}={waiting}; Path=/; HttpOnly; SameSite=Lax".encode()),
    ]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
