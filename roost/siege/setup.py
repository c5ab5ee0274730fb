"""Before the first attack packet: is the target alive, who are the users and bots, from where.

Everything a run needs is prepared here so that every failure (dead target, missing API, a
sign-up refused for good) happens before traffic starts, with a message that says what to fix.
What the server only refuses for now is retried (registrar.py, history.py); bot accounts and the
users' history are best effort, and what could not be made is a warning in the report.
"""

from __future__ import annotations

import dataclasses
import html
import math
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from roost.siege.accounts import Account, App, SetupError, client_for, create_app
from roost.siege.guard import Target, check_target
from roost.siege.history import make_history
from roost.siege.profiles import AttackContext
from roost.siege.registrar import CONCURRENCY, register_all
from roost.siege.scenario import Scenario
from roost.siege.schedule import scaled
from roost.siege.sources import AddressPlan
from roost.siege.statuspage import await_status_page
from roost.siege.worker import AttackShare, PhaseWindow

NEEDS_APP = {"login_brute_force", "signup_flood", "botnet_mix"}
START_MARGIN_S = 5.0  # starting the generator processes, after setup and before the phases


@dataclass
class Cast:
    """Who takes part: the app, legitimate accounts and readers' addresses, bot accounts."""

    context: AttackContext
    users: list[Account]
    reader_sources: list[str | None]
    bots: list[Account]
    status: tuple[Target, str | None] | None = None  # the status page, and whence it is polled
    report: dict[str, Any] = field(default_factory=dict)  # what setup did, for the report
    warnings: list[str] = field(default_factory=list)


async def probe(target: Target, timeout_s: float = 5.0) -> int:
    """The status of ``GET <target path>``; raise SetupError if the target does not answer."""
    try:
        async with client_for(target, None, timeout_s) as client:
            reply = await client.get(target.path, follow_redirects=False)
    except Exception as error:  # any failure here means "does not answer"
        reason = str(error) or type(error).__name__
        raise SetupError(f"target {target.url} does not answer: {reason}") from None
    return reply.status_code


async def prepare(
    scenario: Scenario,
    target: Target,
    plan: AddressPlan,
    say: Callable[[str], None] = print,
    status_url: str = "",
    deadline: float | None = None,
) -> Cast:
    """Addresses first (so they do not depend on the server), then accounts through the API:
    legitimate users and their history first, so that they are older than any bot account."""
    legit = scenario.legit
    population = plan.take(max(1, legit.users + legit.readers), legit.prefixes)
    bot_sources: list[str | None] = []
    if scenario.bot_accounts:
        bot_sources = list(plan.take(scenario.bot_accounts, scenario.bot_prefixes))
    status_target = check_target(status_url) if status_url else None
    status_source = plan.take(1, 1)[0] if status_target else None
    say(f"target {target.url} answers ({await probe(target)})")
    cast = Cast(AttackContext(host=target.host_header), [], [], [])
    if status_target is not None:
        cast.status = (status_target, status_source)
        problem = await await_status_page(status_target, status_source)
        if problem:
            cast.warnings.append(f"status page {status_url} did not answer at setup: {problem}")
    app = await _app(scenario, target)
    if app is not None:
        await _users(scenario, target, app, population[: legit.users], cast, say)
        await _bots(scenario, target, app, bot_sources, cast, say, deadline)
    cookie, csrf = (
        await _login_form(target) if "login_brute_force" in scenario.profiles else ("", "")
    )
    cast.context = dataclasses.replace(
        cast.context,
        client_id=app.client_id if app else "",
        client_secret=app.client_secret if app else "",
        app_token=app.token if app else "",
        bot_tokens=tuple(bot.token for bot in cast.bots),
        victims=tuple(user.email for user in cast.users) or ("admin@localhost",),
        login_cookie=cookie,
        login_csrf=csrf,
        usernames=tuple(user.username for user in cast.users),
    )
    cast.reader_sources = list(population[legit.users : legit.users + legit.readers])
    return cast


async def _users(
    scenario: Scenario,
    target: Target,
    app: App,
    sources: Sequence[str | None],
    cast: Cast,
    say: Callable[[str], None],
) -> None:
    """Legitimate users, each from its own address; then whom they follow and what they post."""
    legit = scenario.legit
    if not sources:
        return
    say(f"registering {len(sources)} users (slow on purpose: password hashing)")
    cast.users, tally = await register_all(target, app, "user", sources, scenario.seed, say=say)
    cast.report["user_signups"] = tally.summary()
    if not (legit.follows or legit.posts):
        return
    say(f"users follow {legit.follows} others each and post {legit.posts} statuses each")
    history = await make_history(target, cast.users, legit.follows, legit.posts, scenario.seed)
    cast.report["history"] = history.summary()
    cast.context = dataclasses.replace(cast.context, status_ids=tuple(history.status_ids))
    if history.failures:
        failed = ", ".join(f"{count} {what}" for what, count in history.failures.items())
        cast.warnings.append(f"users' setup history incomplete, these failed: {failed}")


async def _bots(
    scenario: Scenario,
    target: Target,
    app: App,
    sources: list[str | None],
    cast: Cast,
    say: Callable[[str], None],
    deadline: float | None,
) -> None:
    """Bot accounts, best effort: as many as the server lets us make in the time we have."""
    if not sources:
        return
    say(
        f"registering {len(sources)} bot accounts from {scenario.bot_prefixes} /24s, at most "
        f"{CONCURRENCY} at a time (slow on purpose: password hashing)"
    )
    until = bots_until(scenario, deadline)
    seed = scenario.seed + 1
    cast.bots, tally = await register_all(
        target, app, "bot", sources, seed, strict=False, until=until, say=say
    )
    cast.report["bot_signups"] = tally.summary()
    say(f"{tally.made} bot accounts registered in {tally.seconds:.1f} s")
    if not cast.bots:
        raise SetupError(f"no bot account could be registered: {dict(tally.failures)}")
    if tally.made < tally.asked:
        why = ", ".join(f"{count} refused ({what})" for what, count in tally.failures.items())
        late = f"{tally.out_of_time} not made in the time setup had" if tally.out_of_time else ""
        cast.warnings.append(
            f"only {tally.made} of {tally.asked} bot accounts were registered: "
            + "; ".join(part for part in (why, late) if part)
        )


def bots_until(scenario: Scenario, deadline: float | None) -> float | None:
    """When bot sign-ups must stop: in time for every phase to run, or, if the phases will not
    fit anyway, after half of the time that is left."""
    if deadline is None:
        return None
    now = time.monotonic()
    latest = deadline - scenario.duration_s - START_MARGIN_S
    return latest if latest > now else now + (deadline - now) / 2


async def _login_form(target: Target) -> tuple[str, str]:
    """The session cookie and CSRF token of one GET /login (empty when there is no such form)."""
    async with client_for(target, None) as client:
        try:
            page = await client.get("/login")
        except Exception:  # optional: brute force still runs against the OAuth endpoint
            return "", ""
        match = re.search(r'name="csrf"\s+value="([^"]*)"', page.text)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return cookie, html.unescape(match.group(1)) if match else ""


async def _app(scenario: Scenario, target: Target) -> App | None:
    required = scenario.legit.users > 0 or scenario.bot_accounts > 0
    if not required and not scenario.profiles & NEEDS_APP:
        return None
    try:
        async with client_for(target, None) as client:
            return await create_app(client)
    except SetupError as error:
        if required:
            raise SetupError(f"accounts need the Mastodon API: {error}") from None
        return None  # brute force and sign-up floods still run, without credentials


def windows(
    scenario: Scenario, plan: AddressPlan, workers: int, limit_s: float
) -> list[tuple[PhaseWindow, ...]]:
    """Each worker's phases: its slice of every attack's sources, connections and rate."""
    per_worker: list[list[PhaseWindow]] = [[] for _ in range(workers)]
    offset = 0.0
    for p_index, phase in enumerate(scenario.phases):
        start, end = offset, min(offset + phase.duration_s, limit_s)
        offset += phase.duration_s
        if start >= limit_s:
            break
        sources = [
            scattered(plan.take(a.bots, a.prefixes), scenario.seed * 7919 + p_index * 131 + a_index)
            for a_index, a in enumerate(phase.attacks)
        ]
        for w in range(workers):
            shares = tuple(
                AttackShare(
                    spec=dataclasses.replace(
                        attack,
                        connections=math.ceil(attack.connections / workers),
                        schedule=scaled(attack.schedule, 1 / workers),
                    ),
                    sources=tuple(sources[a_index][w::workers] or sources[a_index]),
                    seed=scenario.seed * 1_000_003 + p_index * 1009 + a_index * 31 + w,
                )
                for a_index, attack in enumerate(phase.attacks)
            )
            per_worker[w].append(PhaseWindow(phase.name, start, end, shares))
    return [tuple(phases) for phases in per_worker]


def scattered(addresses: list[str], seed: int) -> list[str]:
    """The bots in a random order: a connection that moves on comes from a random address, so
    that the connections open at any moment are spread over all the attack's /24s, as a
    botnet's are, rather than filling one /24 after another."""
    random.Random(seed).shuffle(addresses)
    return addresses
