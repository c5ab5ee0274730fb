"""Probes of the main site from outside, as a user: pages, API, sign-in, posting, search, streaming.

Failure policy: whatever the target does (refuses, hangs, answers garbage, answers 2 GB) is a
failed probe with a one-line reason, never an exception out of ``round()``; so is a target URL
that cannot be probed at all (every probe fails "invalid target URL: ...", and the status page
stays up to say so). Every probe has a deadline (``timeout``) and reads at most ``MAX_BODY``
bytes. Connections are not kept alive between rounds, so a probe pays for a fresh connection as
a new visitor would under attack.
When the shield answers a proof-of-work challenge, the probe solves it as a browser would (up to
``challenge.MAX_BITS``) and keeps the pass cookie, so "up" means "up for a real visitor".
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from roost.status import challenge
from roost.status.model import ProbeResult, utcnow

MAX_BODY = 1 << 20
USER_AGENT = "roost-status-probe/1 (+the Roost status page)"

# check name -> component id (components configured without a check are operator-only)
CHECKS = {
    "home": "web",
    "public_timeline": "api",
    "sign_in": "sign-in",
    "post": "posting",
    "home_timeline": "timelines",
    "search": "search",
    "streaming": "streaming",
}


def target_problem(target: str) -> str | None:
    """Why ``target`` cannot be probed (``invalid target URL: ...``), or None when it can."""
    try:
        url = httpx.URL(target)
    except httpx.InvalidURL as error:
        return f"invalid target URL: {target!r} ({error})"
    if url.scheme not in ("http", "https") or not url.host:
        return f"invalid target URL: {target!r} (use http://host[:port] or https://host)"
    if url.port is not None and not 0 < url.port < 65536:
        return f"invalid target URL: {target!r} (port {url.port} is out of range)"
    return None


class BrownedOut(Exception):
    """The site shed this feature on purpose under load (503 with ``X-Roost-Brownout``).

    The site is up and defending itself: the component is degraded, not down.
    """


class ProbeFailed(Exception):
    """The target did not serve the probe as a user expects; the message says how."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status, when the answer had the wrong one


class Prober:
    """One round probes everything; sign-in, post and read-back run in order, the rest alongside."""

    def __init__(
        self,
        target: str,
        *,
        email: str = "",
        password: str = "",
        timeout: float = 3.0,
        signin_every: float = 60.0,
        confirm: int = 3,
        clock: Callable[[], datetime] = utcnow,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target.rstrip("/")
        self.bad_target = target_problem(self.target)
        self.email, self.password, self.timeout, self.clock = email, password, timeout, clock
        self.client = httpx.AsyncClient(
            base_url="" if self.bad_target else self.target,
            timeout=timeout,
            limits=httpx.Limits(max_keepalive_connections=0, max_connections=20),
            headers={"user-agent": USER_AGENT},
            transport=transport,
        )
        self.signin_every, self.confirm = signin_every, confirm
        self.app: dict[str, str] | None = None
        self.token: str | None = None
        self.posted: str | None = None
        self.signed_in_at = -float("inf")  # monotonic time of the last sign-in attempt
        self.limited = False  # the last sign-in was refused with 429
        self.post_failed = False
        self.signin_oks = 0  # sign-ins in a row that succeeded

    async def close(self) -> None:
        await self.client.aclose()

    async def round(self) -> list[ProbeResult]:
        solo = [
            self.check("home", self.home),
            self.check("public_timeline", self.public_timeline),
            self.check("search", self.search),
            self.check("streaming", self.streaming),
        ]
        chain, rest = await asyncio.gather(self.signed_in_chain(), asyncio.gather(*solo))
        return [*chain, *rest]

    async def signed_in_chain(self) -> list[ProbeResult]:
        if not (self.email and self.password):
            return []  # no probe account configured: these components get no automatic data
        results = []
        if self.sign_in_due():
            signed = await self.check("sign_in", self.sign_in)
            if not self.limited:  # a 429 measures our own frequency, not the site: no verdict
                results.append(signed)
        results.append(await self.check("post", self.post))
        self.post_failed = not results[-1].ok
        results.append(await self.check("home_timeline", self.home_timeline))
        await self.clean_up()
        return results

    async def check(self, name: str, probe: Callable[[], Awaitable[str]]) -> ProbeResult:
        at = self.clock()
        start = time.perf_counter()
        degraded = False
        try:
            async with asyncio.timeout(self.timeout):
                if self.bad_target:
                    raise ProbeFailed(self.bad_target)
                detail, ok = await probe(), True
        except BrownedOut as shed:
            detail, ok, degraded = str(shed), True, True
        except TimeoutError:
            detail, ok = f"no answer within {self.timeout:g} s", False
        except ProbeFailed as failure:
            detail, ok = str(failure), False
        except (httpx.HTTPError, OSError, ValueError) as error:
            detail, ok = f"{type(error).__name__}: {error}"[:300], False
        latency = (time.perf_counter() - start) * 1000
        return ProbeResult(at, name, CHECKS[name], ok, round(latency, 2), detail, degraded)

    # -- the checks ------------------------------------------------------------------------------

    async def home(self) -> str:
        body = await self.fetch("GET", "/")
        if not body.strip():
            raise ProbeFailed("home page is empty")
        return f"{len(body)} bytes"

    async def public_timeline(self) -> str:
        posts = self.json(await self.fetch("GET", "/api/v1/timelines/public", {"limit": "5"}))
        if not isinstance(posts, list):
            raise ProbeFailed("public timeline is not a JSON list")
        return f"{len(posts)} posts"

    async def search(self) -> str:
        query = {"q": "roost", "limit": "5"}
        found = self.json(await self.fetch("GET", "/api/v2/search", query, auth=True))
        if not isinstance(found, dict) or not isinstance(found.get("statuses", []), list):
            raise ProbeFailed("search did not answer a Mastodon search result")
        return "ok"

    async def streaming(self) -> str:
        """Server-sent events: a 200 and at least one byte (a heartbeat or an event) in time."""
        headers = self.auth()
        async with self.client.stream("GET", "/api/v1/streaming/public", headers=headers) as r:
            if r.status_code != 200:
                raise ProbeFailed(f"streaming answered {r.status_code}")
            async for chunk in r.aiter_bytes():
                if chunk:
                    return f"first {len(chunk)} bytes"
        raise ProbeFailed("stream closed without data")

    def sign_in_due(self) -> bool:
        """Signing in is what brute force looks like, so the probe does it sparingly.

        The shield allows one address 0.1 logins/s (a quarter of that under attack), as Mastodon
        does; the probe signs in every ``signin_every`` seconds, and every round while it has no
        token, its last post failed, or sign-in has not yet succeeded ``confirm`` times in a row
        since it last failed (so an outage, and the recovery through hysteresis, are measured on
        sign-in too), unless it was just refused with 429. It posts with the token in between.
        """
        if time.monotonic() - self.signed_in_at >= self.signin_every:
            return True
        trouble = self.token is None or self.post_failed or self.signin_oks < self.confirm
        return trouble and not self.limited

    async def sign_in(self) -> str:
        self.signed_in_at, self.limited = time.monotonic(), False
        oks, self.signin_oks = self.signin_oks, 0  # until it succeeds (a timeout cancels us)
        try:
            self.token = await self._sign_in()
        except ProbeFailed as failure:
            self.limited = failure.status == 429
            if self.limited:
                self.signin_oks = oks  # no verdict
            if failure.status in (400, 401):  # wrong credentials, or the app is gone
                self.token = self.app = None
            raise
        self.signin_oks = oks + 1
        return "signed in"

    async def _sign_in(self) -> str:
        if self.app is None:
            form = {
                "client_name": "Roost status probe",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            }
            app = self.json(await self.fetch("POST", "/api/v1/apps", data=form))
            if not isinstance(app, dict) or not app.get("client_id"):
                raise ProbeFailed("app registration gave no client_id")
            self.app = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
        form = {
            "grant_type": "password",
            "username": self.email,
            "password": self.password,
            "scope": "read write",
            **self.app,
        }
        token = self.json(await self.fetch("POST", "/oauth/token", data=form))
        if not isinstance(token, dict) or not isinstance(token.get("access_token"), str):
            raise ProbeFailed("token endpoint gave no access_token")
        return token["access_token"]

    async def post(self) -> str:
        self.posted = None
        if not self.token:
            raise ProbeFailed("not signed in")
        text = f"Status probe {self.clock():%Y-%m-%d %H:%M:%S} {secrets.token_hex(4)}"
        form = {"status": text, "visibility": "private"}
        try:
            answer = await self.fetch("POST", "/api/v1/statuses", data=form, auth=True)
        except ProbeFailed as failure:
            if failure.status == 401:
                self.token, self.limited = None, False  # revoked: sign in again next round
            raise
        status = self.json(answer)
        if not isinstance(status, dict) or not status.get("id"):
            raise ProbeFailed("posting gave no status id")
        self.posted = str(status["id"])
        return f"posted {self.posted}"

    async def home_timeline(self) -> str:
        if not self.token:
            raise ProbeFailed("not signed in")
        query = {"limit": "20"}
        # Fan-out may lag a moment behind the post, as a user sees it: look again, briefly.
        for pause in (0.2, 0.4, 0.0):
            posts = self.json(await self.fetch("GET", "/api/v1/timelines/home", query, auth=True))
            if not isinstance(posts, list):
                raise ProbeFailed("home timeline is not a JSON list")
            ids = {str(p.get("id")) for p in posts if isinstance(p, dict)}
            if not self.posted or self.posted in ids:
                return f"read back {self.posted}" if self.posted else f"{len(posts)} posts"
            await asyncio.sleep(pause)
        raise ProbeFailed(f"post {self.posted} is missing from the home timeline")

    async def clean_up(self) -> None:
        """Delete the probe's post so the account does not fill up; best effort, not judged."""
        if self.posted and self.token:
            try:
                async with asyncio.timeout(self.timeout):
                    await self.client.delete(f"/api/v1/statuses/{self.posted}", headers=self.auth())
            except (TimeoutError, httpx.HTTPError, OSError):
                pass

    # -- helpers ---------------------------------------------------------------------------------

    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"} if self.token else {}

    async def fetch(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        auth: bool = False,
    ) -> bytes:
        """The body of a 200 answer, read up to MAX_BODY; anything else is a ProbeFailed."""
        headers = self.auth() if auth else {}
        request = self.client.build_request(method, path, params=params, data=data, headers=headers)
        response = await self.client.send(request, stream=True)
        puzzle = response.headers.get("x-roost-challenge")
        if response.status_code == 403 and puzzle and method == "GET":
            await response.aclose()
            await self.pass_challenge(puzzle, path)
            request = self.client.build_request(method, path, params=params, headers=headers)
            response = await self.client.send(request, stream=True)
        try:
            if response.status_code == 503 and response.headers.get("x-roost-brownout"):
                raise BrownedOut(f"{method} {path} is browned out under load")
            if response.status_code != 200:
                status = response.status_code
                raise ProbeFailed(f"{method} {path} answered {status}", status)
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    raise ProbeFailed(f"{method} {path} answered more than {MAX_BODY} bytes")
            return bytes(body)
        finally:
            await response.aclose()

    async def pass_challenge(self, puzzle: str, path: str) -> None:
        """Solve the shield's challenge as the browser script would; the pass cookie is kept."""
        bits = challenge.bits_of(puzzle)
        if bits is None or bits > challenge.MAX_BITS:
            raise ProbeFailed(f"challenged at {bits} bits; a visitor would wait long")
        answer = await asyncio.to_thread(challenge.solve, puzzle, bits)
        form = {"challenge": puzzle, "answer": answer, "next": path}
        response = await self.client.post("/-/shield/verify", data=form)
        if response.status_code not in (200, 303):
            raise ProbeFailed(f"challenge answer refused ({response.status_code})")

    @staticmethod
    def json(body: bytes) -> Any:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ProbeFailed("answer is not JSON") from None
