"""`roost demo`: a small realistic data set, so a new user has something to look at.

A few hundred people with a skewed follow graph (a few accounts followed by most, most
followed by a few, as on real sites), and thousands of posts over the past week with hashtags,
mentions, replies, favourites and reposts. Everyone's password is ``roost-demo``.
"""

from __future__ import annotations

import random
import time

import click

from roost.commands._run import with_context

PASSWORD = "roost-demo"
WORDS = [
    "morning",
    "coffee",
    "rain",
    "city",
    "train",
    "music",
    "garden",
    "book",
    "river",
    "night",
    "code",
    "bird",
    "sky",
    "market",
    "weekend",
    "bread",
    "walk",
    "sunset",
    "storm",
    "festival",
    "harbour",
    "library",
    "bicycle",
    "tea",
    "mountain",
]
TAGS = ["roost", "caturday", "music", "python", "birds", "news", "art", "running", "food"]
CELEBRITIES = ("roost_news", "daily_bird", "civic_weather")


@click.command()
@click.option("--users", default=300, show_default=True, help="Accounts to create.")
@click.option("--posts", default=3000, show_default=True, help="Posts to create.")
@click.option("--seed", default=2009, show_default=True, help="Random seed (same data each run).")
def demo(users: int, posts: int, seed: int) -> None:
    """Fill the database with demo accounts and posts (password: roost-demo)."""
    started = time.monotonic()
    counts = with_context(lambda ctx: build(ctx, users, posts, random.Random(seed)))
    click.echo(
        f"demo data: {counts['users']} users, {counts['follows']} follows, "
        f"{counts['posts']} posts in {time.monotonic() - started:.1f}s (password: {PASSWORD})"
    )


async def build(ctx, users: int, posts: int, rng: random.Random) -> dict:
    from roost.domain import accounts as rules
    from roost.domain.ids import IdGenerator

    week_ago = time.time() - 7 * 24 * 3600
    step = (7 * 24 * 3600) / max(posts + users, 1)
    clock = _Clock(week_ago, step)
    ctx.ids = IdGenerator(ctx.settings.worker_id, clock=clock)
    hashed = rules.hash_password(PASSWORD)
    people = await _make_users(ctx, users, hashed, rng)
    follows = await _make_follows(ctx, people, rng)
    made = await _make_posts(ctx, people, posts, rng, clock)
    return {"users": len(people), "follows": follows, "posts": made}


class _Clock:
    """A clock that walks from a week ago to now, so demo ids and times are spread out."""

    def __init__(self, start: float, step: float) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        self.now = min(self.now + self.step, time.time())
        return self.now


async def _make_users(ctx, count: int, hashed: str, rng: random.Random) -> list:
    from sqlalchemy import insert

    from roost.services import accounts
    from roost.services.context import now
    from roost.store.tables import accounts as table

    names = list(CELEBRITIES) + [
        f"{rng.choice(WORDS)}_{i}" for i in range(count - len(CELEBRITIES))
    ]
    async with ctx.db.write() as tx:
        for name in names:
            if await accounts.by_username(tx.conn, name) is not None:
                continue
            moment = now()
            await tx.conn.execute(
                insert(table).values(
                    id=ctx.ids.next_id(),
                    username=name,
                    email=f"{name}@demo.roost",
                    password_hash=hashed,
                    display_name=name.replace("_", " ").title(),
                    note=f"Hello, I am {name}.",
                    note_html=f"<p>Hello, I am {name}.</p>",
                    locked=False,
                    bot=False,
                    role="user",
                    statuses_count=0,
                    followers_count=0,
                    following_count=0,
                    created_at=moment,
                    updated_at=moment,
                )
            )
    async with ctx.db.read() as conn:
        return [await accounts.by_username(conn, n) for n in names]


async def _make_follows(ctx, people: list, rng: random.Random) -> int:
    from roost.services import social

    stars = people[: len(CELEBRITIES)]
    made = 0
    async with ctx.db.write() as tx:
        for person in people:
            targets = {s["id"] for s in stars if rng.random() < 0.8}
            targets |= {p["id"] for p in rng.sample(people, min(len(people), rng.randint(3, 25)))}
            targets.discard(person["id"])
            for target in targets:
                await social.follow(ctx, tx, person["id"], target)
                made += 1
    return made


async def _make_posts(ctx, people: list, count: int, rng: random.Random, clock) -> int:
    from roost.domain.errors import RoostError
    from roost.services import posts

    recent: list[int] = []
    weights = [40 if i < len(CELEBRITIES) else 1 for i in range(len(people))]
    for start in range(0, count, 200):
        async with ctx.db.write() as tx:
            for _ in range(min(200, count - start)):
                author = rng.choices(people, weights)[0]
                reply_to = rng.choice(recent) if recent and rng.random() < 0.15 else None
                try:
                    status_id = await posts.create(
                        ctx, tx, author, _sentence(rng, people), in_reply_to_id=reply_to
                    )
                except RoostError:
                    continue
                recent = ([*recent, status_id])[-50:]
                fan = rng.choice(people)
                if rng.random() < 0.3 and fan["id"] != author["id"]:
                    await posts.favourite(ctx, tx, fan["id"], status_id)
                if rng.random() < 0.05 and fan["id"] != author["id"]:
                    await posts.reblog(ctx, tx, fan, status_id)
    return count


def _sentence(rng: random.Random, people: list) -> str:
    words = rng.sample(WORDS, rng.randint(4, 12))
    if rng.random() < 0.4:
        words.append("#" + rng.choice(TAGS))
    if rng.random() < 0.15:
        words.insert(0, "@" + rng.choice(people)["username"])
    return " ".join(words).capitalize()
