"""Endpoint classes: what a request costs and whether it may ever be challenged or browned out.

Costs are in units of one cheap read. Login, sign-up, posting and search cost more because they
burn CPU (argon2 hashing is ~50 ms by design), write, or scan; they also get their own per-source
limit so that a login brute force cannot hide under a generous read budget.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from roost.shield.gcra import Limit


class Endpoint(Enum):
    EXEMPT = "exempt"  # health, instance info, static, media: never challenged
    LOGIN = "login"
    SIGNUP = "signup"
    POST = "post"
    UPLOAD = "upload"  # pictures: large bodies, decoded and resized by a job
    SEARCH = "search"
    STREAMING = "streaming"
    READ = "read"
    WRITE = "write"

    # Members are singletons: identity hashing (in C) instead of Enum's hash of the name (in
    # Python), for the per-request POLICIES lookup.
    __hash__ = object.__hash__


class EndpointPolicy(NamedTuple):
    cost: float
    limit: Limit | None  # an extra per-source limit for this class, if any
    expensive: bool  # refused first during brownout


POLICIES: dict[Endpoint, EndpointPolicy] = {
    Endpoint.EXEMPT: EndpointPolicy(0.25, None, False),
    # Mastodon (rack-attack) allows 25 logins per 5 minutes per IP: about 0.08/s.
    Endpoint.LOGIN: EndpointPolicy(5.0, Limit(0.1, 10), False),
    # Mastodon: 5 sign-ups per 30 minutes per IP.
    Endpoint.SIGNUP: EndpointPolicy(10.0, Limit(0.01, 5), False),
    # Mastodon: 300 statuses per 3 hours per account (~0.03/s), with bursts.
    Endpoint.POST: EndpointPolicy(3.0, Limit(0.5, 30), False),
    # Mastodon: 30 uploads per 30 minutes; a picture costs a decode, a resize and a write.
    Endpoint.UPLOAD: EndpointPolicy(10.0, Limit(1 / 60, 30), True),
    Endpoint.SEARCH: EndpointPolicy(4.0, Limit(1.0, 10), True),
    Endpoint.STREAMING: EndpointPolicy(2.0, Limit(0.5, 10), False),
    Endpoint.READ: EndpointPolicy(1.0, None, False),
    Endpoint.WRITE: EndpointPolicy(2.0, None, False),
}

# Live streams (the API's and the web page's): held open for hours, so they hold no request slot.
STREAM_PREFIXES = ("/api/v1/streaming", "/web/stream")
# Every form that checks a password: the consent page signs in too (issue 12, finding 3).
_LOGIN = {"/oauth/token", "/oauth/authorize", "/oauth/authorize/", "/login", "/auth/sign_in"}
_SIGNUP = {"/api/v1/accounts", "/signup"}
_POST = {"/api/v1/statuses", "/statuses"}
# Where pictures are sent (the API's uploads and profile pictures, the web composer and settings).
UPLOAD_PATHS = frozenset(
    {
        "/api/v1/media",
        "/api/v2/media",
        "/api/v1/accounts/update_credentials",
        "/compose/media",
        "/settings/pictures",
    }
)
_SEARCH_PREFIXES = ("/api/v2/search", "/api/v1/accounts/search", "/search", "/api/v1/trends")
_EXEMPT_EXACT = {"/health", "/robots.txt", "/favicon.ico"}
_EXEMPT_PREFIXES = (
    "/.well-known/",
    "/api/v1/instance",
    "/api/v2/instance",
    "/nodeinfo/",
    "/static/",
    "/media/",  # pictures: immutable files, fetched by the dozen with every page
    "/-/shield/",
)


def classify(method: str, path: str) -> Endpoint:
    """The class of a request from its method and path alone (no router, O(1) in practice)."""
    if path in _EXEMPT_EXACT or path.startswith(_EXEMPT_PREFIXES):
        return Endpoint.EXEMPT
    if path.startswith(STREAM_PREFIXES):
        return Endpoint.STREAMING
    if path.startswith(_SEARCH_PREFIXES):
        return Endpoint.SEARCH
    if path in UPLOAD_PATHS and method in ("POST", "PATCH", "PUT"):
        return Endpoint.UPLOAD
    if method == "POST":
        if path in _LOGIN:
            return Endpoint.LOGIN
        if path in _SIGNUP:
            return Endpoint.SIGNUP
        if path in _POST:
            return Endpoint.POST
    if method in ("GET", "HEAD", "OPTIONS"):
        return Endpoint.READ
    return Endpoint.WRITE


def deep_pagination(query_string: bytes) -> bool:
    """Old pages (``max_id``/``page`` beyond the first few) are what a brownout gives up first."""
    if not query_string:
        return False
    return b"max_id=" in query_string or b"offset=" in query_string or b"page=" in query_string
