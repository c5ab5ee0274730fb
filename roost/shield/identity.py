"""Who is asking, from signed credentials alone: no database, no I/O (docs/architecture.md).

An OAuth bearer token (``roost.domain.signed.read_token``) or the web session cookie
(``roost_session``: Starlette's SessionMiddleware, an itsdangerous ``TimestampSigner`` over base64
JSON) names an account and its creation time; a ``roost_pass`` cookie carries a challenge pass.
Failure policy: anything unreadable or forged is simply *anonymous* — never an error here — and
the layer counts forged passes against the sender's reputation.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import NamedTuple

import itsdangerous

from roost.domain.signed import read_token
from roost.shield.challenge import PASS_COOKIE

SESSION_COOKIE = "roost_session"
SESSION_MAX_AGE = 14 * 24 * 3600  # Starlette SessionMiddleware's default max_age


class Credentials(NamedTuple):
    account_id: int  # 0 when anonymous or an app token
    account_created: int
    bearer: bool  # an OAuth token was presented and verified
    pass_cookie: str  # raw roost_pass value, "" if none
    user_agent: str


def read_cookies(raw: bytes) -> dict[str, str]:
    if b"roost_" not in raw:  # the common anonymous case costs one substring search
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:  # http.cookies raises CookieError and others on junk: junk is anonymous
        return {}
    return {key: morsel.value for key, morsel in jar.items() if key.startswith("roost_")}


class Identifier:
    def __init__(self, secret: bytes, session_secret: str | bytes | None = None) -> None:
        self.secret = secret
        self.signer = itsdangerous.TimestampSigner(session_secret or secret)

    def __call__(self, headers: Iterable[tuple[bytes, bytes]]) -> Credentials:
        authorization = cookie = b""
        user_agent = ""
        for name, value in headers:
            if name == b"authorization":
                authorization = value
            elif name == b"cookie":
                cookie = value
            elif name == b"user-agent":
                user_agent = value.decode("latin-1")
        if authorization[:7].lower() == b"bearer ":
            claims = read_token(self.secret, authorization[7:].decode("latin-1").strip())
            if claims is not None:
                return Credentials(claims.account_id, claims.account_created, True, "", user_agent)
        cookies = read_cookies(cookie) if cookie else {}
        account, created = self._session(cookies.get(SESSION_COOKIE, ""))
        return Credentials(account, created, False, cookies.get(PASS_COOKIE, ""), user_agent)

    def _session(self, value: str) -> tuple[int, int]:
        if not value or len(value) > 4096:
            return 0, 0
        try:
            data = json.loads(base64.b64decode(self.signer.unsign(value, max_age=SESSION_MAX_AGE)))
            return int(data.get("account_id") or 0), int(data.get("account_created") or 0)
        except (itsdangerous.BadSignature, ValueError, TypeError, AttributeError):
            return 0, 0
