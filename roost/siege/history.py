"""The legitimate users' history, made at setup: whom they follow and what they have posted.

A home timeline is only as full as its follow graph: with ``[legit] follows = 10`` every user
follows ten other users (a seeded random choice), so reading home costs what it costs on a
lived-in site. ``posts`` gives every user a few statuses before the first phase, so timelines
have content from the first second and sybils have something to favourite. Everything goes
through the API from each user's own address with its own token, a few users at a time; a
refusal is retried (retry.py), and what still fails is counted for the report's warnings.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from roost.siege.accounts import Account, SetupError, check, client_for
from roost.siege.guard import Target
from roost.siege.retry import reason, retrying

CONCURRENCY = 8  # users doing their setup at once
MOODS = ("Morning", "Lunch", "Tea", "Rain", "Sunday", "Train")


@dataclass
class History:
    """What the users' setup made, and what it could not."""

    follows: int = 0
    posts: int = 0
    status_ids: list[str] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # by what failed and why

    def summary(self) -> dict[str, object]:
        return {"follows": self.follows, "posts": self.posts, "failed": dict(self.failures)}


async def make_history(
    target: Target, users: list[Account], follows: int, posts: int, seed: int
) -> History:
    """Every user follows ``follows`` others; then, once all follows are made (so that each
    post reaches every follower's home timeline), every user posts ``posts`` statuses."""
    history = History()
    gate = asyncio.Semaphore(CONCURRENCY)
    rngs = [random.Random(seed * 7907 + index) for index in range(len(users))]

    async def follow(user: Account, rng: random.Random) -> None:
        others = [other for other in users if other.id != user.id]
        async with gate, _signed_in(target, user) as client:
            for other in rng.sample(others, min(follows, len(others))):
                path = f"/api/v1/accounts/{other.id}/follow"
                follow_one = functools.partial(client.post, path)
                if await _try(history, "follow", rng, follow_one) is not None:
                    history.follows += 1

    async def post(user: Account, rng: random.Random) -> None:
        async with gate, _signed_in(target, user) as client:
            for number in range(posts):
                form = {"status": f"{rng.choice(MOODS)}, day {number + 1} #{rng.randrange(1000)}"}
                send = functools.partial(client.post, "/api/v1/statuses", data=form)
                reply = await _try(history, "post", rng, send)
                if reply is not None:
                    history.posts += 1
                    history.status_ids += _id_of(reply)

    if follows:
        await asyncio.gather(*(follow(user, rng) for user, rng in zip(users, rngs, strict=True)))
    if posts:
        await asyncio.gather(*(post(user, rng) for user, rng in zip(users, rngs, strict=True)))
    return history


async def _try(
    history: History,
    what: str,
    rng: random.Random,
    send: Callable[[], Awaitable[httpx.Response]],
) -> httpx.Response | None:
    """One setup request, retried while refused; None (and counted) if it never worked."""

    async def attempt(_: int) -> httpx.Response:
        reply = await send()
        return check(reply, f"{reply.request.method} {reply.request.url.path}")

    try:
        return await retrying(attempt, rng)
    except (SetupError, httpx.HTTPError) as error:
        history.failures[f"{what}: {reason(error)}"] += 1
        return None


def _id_of(reply: httpx.Response) -> list[str]:
    try:
        return [str(reply.json()["id"])]
    except (ValueError, KeyError, TypeError):  # posted, but the answer names no id
        return []


def _signed_in(target: Target, user: Account) -> httpx.AsyncClient:
    client = client_for(target, user.source)
    client.headers["Authorization"] = f"Bearer {user.token}"
    return client
