"""Header-order fingerprints: does the request look like the client its User-Agent claims?

Browsers send a stable set and order of headers; scripts that claim to be a browser usually do
not (Akamai's and Cloudflare's bot-management write-ups both lean on this). The rules here are the
cheap, robust ones: a browser User-Agent without ``accept-language``/``accept-encoding``, or with
``user-agent`` far from where its engine puts it, is a mismatch. Unknown clients are not punished
for being unknown; mismatches only raise suspicion, never block on their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple


class Fingerprint(NamedTuple):
    kind: str  # "browser", "script", "app" or "none"
    mismatch: bool


def signature(headers: Sequence[tuple[bytes, bytes]]) -> str:
    """A short hash of the header order, for clustering bots (not computed per request)."""
    return hashlib.blake2s(b",".join(name for name, _ in headers), digest_size=4).hexdigest()


_SCRIPTS = (b"curl/", b"python-", b"go-http-client", b"wget/", b"aiohttp", b"httpx", b"okhttp")


_NONE, _SCRIPT, _APP = (
    Fingerprint("none", False),
    Fingerprint("script", False),
    Fingerprint("app", False),
)


def fingerprint(headers: Sequence[tuple[bytes, bytes]]) -> Fingerprint:
    ua = None
    for name, value in headers:
        if name == b"user-agent":
            ua = value
            break
    if ua is None:
        return _NONE
    lowered = ua.lower()
    if not lowered.startswith(b"mozilla/"):
        return _SCRIPT if lowered.startswith(_SCRIPTS) else _APP
    return Fingerprint("browser", _browser_mismatch([name for name, _ in headers], lowered))


def _browser_mismatch(names: list[bytes], ua: bytes) -> bool:
    if b"accept-language" not in names or b"accept-encoding" not in names:
        return True
    if b"accept" not in names:
        return True
    position = names.index(b"user-agent")
    # Firefox and Safari put User-Agent right after Host; Chrome after Connection and the
    # sec-ch-ua client hints (a handful of headers at most). Far later means a hand-built request.
    if b"firefox/" in ua and position > 2:
        return True
    return position > 8
