"""Setting up the cast before a run: an OAuth app, legitimate accounts and bot accounts.

Everything goes through the Mastodon API, as a real client would: ``POST /api/v1/apps``, an app
token from the client-credentials grant, ``POST /api/v1/accounts`` for each account (which answers
with the account's token), and ``GET /api/v1/accounts/verify_credentials`` for its id. A failure
raises SetupError naming the endpoint and status; a refusal for now (429, 503) raises Refused,
which setup retries (retry.py) before it gives up.
"""

from __future__ import annotations

import random
import ssl
from dataclasses import dataclass

import httpx

from roost.siege.guard import Target

SCOPES = "read write follow"
REDIRECT_URI = "urn:ietf:wg:oauth:2.0:oob"


class SetupError(RuntimeError):
    """The target could not provide what the scenario needs (accounts, tokens)."""


class Refused(SetupError):
    """The server turned a setup request away for now (429 or 503): worth another try later."""

    def __init__(self, message: str, status: int, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


REFUSALS = frozenset({429, 503})


@dataclass(frozen=True)
class App:
    client_id: str
    client_secret: str
    token: str


@dataclass(frozen=True)
class Account:
    username: str
    email: str
    password: str
    token: str
    id: str
    source: str | None


# httpx builds a TLS context for every client, loading the CA bundle: about 40 ms of CPU each,
# which at the start of a run (40 users at once) or in setup (1,000 sign-ups) was charged to the
# server as latency. Siege speaks plain HTTP only (the guard refuses https://), so every client
# shares one context that is never used.
_NO_TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


KEEPALIVE_S = 60.0


def client_for(target: Target, source: str | None, timeout: float = 10.0) -> httpx.AsyncClient:
    """An httpx client pinned to the checked target address, from ``source``."""
    transport = httpx.AsyncHTTPTransport(
        local_address=None if target.family_v6 else source,
        verify=_NO_TLS,
        # People's browsers and apps keep an idle connection for minutes (Chrome: 5), not
        # httpx's default 5 s: a person between two clicks is not a new connection.
        limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
    )
    return httpx.AsyncClient(
        base_url=target.base,
        headers={"Host": target.host_header},
        transport=transport,
        timeout=timeout,
        follow_redirects=True,
        event_hooks={"request": [_pinned_only(target)]},
    )


class OffTarget(httpx.HTTPError):
    """A redirect to anywhere but the checked target (refused, never followed)."""


def _pinned_only(target: Target):
    """Redirects are followed like a browser would, but only to the pinned address and port:
    a name (even ``*.localhost``) would be resolved again by the system resolver, which is not
    the address the guard checked (issue 12, finding 13)."""
    pinned = target.base.rstrip("/")

    async def check(request: httpx.Request) -> None:
        scheme, host = request.url.scheme, request.url.host
        port = request.url.port or (443 if scheme == "https" else 80)
        here = f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
        if here != pinned:
            raise OffTarget(f"refused to follow a redirect off the target: {request.url}")

    return check


async def create_app(client: httpx.AsyncClient, name: str = "roost-siege") -> App:
    form = {"client_name": name, "redirect_uris": REDIRECT_URI, "scopes": SCOPES}
    app = _json(await client.post("/api/v1/apps", data=form), "POST /api/v1/apps")
    grant = {
        "grant_type": "client_credentials",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "scope": SCOPES,
    }
    token = _json(await client.post("/oauth/token", data=grant), "POST /oauth/token")
    return App(app["client_id"], app["client_secret"], token["access_token"])


async def register(
    target: Target, app: App, username: str, source: str | None, rng: random.Random
) -> Account:
    """One new account, registered from its own source address like a real sign-up."""
    email = f"{username}@siege.localhost"
    password = f"pw-{rng.getrandbits(64):x}"
    form = {
        "username": username,
        "email": email,
        "password": password,
        "agreement": "true",
        "locale": "en",
    }
    async with client_for(target, source) as client:
        headers = {"Authorization": f"Bearer {app.token}"}
        reply = await client.post("/api/v1/accounts", data=form, headers=headers)
        token = _json(reply, "POST /api/v1/accounts").get("access_token")
        if not token:  # a server that does not log new accounts in: log in as a client would
            token = await log_in(client, app, email, password)
        headers = {"Authorization": f"Bearer {token}"}
        me = await client.get("/api/v1/accounts/verify_credentials", headers=headers)
        account_id = str(_json(me, "GET /api/v1/accounts/verify_credentials")["id"])
    return Account(username, email, password, token, account_id, source)


async def log_in(client: httpx.AsyncClient, app: App, email: str, password: str) -> str:
    """A user token through the OAuth password grant (username is the email, as Mastodon's)."""
    form = {
        "grant_type": "password",
        "username": email,
        "password": password,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "scope": SCOPES,
    }
    reply = await client.post("/oauth/token", data=form)
    return str(_json(reply, "POST /oauth/token (password grant)")["access_token"])


def check(reply: httpx.Response, what: str) -> httpx.Response:
    """The reply if it is a 2xx; Refused for 429/503 (retry later), SetupError otherwise."""
    if reply.status_code // 100 == 2:
        return reply
    detail = reply.text[:200].replace("\n", " ")
    message = f"{what} answered {reply.status_code}: {detail}"
    if reply.status_code in REFUSALS:
        raise Refused(message, reply.status_code, _retry_after(reply))
    raise SetupError(message)


def _retry_after(reply: httpx.Response) -> float | None:
    try:
        return max(0.0, float(reply.headers.get("retry-after", "")))
    except ValueError:  # absent, or an HTTP date: the caller's own backoff applies
        return None


def _json(reply: httpx.Response, what: str) -> dict:
    check(reply, what)
    try:
        data = reply.json()
    except ValueError:
        raise SetupError(f"{what} did not answer JSON: {reply.text[:200]!r}") from None
    if not isinstance(data, dict):
        raise SetupError(f"{what} answered {type(data).__name__}, expected an object")
    return data
