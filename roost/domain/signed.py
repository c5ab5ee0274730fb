"""Self-verifying OAuth access tokens, so the shield can tell who is asking without a database.

A token is ``r1.<account id>.<account created, unix s>.<random>.<mac>``. The MAC (HMAC-SHA256 with
the instance secret) lets the shield trust the account id and the account's age for *priority*
alone, in O(1) and before any I/O; whether the token is still valid (not revoked, right scopes) is
checked by the API against the database, which stores only a hash of the token.
Client-credential tokens (no account) use account id 0.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import NamedTuple

PREFIX = "r1"


class TokenClaims(NamedTuple):
    account_id: int
    account_created: int  # unix seconds


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time equality for anything a client sends. ``hmac.compare_digest`` raises
    TypeError on ``str`` holding non-ASCII characters, which a client chooses (a 500 found by
    schemathesis on /oauth/revoke, issue 12), so both sides are compared as bytes."""
    return hmac.compare_digest(_bytes(given), _bytes(expected))


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def mint_token(secret: bytes, account_id: int, account_created: int) -> str:
    body = f"{PREFIX}.{account_id}.{account_created}.{secrets.token_urlsafe(24)}"
    return f"{body}.{_mac(secret, body)}"


def read_token(secret: bytes, token: str) -> TokenClaims | None:
    """The token's claims if its MAC is right, else None. Constant work, no I/O."""
    if len(token) > 200 or not token.startswith(PREFIX + "."):
        return None
    body, _, mac = token.rpartition(".")
    parts = body.split(".")
    if len(parts) != 4 or not same_secret(mac, _mac(secret, body)):
        return None
    try:
        return TokenClaims(int(parts[1]), int(parts[2]))
    except ValueError:
        return None


def token_digest(token: str) -> str:
    """What the database keeps of a token: its SHA-256, so a leaked table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()
