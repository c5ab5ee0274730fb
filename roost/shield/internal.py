"""The shield's own endpoints: the challenge script, the answer, /metrics and /-/shield.

``/metrics`` and ``/-/shield`` answer only to ``admin_networks`` (default: loopback), 404 to
everyone else, so the admin view leaks nothing to a curious attacker.
"""

from __future__ import annotations

import ipaddress
import json
import time
import urllib.parse
from importlib import resources
from typing import TYPE_CHECKING

from starlette.types import Receive, Scope, Send

from roost.domain.paths import local_path
from roost.shield.challenge import PASS_COOKIE, ChallengeError, check_answer, issue_pass
from roost.shield.network import in_networks, prefix_of
from roost.shield.priority import PASS_HOLDER
from roost.shield.responses import refuse

if TYPE_CHECKING:
    from roost.shield.layer import Shield

SCRIPT = resources.files("roost.shield").joinpath("static/challenge.js").read_bytes()
MAX_FORM = 4096
UNCLASSED = 0  # the klass label of a refused challenge answer: judged before any class


async def send_bytes(
    send: Send, status: int, body: bytes, ctype: bytes, extra: list | None = None
) -> None:
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})


async def handle(shield: Shield, scope: Scope, receive: Receive, send: Send, ip: str) -> None:
    path = scope["path"]
    if path == "/-/shield/challenge.js":
        cache = (b"cache-control", b"public, max-age=86400")
        await send_bytes(send, 200, SCRIPT, b"application/javascript", [cache])
    elif path == "/-/shield/verify" and scope["method"] == "POST":
        await verify(shield, scope, receive, send, ip)
    elif not in_networks(ip, shield.admin_networks):
        await refuse(send, 404, path, message="Not found.")
    elif path == "/metrics":
        await send_bytes(send, 200, shield.metrics.render(), b"text/plain; version=0.0.4")
    elif path == "/-/shield":
        body = json.dumps(shield.books.snapshot(), indent=2, default=str).encode()
        await send_bytes(send, 200, body, b"application/json")
    elif path == "/-/shield/blocklist":
        blocks = shield.gate.active_blocks(time.monotonic())
        await send_bytes(send, 200, json.dumps(blocks).encode(), b"application/json")
    elif path == "/-/shield/block" and scope["method"] == "POST":
        await block(shield, receive, send)
    else:
        await refuse(send, 404, path, message="Not found.")


async def block(shield: Shield, receive: Receive, send: Send) -> None:
    """Block (``seconds`` > 0) or unblock an address or prefix by hand (``roost shield block``)."""
    form = await read_form(receive) or {}
    key, seconds = form.get("key", ""), form.get("seconds", "0")
    try:
        ipaddress.ip_network(key, strict=False)
        seconds_value = float(seconds)
    except ValueError:
        await refuse(send, 400, "/-/shield/block")
        return
    if seconds_value > 0:
        shield.gate.block(key, seconds_value, "operator")
        shield.shared.publish_block(key, seconds_value)
    else:
        shield.gate.unblock(key)
    await send_bytes(send, 200, b"ok\n", b"text/plain")


async def read_form(receive: Receive) -> dict[str, str] | None:
    body = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        if len(body) > MAX_FORM:
            return None
        if not message.get("more_body"):
            break
    try:
        pairs = urllib.parse.parse_qsl(body.decode("ascii"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)


async def verify(shield: Shield, scope: Scope, receive: Receive, send: Send, ip: str) -> None:
    """Check a proof-of-work answer; on success set the pass cookie and go back."""
    now_wall, now = time.time(), time.monotonic()
    form = await read_form(receive)
    user_agent = _header(scope, b"user-agent")
    prefix = prefix_of(ip)
    if form is None:
        shield.note_address(ip, prefix, "malformed", now)
        await refuse(send, 400, "/-/shield/verify")
        return
    try:
        nonce = check_answer(
            shield.secret,
            form.get("challenge", ""),
            form.get("answer", ""),
            prefix,
            user_agent,
            now_wall,
        )
    except ChallengeError as exc:
        shield.note_address(ip, prefix, "bad_challenge", now)
        shield.metrics.count("rejected", UNCLASSED, f"challenge_{exc}")
        await refuse(send, 403, "/-/shield/verify", message=f"Challenge refused ({exc}).")
        return
    if not await shield.first_use(nonce, now_wall):
        shield.note_address(ip, prefix, "bad_challenge", now)
        shield.metrics.count("rejected", UNCLASSED, "challenge_replayed")
        await refuse(send, 403, "/-/shield/verify", message="Challenge refused (replayed).")
        return
    cookie = issue_pass(shield.secret, "p", prefix, user_agent, now_wall, shield.settings.pass_ttl)
    shield.metrics.count("admitted", PASS_HOLDER, "challenge_passed")
    await redirect_with_pass(
        send, local_path(form.get("next", "/")), cookie, shield.settings.pass_ttl
    )


async def redirect_with_pass(send: Send, location: str, cookie: str, ttl: int) -> None:
    set_cookie = f"{PASS_COOKIE}={cookie}; Max-Age={ttl}; Path=/; HttpOnly; SameSite=Lax"
    headers = [
        (b"location", location.encode("latin-1", "replace")),
        (b"set-cookie", set_cookie.encode()),
        (b"content-length", b"0"),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return ""
