"""Legitimate users: account holders using the API, and anonymous readers using a browser.

Each one acts on an open-loop schedule (Poisson, ``actions_per_min``): the latency of an action
is measured from when it was *meant* to start, so a server that stalls is charged for the wait
of everyone queued behind the stall (no coordinated omission). A success is a 2xx within the
objective; a shed status (403/429/503) or a refused connection counts as wrongly rejected.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from roost.siege.accounts import Account, client_for
from roost.siege.agents import ACCEPT_JSON, ACCEPT_PAGE, LANGUAGES
from roost.siege.flood import Budget
from roost.siege.guard import GuardError, Target
from roost.siege.solver import Solver
from roost.siege.stats import SHED_STATUSES, Ledger
from roost.siege.timeline import Timeline
from roost.siege.wire import BROWSER_AGENTS

USERS = "legit_users"
READERS = "legit_readers"
# Errors that mean the server turned the user away: the connection was refused, reset or closed
# without an answer. Timeouts, redirects the guard refused and surprises on our side (bad JSON)
# are errors but not rejections (docs/siege.md, "wrongly_rejected").
TURNED_AWAY = frozenset(
    {"ConnectError", "ReadError", "WriteError", "CloseError", "RemoteProtocolError"}
)


@dataclass
class Clock:
    """Maps moments of the run to phases; shared by all legitimate clients."""

    start: float  # monotonic time the first phase began
    phases: tuple[tuple[str, float, float], ...]  # (name, start_s, end_s)
    end: float  # monotonic time the run must stop

    def phase_at(self, moment: float) -> str:
        t = moment - self.start
        for name, start_s, end_s in self.phases:
            if start_s <= t < end_s:
                return name
        return self.phases[-1][0]


@dataclass
class Recorder:
    """Where every legitimate request's outcome goes."""

    ledger: Ledger
    timeline: Timeline
    clock: Clock
    objective_s: float
    budget: Budget  # the legit share of the run's request limit

    def record(
        self, name: str, intended: float, status: int | None, error: str = "", series: str = "legit"
    ) -> None:
        """One outcome, in the ledger and in the per-second ``series`` (legit or status)."""
        latency = time.monotonic() - intended
        stats = self.ledger.get(self.clock.phase_at(intended), name)
        ok = status is not None and 200 <= status < 300 and latency <= self.objective_s
        rejected = status in SHED_STATUSES if status is not None else error in TURNED_AWAY
        if status is None:
            stats.record_error(error, shed=rejected)
        else:
            stats.record(status, latency, ok)
        if series == "status":
            self.timeline.status(intended - self.clock.start, ok)
        else:
            self.timeline.legit(intended - self.clock.start, ok, rejected, latency)


# What every visitor is made of: target, source address, random stream, actions per minute.
Who = tuple[Target, str | None, random.Random, float]


class Visitor:
    """Base of users and readers: the open-loop schedule and error accounting."""

    name = ""
    series = "legit"  # which per-second series its outcomes go to (timeline.py)
    accept = ACCEPT_JSON  # what it asks for: a web app's JSON (readers: pages)

    def __init__(self, target: Target, source: str | None, rng: random.Random, rate_per_min: float):
        self.target = target
        self.source = source
        self.rng = rng
        self.rate_per_s = rate_per_min / 60

    async def run(self, recorder: Recorder, stop: asyncio.Event, timeout_s: float) -> None:
        clock = recorder.clock
        intended = clock.start + self.rng.expovariate(self.rate_per_s)
        async with self.client(timeout_s) as client:
            while intended < clock.end and not stop.is_set() and recorder.budget.take():
                await _sleep_until(intended, stop)
                if stop.is_set():
                    return
                await self.one(client, recorder, intended)
                intended += self.rng.expovariate(self.rate_per_s)

    def client(self, timeout_s: float) -> httpx.AsyncClient:
        client = client_for(self.target, self.source, timeout_s)
        # A browser's headers in a browser's order (User-Agent right after Host, as Firefox and
        # Safari send it; Accept-Language, which every browser sends): the shield's header check
        # (roost/shield/fingerprint.py) must see the browser the User-Agent claims, or it counts
        # every simulated person as a script in disguise.
        client.headers = httpx.Headers(
            [
                ("Host", self.target.host_header),
                ("User-Agent", self.rng.choice(BROWSER_AGENTS)),
                ("Accept", self.accept),
                ("Accept-Language", LANGUAGES[0]),
                ("Accept-Encoding", client.headers["Accept-Encoding"]),
                ("Connection", "keep-alive"),
            ]
        )
        return client

    async def one(self, client: httpx.AsyncClient, recorder: Recorder, intended: float) -> None:
        stats = recorder.ledger.get(recorder.clock.phase_at(intended), self.name)
        stats.sent += 1
        try:
            status = await self.act(client)
        except asyncio.CancelledError:
            stats.unfinished += 1
            raise
        except httpx.TimeoutException:
            recorder.record(self.name, intended, None, "timeout", self.series)
        except (httpx.RequestError, GuardError) as error:
            recorder.record(self.name, intended, None, type(error).__name__, self.series)
        except Exception as error:  # a surprising answer (bad JSON...) must not kill the user
            recorder.record(
                self.name, intended, None, f"client:{type(error).__name__}", self.series
            )
        else:
            recorder.record(self.name, intended, status, series=self.series)

    async def act(self, client: httpx.AsyncClient) -> int:
        raise NotImplementedError


class Reader(Visitor):
    """An anonymous browser: loads public pages, keeps cookies, follows redirects, solves PoW.

    A page load counts as one request, timed until the page and its stylesheets, scripts and
    images (fetched once, then cached as a browser would) have arrived; it succeeds only if all
    of them did.
    """

    name = READERS
    accept = ACCEPT_PAGE

    def __init__(self, who: Who, paths: tuple[str, ...], solver: Solver):
        super().__init__(*who)
        self.paths = paths
        self.solver = solver
        self.cached: set[str] = set()

    async def act(self, client: httpx.AsyncClient) -> int:
        response = await client.get(self.rng.choice(self.paths))
        response = await self.solver.pass_challenge(client, response) or response
        if response.status_code != 200 or "html" not in response.headers.get("content-type", ""):
            return response.status_code
        wanted = [path for path in subresources(response.text) if path not in self.cached]
        replies = await asyncio.gather(*(client.get(path) for path in wanted))
        for path, reply in zip(wanted, replies, strict=True):
            if reply.status_code == 200:
                self.cached.add(path)
        return max((r.status_code for r in replies), default=200)


class User(Visitor):
    """An account holder using a Mastodon client: reads, posts, replies, favourites, follows."""

    name = USERS
    # What a person does, by weight: mostly reading.
    ACTIONS: tuple[tuple[str, int], ...] = (
        ("home", 40),
        ("notifications", 15),
        ("post", 10),
        ("reply", 8),
        ("favourite", 12),
        ("follow", 5),
        ("public", 10),
    )

    def __init__(
        self,
        who: Who,
        account: Account,
        others: Callable[[], list[Account]],
        actions: tuple[tuple[str, float], ...] = (),
    ):
        super().__init__(*who)
        self.account = account
        self.others = others
        self.seen: list[str] = []
        self._names = [name for name, _ in actions or self.ACTIONS]
        self._weights = [weight for _, weight in actions or self.ACTIONS]

    def client(self, timeout_s: float) -> httpx.AsyncClient:
        client = super().client(timeout_s)
        client.headers["Authorization"] = f"Bearer {self.account.token}"
        return client

    async def act(self, client: httpx.AsyncClient) -> int:
        action = self.rng.choices(self._names, self._weights)[0]
        return await getattr(self, f"_{action}")(client)

    async def _home(self, client: httpx.AsyncClient) -> int:
        return await self._read(client, "/api/v1/timelines/home?limit=20")

    async def _public(self, client: httpx.AsyncClient) -> int:
        return await self._read(client, "/api/v1/timelines/public?limit=20")

    async def _notifications(self, client: httpx.AsyncClient) -> int:
        return (await client.get("/api/v1/notifications?limit=15")).status_code

    async def _post(self, client: httpx.AsyncClient) -> int:
        mood = self.rng.choice(("Morning", "Lunch", "Tea", "Rain"))
        text = f"{mood} thoughts #{self.rng.randrange(1000)}"
        return await self._remember(await client.post("/api/v1/statuses", data={"status": text}))

    async def _reply(self, client: httpx.AsyncClient) -> int:
        if not self.seen:
            return await self._post(client)
        form = {"status": "Agreed!", "in_reply_to_id": self.rng.choice(self.seen)}
        return await self._remember(await client.post("/api/v1/statuses", data=form))

    async def _favourite(self, client: httpx.AsyncClient) -> int:
        if not self.seen:
            return await self._home(client)
        status_id = self.rng.choice(self.seen)
        return (await client.post(f"/api/v1/statuses/{status_id}/favourite")).status_code

    async def _follow(self, client: httpx.AsyncClient) -> int:
        others = [a for a in self.others() if a.id != self.account.id]
        if not others:
            return await self._home(client)
        other = self.rng.choice(others)
        return (await client.post(f"/api/v1/accounts/{other.id}/follow")).status_code

    async def _read(self, client: httpx.AsyncClient, path: str) -> int:
        response = await client.get(path)
        if response.status_code == 200:
            try:
                ids = [str(item["id"]) for item in response.json()[:20]]
            except (ValueError, KeyError, TypeError):
                ids = []
            self.seen = (ids + self.seen)[:50]
        return response.status_code

    async def _remember(self, response: httpx.Response) -> int:
        if response.status_code == 200:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self.seen = [str(response.json()["id"]), *self.seen][:50]
        return response.status_code


TAG = re.compile(r"<(link|script|img)\b([^>]*)>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'\b(rel|href|src)\s*=\s*"([^"]*)"', re.IGNORECASE)


def subresources(page: str) -> list[str]:
    """Same-site stylesheets, icons, scripts and images a browser would load with ``page``."""
    found = []
    for tag, attributes in TAG.findall(page):
        values = {
            name.lower(): html.unescape(value) for name, value in ATTRIBUTE.findall(attributes)
        }
        if tag.lower() == "link" and values.get("rel") not in ("stylesheet", "icon"):
            continue
        path = values.get("href" if tag.lower() == "link" else "src", "")
        if path.startswith("/") and not path.startswith("//"):
            found.append(path)
    return list(dict.fromkeys(found))


async def _sleep_until(moment: float, stop: asyncio.Event) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        try:
            async with asyncio.timeout(delay):
                await stop.wait()
        except TimeoutError:
            pass
