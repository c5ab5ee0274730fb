"""Proof-of-work challenges and the pass cookie they earn ("under attack" mode, issue 7 item 5).

Wire format (stable; the flood lab's simulated browsers rely on it):

1. A challenged request gets ``403`` with ``X-Roost-Challenge: <challenge>`` and an HTML page whose
   ``<form id="roost-pass" method="post" action="/-/shield/verify">`` carries hidden fields
   ``challenge`` and ``next``; ``/-/shield/challenge.js`` fills ``answer`` and submits it.
2. ``challenge`` is ``c1.<bits>.<expires>.<nonce>.<mac>``: ``bits`` the difficulty, ``expires`` unix
   seconds, ``nonce`` 12 URL-safe characters, ``mac`` 16 URL-safe base64 characters of
   HMAC-SHA256(secret, "c1|bits|expires|nonce|prefix|ua") — so a challenge is bound to the client's
   IP prefix and user agent and cannot be farmed out to other machines.
3. ``answer`` is the decimal string of a counter such that SHA-256(challenge + ":" + answer) starts
   with ``bits`` zero bits. ``solve(challenge)`` finds one.
4. ``POST /-/shield/verify`` with form fields ``challenge``, ``answer``, ``next`` answers ``303`` to
   ``next`` (a local path) and sets the cookie ``roost_pass``; a challenge is accepted once (replay
   refused with 403), a wrong answer gets 403, each counting against the sender's reputation.
5. ``roost_pass`` is ``p1.<kind>.<not_before>.<expires>.<id>.<mac>``, ``kind`` ``p`` (proof of work:
   priority class 2) or ``w`` (the no-JavaScript waiting room: valid after ``not_before``, class 3),
   with the MAC over the fields plus prefix and user agent. Each pass id has its own rate limit
   (``ROOST_SHIELD_PASS_RATE``) and can be revoked, so one solved pass cannot be reused at scale.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import NamedTuple

from roost.domain.signed import same_secret

CHALLENGE_VERSION = "c1"
PASS_VERSION = "p1"
PASS_COOKIE = "roost_pass"
CHALLENGE_TTL = 120  # seconds to solve and submit; a page left open longer gets a fresh one
WAIT_SECONDS = 8  # the no-JS waiting room: the meta refresh interval before a "w" pass is valid


class PassClaims(NamedTuple):
    kind: str  # "p" proof of work, "w" waiting room
    pass_id: str
    expires: int


def _mac(secret: bytes, *parts: object) -> str:
    body = "|".join(str(p) for p in parts).encode()
    digest = hmac.new(secret, body, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()


def _ua_digest(user_agent: str) -> str:
    return hashlib.sha256(user_agent.encode("utf-8", "replace")).hexdigest()[:16]


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def issue_challenge(secret: bytes, bits: int, prefix: str, user_agent: str, now: float) -> str:
    expires = int(now) + CHALLENGE_TTL
    nonce = secrets.token_urlsafe(9)
    mac = _mac(secret, CHALLENGE_VERSION, bits, expires, nonce, prefix, _ua_digest(user_agent))
    return f"{CHALLENGE_VERSION}.{bits}.{expires}.{nonce}.{mac}"


def solve(challenge: str) -> str:
    """An answer to ``challenge``, as the browser script finds it (for simulated browsers)."""
    bits = int(challenge.split(".")[1])
    base = hashlib.sha256((challenge + ":").encode())
    counter = 0
    while True:
        h = base.copy()
        h.update(str(counter).encode())
        if leading_zero_bits(h.digest()) >= bits:
            return str(counter)
        counter += 1


class ChallengeError(ValueError):
    """Why a challenge answer was refused (tampered, expired, wrong, replayed)."""


def check_answer(
    secret: bytes, challenge: str, answer: str, prefix: str, user_agent: str, now: float
) -> str:
    """The challenge's nonce if ``answer`` solves a genuine, live ``challenge`` for this client."""
    parts = challenge.split(".")
    if len(parts) != 5 or parts[0] != CHALLENGE_VERSION or len(answer) > 12:
        raise ChallengeError("malformed")
    _, bits_text, expires_text, nonce, mac = parts
    expected = _mac(
        secret, CHALLENGE_VERSION, bits_text, expires_text, nonce, prefix, _ua_digest(user_agent)
    )
    if not same_secret(mac, expected):
        raise ChallengeError("tampered")
    if not expires_text.isdigit() or int(expires_text) < now:
        raise ChallengeError("expired")
    if not answer.isdigit():
        raise ChallengeError("wrong")
    digest = hashlib.sha256(f"{challenge}:{answer}".encode()).digest()
    if leading_zero_bits(digest) < int(bits_text):
        raise ChallengeError("wrong")
    return nonce


def issue_pass(
    secret: bytes, kind: str, prefix: str, user_agent: str, now: float, ttl: int, delay: int = 0
) -> str:
    not_before, expires = int(now) + delay, int(now) + ttl
    pass_id = secrets.token_urlsafe(9)
    mac = _mac(
        secret, PASS_VERSION, kind, not_before, expires, pass_id, prefix, _ua_digest(user_agent)
    )
    return f"{PASS_VERSION}.{kind}.{not_before}.{expires}.{pass_id}.{mac}"


def read_pass(
    secret: bytes, cookie: str, prefix: str, user_agent: str, now: float | None = None
) -> PassClaims | None:
    """The pass's claims if genuine, bound to this client and within its validity window."""
    return check_pass(secret, cookie, prefix, user_agent, now)[0]


def check_pass(
    secret: bytes, cookie: str, prefix: str, user_agent: str, now: float | None = None
) -> tuple[PassClaims | None, str]:
    """(claims or None, why): "ok", "early" (waiting room not over), "expired" or "forged"
    (bad MAC, other prefix or user agent, junk). Only "forged" says anything bad about a client."""
    now = time.time() if now is None else now
    parts = cookie.split(".")
    if len(cookie) > 120 or len(parts) != 6 or parts[0] != PASS_VERSION:
        return None, "forged"
    _, kind, nb, exp, pass_id, mac = parts
    expected = _mac(secret, PASS_VERSION, kind, nb, exp, pass_id, prefix, _ua_digest(user_agent))
    if not same_secret(mac, expected) or not (nb.isdigit() and exp.isdigit()):
        return None, "forged"
    if kind not in ("p", "w"):
        return None, "forged"
    if now < int(nb):
        return None, "early"
    if now > int(exp):
        return None, "expired"
    return PassClaims(kind, pass_id, int(exp)), "ok"


class ReplayGuard:
    """Nonces of answered challenges, kept until they expire; bounded (oldest forgotten first).

    Failure policy: if more than ``capacity`` challenges are answered within ``CHALLENGE_TTL``, the
    oldest nonces are forgotten and could be replayed — each replay still needs the same prefix and
    user agent and is rate-limited per pass, so the bound trades a sliver of replay for memory.
    """

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._seen: dict[str, float] = {}

    def first_use(self, nonce: str, now: float) -> bool:
        if nonce in self._seen:
            return False
        if len(self._seen) >= self.capacity:
            for old in list(self._seen)[: self.capacity // 10]:
                del self._seen[old]
        self._seen[nonce] = now + CHALLENGE_TTL
        return True
