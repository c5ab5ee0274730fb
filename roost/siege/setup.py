"""Before the first attack packet: is the target alive, who are the users and bots, from where.

Everything a run needs is prepared here so that every failure (dead target, missing API, a
sign-up that is refused) happens before traffic starts, with a message that says what to fix.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from roost.siege.accounts import Account, App, SetupError, client_for, create_app, register_many
from roost.siege.guard import Target
from roost.siege.profiles import AttackContext
from roost.siege.scenario import Scenario
from roost.siege.schedule import scaled
from roost.siege.sources import HOSTS_PER_PREFIX, AddressPlan
from roost.siege.worker import AttackShare, PhaseWindow

NEEDS_APP = {"login_brute_force", "signup_flood"}


@dataclass
class Cast:
    """Who takes part: the app, legitimate accounts and readers' addresses, bot accounts."""

    context: AttackContext
    users: list[Account]
    reader_sources: list[str | None]
    bots: list[Account]


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
    scenario: Scenario, target: Target, plan: AddressPlan, say: Callable[[str], None] = print
) -> Cast:
    """Addresses first (so they do not depend on the server), then accounts through the API."""
    legit = scenario.legit
    population = plan.take(max(1, legit.users + legit.readers), legit.prefixes)
    bot_sources: list[str | None] = []
    if scenario.bot_accounts:
        prefixes = math.ceil(scenario.bot_accounts / HOSTS_PER_PREFIX)
        bot_sources = list(plan.take(scenario.bot_accounts, prefixes))
    status = await probe(target)
    say(f"target {target.url} answers ({status})")
    app = await _app(scenario, target)
    users: list[Account] = []
    bots: list[Account] = []
    if app is not None and (legit.users or bot_sources):
        say(
            f"registering {legit.users} users and {len(bot_sources)} bot accounts (slow on purpose)"
        )
    if app is not None and legit.users:
        users = await register_many(
            target, app, "user", list(population[: legit.users]), scenario.seed
        )
    if app is not None and bot_sources:
        bots = await register_many(target, app, "bot", bot_sources, scenario.seed + 1)
    cookie, csrf = (
        await _login_form(target) if "login_brute_force" in scenario.profiles else ("", "")
    )
    context = AttackContext(
        host=target.host_header,
        client_id=app.client_id if app else "",
        client_secret=app.client_secret if app else "",
        app_token=app.token if app else "",
        bot_tokens=tuple(bot.token for bot in bots),
        victims=tuple(user.email for user in users) or ("admin@localhost",),
        login_cookie=cookie,
        login_csrf=csrf,
    )
    readers: list[str | None] = list(population[legit.users : legit.users + legit.readers])
    return Cast(context, users, readers, bots)


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
        sources = [plan.take(a.bots, a.prefixes) for a in phase.attacks]
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
