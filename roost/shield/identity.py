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
import time
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import NamedTuple

import itsdangerous

from roost.domain.signed import TokenClaims, read_token
from roost.shield.challenge import PASS_COOKIE

SESSION_COOKIE = "roost_session"
SESSION_MAX_AGE = 14 * 24 * 3600  # Starlette SessionMiddleware's default max_age
REMEMBER = 16_384  # verified tokens, and sessions, kept (values this site signed: a few MB)


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
    """Reads credentials from request headers, remembering the ones it has verified.

    A signed-in client presents the same token or session cookie on every request, and checking
    a MAC (and, for sessions, base64 and JSON) each time was the largest part of the shield's
    cost for signed-in requests. Only *verified* values are remembered (a forged one is checked
    every time, so junk cannot fill the memory), the session's age is still checked on every
    request, and the memory is bounded (``REMEMBER``; cleared when full).
    """

    def __init__(self, secret: bytes, session_secret: str | bytes | None = None) -> None:
        self.secret = secret
        self.signer = itsdangerous.TimestampSigner(session_secret or secret)
        self._tokens: dict[str, TokenClaims] = {}
        self._sessions: dict[str, tuple[int, int, int]] = {}  # value -> account, created, signed

    def __call__(self, headers: Iterable[tuple[bytes, bytes]]) -> Credentials:
        named = dict(headers)  # in C, and the last of repeated names wins, as it always has here
        authorization = named.get(b"authorization", b"")
        cookie = named.get(b"cookie", b"")
        user_agent = named.get(b"user-agent", b"").decode("latin-1")
        if authorization[:7].lower() == b"bearer ":
            claims = self._token(authorization[7:].decode("latin-1").strip())
            if claims is not None:
                return Credentials(claims.account_id, claims.account_created, True, "", user_agent)
        if not cookie:
            return Credentials(0, 0, False, "", user_agent)
        cookies = read_cookies(cookie)
        account, created = self._session(cookies.get(SESSION_COOKIE, ""))
        return Credentials(account, created, False, cookies.get(PASS_COOKIE, ""), user_agent)

    def _token(self, token: str) -> TokenClaims | None:
        claims = self._tokens.get(token)
        if claims is None:
            claims = read_token(self.secret, token)
            if claims is not None:
                _remember(self._tokens, token, claims)
        return claims

    def _session(self, value: str) -> tuple[int, int]:
        if not value or len(value) > 4096:
            return 0, 0
        known = self._sessions.get(value)
        if known is None:
            known = self._verify_session(value)
            if known is None:
                return 0, 0
            _remember(self._sessions, value, known)
        account, created, signed = known
        age = int(time.time()) - signed
        if age > SESSION_MAX_AGE or age < 0:  # as TimestampSigner.unsign(max_age=...) judges
            return 0, 0
        return account, created

    def _verify_session(self, value: str) -> tuple[int, int, int] | None:
        try:
            payload, signed_at = self.signer.unsign(
                value, max_age=SESSION_MAX_AGE, return_timestamp=True
            )
            data = json.loads(base64.b64decode(payload))
            account = int(data.get("account_id") or 0)
            return account, int(data.get("account_created") or 0), int(signed_at.timestamp())
        except (itsdangerous.BadSignature, ValueError, TypeError, AttributeError):
            return None


def _remember(memory: dict, key: str, value: object) -> None:
    if len(memory) >= REMEMBER:
        memory.clear()  # a churn of valid credentials costs only their MAC checks again
    memory[key] = value
