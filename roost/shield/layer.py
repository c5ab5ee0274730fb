"""The shield: Roost's outermost ASGI layer, deciding for each request before any work is done.

Order of business for an HTTP or websocket request (each step O(1), no I/O but an optional Redis
round trip): client address -> penalty box -> who is asking (signed token, session, pass) ->
priority class -> rate limits (GCRA, several keys at once) -> challenge when under attack ->
brownout -> admission (adaptive limit, priority queue, CoDel) -> the app. Refusals are canned
(``responses``). Wiring::

    from roost.shield.layer import Shield
    app = Shield(site_app, settings, secret=instance_secret)

and serve with ``roost.server.run`` (its protocol enforces deadlines and refuses penalised
sources before ASGI). ``/metrics`` and ``/-/shield`` are answered here (admin networks only).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from roost.config import Settings
from roost.shield import internal
from roost.shield.admission import Admission, Shed
from roost.shield.brownout import (
    BROWNOUT_HEADER,
    EXPENSIVE_MESSAGE,
    BrownoutCache,
    cache_key,
    replay,
    serve_cached,
)
from roost.shield.challenge import PassClaims, ReplayGuard, check_pass
from roost.shield.detector import Detector
from roost.shield.endpoints import Endpoint, classify, deep_pagination
from roost.shield.fetchers import is_preview_fetch
from roost.shield.fingerprint import fingerprint
from roost.shield.gate import Gate
from roost.shield.identity import Credentials, Identifier
from roost.shield.limit import GradientLimit
from roost.shield.limiter import LocalLimiter, Planner, Subject, Verdict
from roost.shield.metrics import ShieldMetrics
from roost.shield.network import ClientAddress, parse_networks, prefix_of
from roost.shield.pages import send_challenge
from roost.shield.priority import ANONYMOUS, PASS_HOLDER, SIGNED_IN, SUSPECT
from roost.shield.records import Refusal, RequestContext
from roost.shield.report import Reporter
from roost.shield.reputation import NEWCOMER, SUSPICIOUS, account_rank, status_event
from roost.shield.responses import RefusalPages, rate_headers, refuse, retry_seconds
from roost.shield.shared import SharedState
from roost.shield.standing import BLOCK_SUSPICION, Standing
from roost.shield.ticks import Bookkeeper
from roost.slots import offer

_NEVER_CHALLENGED = ("/api/", "/oauth/", "/login", "/auth/", "/signup", "/logout")
# Feeds are read by programs, which cannot solve a challenge (the edge keeps the same list).
_FEEDS = (".rss", ".atom", ".xml", ".json")


SHED_MEMORY = 10.0  # s after a shed during which public pages are kept for shed readers


# What a signed-in person sends and then waits to see acknowledged: under load these queue
# ahead of reads in class 1 (bench/steady_state.py: with 32 readers saturating the server, a
# post waited behind them, p99 140-330 ms). Per-account limits bound how much can jump.
WAITED_ON = frozenset({Endpoint.POST, Endpoint.WRITE})


class Shield:
    """Wraps the site's ASGI app. ``secret`` is the instance secret that signs tokens and sessions;
    ``session_secret`` is what the app gave SessionMiddleware, if that differs from ``secret``."""

    def __init__(
        self,
        app: Any,
        settings: Settings,
        secret: bytes,
        *,
        session_secret: str | bytes | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        s = self.settings = settings.shield
        self.app, self.secret, self.clock = app, secret, clock
        self.metrics = ShieldMetrics()
        self.gate = Gate(s.max_connections_per_ip)
        self.address = ClientAddress(s.trusted_proxies)
        self.admin_networks = parse_networks(s.admin_networks)
        self.identify = Identifier(secret, session_secret)
        self.limiter = LocalLimiter(s.table_slots)
        self.plan = Planner(s)
        self.shared = SharedState(settings.redis_url, s.redis_prefix, self.metrics)
        self.standing = Standing(s, self.gate, self.shared, self.admin_networks)
        self.rep_ip, self.rep_prefix = self.standing.ip, self.standing.prefix
        self.rep_account = self.standing.account
        self.note_address = self.standing.note_address
        limit = GradientLimit(s.concurrency_initial, s.concurrency_min, s.concurrency_max)
        target, interval = s.queue_target_ms / 1000, s.queue_interval_ms / 1000
        self.admission = Admission(limit, s.queue_max, target, interval, clock)
        self.detector = Detector(s.attack_rps)
        self.cache = BrownoutCache(s.brownout_ttl, s.brownout_stale)
        self.pages = RefusalPages(settings.instance_name, settings.status.page_url)
        self.last_shed = float("-inf")  # when admission last shed a request (clock time)
        self.replay = ReplayGuard()
        self.revoked: set[str] = set()
        self.reporter = Reporter(self.standing, self.identify)  # the app's way in (report.py)
        self.books = Bookkeeper(
            settings,
            clock=clock,
            metrics=self.metrics,
            gate=self.gate,
            shared=self.shared,
            standing=self.standing,
            detector=self.detector,
            admission=self.admission,
            revoked=self.revoked,
        )

    # ASGI ------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Judge an HTTP or websocket request; pass anything else through.

        An admitted request runs through this coroutine and ``_admit`` only: each further
        coroutine or call per request is a measurable share of the calm path's cost."""
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self._pass_through(scope, receive, send)
            return
        now = self.clock()
        if not self.books.running:
            self.books.start()
        ip = self.address.settle(scope)
        path = scope["path"]
        http = kind == "http"
        if http and (path.startswith("/-/shield") or path == "/metrics"):
            await internal.handle(self, scope, receive, send, ip)
            return
        if self.gate.blocked and self.gate.is_blocked(ip, now):
            # Only a forwarded client gets here blocked (a direct one is closed at accept): an
            # edge that does not enforce blocks itself (nginx) passes it on.
            refusal = Refusal(403, "blocked", SUSPECT, self.settings.block_seconds)
            await self._refuse(scope, send, refusal)
            return
        prefix = prefix_of(ip)
        method = scope.get("method", "GET")
        endpoint = classify(method, path) if http else Endpoint.STREAMING
        creds = self.identify(scope["headers"])
        subject, rank, claims = self._subject(scope, creds, ip, prefix, now)
        if subject.klass == SIGNED_IN and endpoint in WAITED_ON:
            rank -= 1.0  # a person's own post or action goes ahead of every queued read
        wait = self.gate.penalty(ip, now) if subject.klass != SIGNED_IN else 0.0
        if wait > 0:
            self.note_address(ip, prefix, "rate_limited", now)
            await self._refuse(scope, send, Refusal(429, "penalty", subject.klass, wait))
            return
        qs = scope.get("query_string", b"")
        self.detector.request(now, ip, prefix, subject.klass, method, hash((path, qs)))
        scope.setdefault("state", {})["shield"] = self.reporter
        if endpoint is Endpoint.EXEMPT:
            await self.app(scope, receive, send)
            return
        attack = self.books.under_attack  # once: it stands for the whole request
        checks = self.plan(subject, endpoint, attack)
        # Redis only when configured: a coroutine per request is measurable on the calm path.
        verdict = await self.shared.check(checks) if self.shared.enabled else None
        if verdict is None:
            verdict = self.limiter.check(checks, now)
        if not verdict.allowed:
            await self._rate_limited(scope, send, subject, verdict, now)
            return
        if http and attack and self._must_challenge(subject, creds, claims, scope):
            await self._challenge(scope, send, subject, creds, now)
            return
        overloaded = attack or self.admission.standing(now)
        if http and overloaded:
            expensive = endpoint is Endpoint.SEARCH or deep_pagination(qs)
            # Signed-in users keep search and old pages until the server is truly overloaded
            # (a standing queue): under an attack that is being refused, they cost little.
            if expensive and (subject.klass > SIGNED_IN or self.admission.standing(now)):
                self.metrics.brownout.labels("refused_expensive").inc()
                refusal = Refusal(
                    503,
                    "brownout",
                    subject.klass,
                    30,
                    message=EXPENSIVE_MESSAGE,
                    headers=(BROWNOUT_HEADER,),  # shed on purpose: the status probe says degraded
                )
                await self._refuse(scope, send, refusal)
                return
        # Public pages come from the brownout cache under overload, and are kept warm for a
        # while after any shed, so that the next anonymous reader shed gets a copy, not a 503.
        keep_copies = overloaded or now - self.last_shed < SHED_MEMORY
        request = RequestContext(scope, receive, send, subject, rank, endpoint, verdict, now)
        if http and keep_copies and method == "GET" and not subject.account and not creds.bearer:
            await self._cached(request)
            return
        await self._admit(request)

    async def _pass_through(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            receive = self._lifespan_receive(receive)
        await self.app(scope, receive, send)

    async def metrics_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``/metrics`` as a standalone ASGI app, for mounting elsewhere if wanted."""
        await internal.send_bytes(send, 200, self.metrics.render(), b"text/plain; version=0.0.4")

    # Who, and how important ------------------------------------------------------------------
    def _subject(
        self, scope: Scope, creds: Credentials, ip: str, prefix: str, now: float
    ) -> tuple[Subject, float, PassClaims | None]:
        suspicion = max(
            self.rep_ip.suspicion(ip, now), 0.8 * self.rep_prefix.suspicion(prefix, now)
        )
        account = str(creds.account_id) if creds.account_id else ""
        in_good_standing = (
            account
            and self.rep_account.suspicion(account, now) < SUSPICIOUS
            and suspicion < BLOCK_SUSPICION
        )
        if in_good_standing:
            rank = account_rank(creds.account_created, time.time())
            return Subject(ip, prefix, SIGNED_IN, account, ""), rank, None
        claims = None
        if creds.pass_cookie:
            claims, why = check_pass(self.secret, creds.pass_cookie, prefix, creds.user_agent)
            if why == "forged" or (claims is not None and claims.pass_id in self.revoked):
                self.note_address(ip, prefix, "bad_pass", now)
                claims = None
        if not creds.bearer and fingerprint(scope["headers"]).mismatch:
            self.rep_ip.add(ip, "fingerprint", now)
            suspicion = max(suspicion, self.rep_ip.suspicion(ip, now))
        pass_id = f"{claims.kind}:{claims.pass_id}" if claims else ""
        # A source first seen in the last minute, arriving while the server is busy (half its
        # limit in use, or a queue), counts as suspicious: a flood's fresh addresses yield to
        # established ones from the first moments of the flood.
        newcomer = now - self.rep_ip.first_seen(ip, now) < NEWCOMER
        if suspicion >= SUSPICIOUS:
            klass = SUSPECT
        elif claims is not None and claims.kind == "p":
            klass = PASS_HOLDER
        elif newcomer and self.admission.busy:
            klass = SUSPECT
        else:
            klass = ANONYMOUS
        # A demoted account keeps its name: its own buckets stay spent (issue 12).
        return Subject(ip, prefix, klass, account, pass_id), suspicion + 0.5 * newcomer, claims

    def _must_challenge(
        self, subject: Subject, creds: Credentials, claims: PassClaims | None, scope: Scope
    ) -> bool:
        if not self.books.under_attack or subject.klass <= PASS_HOLDER:
            return False
        if creds.bearer or creds.account_id:
            return False
        if claims is not None:
            # Any valid pass (a waiting-room one admits as anonymous); a suspicious holder stays
            # a SUSPECT rather than being sent round the challenge again.
            return False
        path = scope["path"]
        if path.startswith(_NEVER_CHALLENGED) or path.endswith(_FEEDS):
            return False
        agent = next((value for name, value in scope["headers"] if name == b"user-agent"), b"")
        if is_preview_fetch(path, agent):  # a link's preview (roost.shield.fetchers)
            return False
        # Only a browser asking for a page can run the proof of work; anything else (an app, a
        # feed reader) is limited by rate instead and told when to come back.
        return any(name == b"accept" and b"text/html" in value for name, value in scope["headers"])

    # Refusals --------------------------------------------------------------------------------
    async def _refuse(self, scope: Scope, send: Send, refusal: Refusal) -> None:
        status, klass = refusal.status, refusal.klass
        self.metrics.count("shed" if status == 503 else "rejected", klass, refusal.reason)
        bucket = self.detector.bucket(self.clock())
        if refusal.reason.startswith("shed"):
            bucket.shed += 1
            bucket.shed_class1 += klass == SIGNED_IN
        else:
            bucket.rejected += 1
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013 if status == 503 else 1008})
            return
        # Keep the connection after a 429: the client's next requests meet the protocol's canned
        # answer, cheaper than a reconnect. Close after a 503 (the server is short of capacity),
        # except to a signed-in user: a reconnect would put them back in the listen queue
        # behind the flood, seconds away, for a request that a slot can serve soon.
        signed_in = klass == SIGNED_IN
        await refuse(
            send,
            status,
            scope["path"],
            refusal.retry_after,
            refusal.headers,
            refusal.message,
            close=status != 429 and not signed_in,
            pages=self.pages,
            signed_in=signed_in,
        )

    async def _rate_limited(
        self, scope: Scope, send: Send, subject: Subject, verdict: Verdict, now: float
    ) -> None:
        d, klass = verdict.decision, subject.klass
        if verdict.refused_by == "global":
            await self._refuse(scope, send, Refusal(503, "global_budget", klass, d.retry_after))
            return
        if verdict.refused_by == "ip":
            # Whole seconds, as Retry-After says: the protocol refuses the rest of them cheaply.
            self.gate.penalize(subject.ip, retry_seconds(d.retry_after), now)
        if verdict.refused_by == "pass":
            self._revoke(subject.pass_id.partition(":")[2])
        if subject.account:
            self.standing.note_account(subject.account, "rate_limited", now)
        self.note_address(subject.ip, subject.prefix, "rate_limited", now)
        headers = rate_headers(d, time.time())
        reason = "limit_" + verdict.refused_by
        refusal = Refusal(429, reason, klass, d.retry_after, headers=headers)
        await self._refuse(scope, send, refusal)

    async def _challenge(
        self, scope: Scope, send: Send, subject: Subject, creds: Credentials, now: float
    ) -> None:
        s = self.settings
        suspicion = self.rep_ip.suspicion(subject.ip, now)
        bits = s.pow_bits + round(suspicion * (s.pow_bits_max - s.pow_bits))
        bits = min(s.pow_bits_max, bits + (1 if self.admission.standing(now) else 0))
        self.metrics.count("challenged", subject.klass, f"pow_{bits}")
        await send_challenge(
            send, self.secret, scope, bits, subject.prefix, creds.user_agent, s.pass_ttl
        )

    # Serving ---------------------------------------------------------------------------------
    async def _admit(
        self, request: RequestContext, capture: Callable[[dict], None] | None = None
    ) -> None:
        scope, receive, send, subject, rank, endpoint, verdict, now = request
        klass = subject.klass
        admission = self.admission
        if admission.admit_now(klass, rank):
            started = self.clock()
        else:
            try:
                started = await admission.acquire(klass, rank)
            except Shed as shed:
                await self._shed(request, shed)
                return
            if started - now > 1e-4:  # only requests that queued: an observe per request costs
                self.metrics.queue_delay.observe(started - now)
        headers = rate_headers(verdict.decision, time.time()) if verdict.decision.limit else ()
        held = True
        status = 0
        streaming = endpoint is Endpoint.STREAMING

        async def send_wrapper(message: dict) -> None:
            nonlocal held, status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *headers]}
                if streaming and held:
                    held = False
                    admission.release(klass, started)
            elif kind == "websocket.accept" and held:
                held = False
                admission.release(klass, started)
            if capture is not None:
                capture(message)
            await send(message)

        def let_go() -> None:
            nonlocal held
            if held:
                held = False
                admission.release(klass, started)

        if endpoint is Endpoint.UPLOAD:  # it may wait on a picture's processing
            offer(scope, let_go)
        self.metrics.count("admitted", klass, endpoint._value_)  # .value is a slower property
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            done = admission.release(klass, started) if held else self.clock()
            self._after(subject, endpoint, status, done, done - started)

    async def _shed(self, request: RequestContext, shed: Shed) -> None:
        """Admission had no room: an anonymous reader gets a recent copy if there is one."""
        scope, send, klass, now = request.scope, request.send, request.subject.klass, request.now
        self.last_shed = now
        if not request.subject.account and scope["method"] == "GET":
            copy = self.cache.fallback(cache_key(scope), now)
            if copy is not None:
                self.metrics.brownout.labels("shed_served_stale").inc()
                await replay(send, copy)
                return
        refusal = Refusal(503, "shed_" + shed.reason, klass, 1 + (klass >= ANONYMOUS))
        await self._refuse(scope, send, refusal)

    async def _cached(self, request: RequestContext) -> None:
        async def forward(capture: Callable[[dict], None] | None) -> None:
            await self._admit(request, capture)

        scope, send, now = request.scope, request.send, request.now
        await serve_cached(self.cache, self.metrics, scope, send, now, forward)

    # Reputation ------------------------------------------------------------------------------
    def _after(
        self, subject: Subject, endpoint: Endpoint, status: int, now: float, latency: float
    ) -> None:
        event = "good" if status < 400 else status_event(status, endpoint is Endpoint.LOGIN)
        self.detector.completed(now, latency, event == "failed_login", endpoint is Endpoint.POST)
        self.standing.note_response(subject.ip, subject.prefix, subject.account, event, now)

    def _revoke(self, pass_id: str) -> None:
        if len(self.revoked) > 100_000:
            self.revoked.clear()
        self.revoked.add(pass_id)
        self.shared.publish_revocation(pass_id, self.settings.pass_ttl)

    async def first_use(self, nonce: str, wall: float) -> bool:
        if not self.replay.first_use(nonce, wall):
            return False
        return await self.shared.first_use(nonce)

    # Background ------------------------------------------------------------------------------
    async def aclose(self) -> None:
        await self.books.aclose()
        await self.shared.aclose()

    def _lifespan_receive(self, receive: Receive) -> Any:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.aclose()
            return message

        return wrapped
