"""Preview cards: the card of a post's first link, fetched once per URL and shared by every post
that links it.

The work runs after the post commits, off the request, as small asyncio tasks in the process
that took the post (at most ``MOST_JOBS`` at once; beyond that a post simply gets no card).
Why not arq on Redis like the fan-out: a card is a nicety, not a delivery; a job lost at a
restart costs one card, which the next post linking the URL makes anyway, and a queue in
Redis would add a round trip per post for that. So jobs are not resumed after a crash.

One fetch per URL, as a state machine on the ``preview_cards`` row (pending -> ready | failed):

- in this process, one task per URL in flight: every post asking meanwhile awaits it;
- across processes, the row itself: whoever inserts the pending row (``ON CONFLICT DO
  NOTHING``), or moves a stale row's ``fetched_at`` from the value it read (compare-and-set),
  fetches; the others poll the row until it is no longer pending (bounded by ``STALE_CLAIM``,
  after which a pending row is taken to be abandoned and claimed again).

A ready card is reused for ``FRESH`` and then fetched again (the old one shown meanwhile and
kept if the fetch fails); a failed one is not tried again for ``RETRY_FAILED``. When a card is
ready the post's ``card_id`` is set (the shelf checks that column, so readers see it on their
next read) and the post goes to live streams as ``status.update``, as an edit does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from roost.domain import cards
from roost.services.context import Context, now
from roost.services.fetch import Fetcher, Refused
from roost.store.db import Tx
from roost.store.tables import preview_cards, statuses

log = logging.getLogger(__name__)
FRESH = timedelta(days=14)  # a ready card is reused this long
RETRY_FAILED = timedelta(hours=1)  # a failed one is not fetched again before this
STALE_CLAIM = timedelta(seconds=60)  # a pending row older than this was abandoned
MOST_JOBS = 1000  # posts waiting for their card in this process; more get none
PENDING, READY, FAILED = "pending", "ready", "failed"


def follow_link(ctx: Context, tx: Tx, status_id: int, body: str) -> None:
    """Once ``tx`` commits, ask for the card of the first link of ``body`` (a post's text)."""
    if not ctx.settings.media.preview_cards:
        return
    url = cards.link_of(body, ctx.base_url)
    if url is not None:
        tx.after_commit(lambda: ask(ctx, status_id, url))


def relinked(ctx: Context, old: str, new: str) -> bool:
    """Whether an edit from ``old`` to ``new`` changes the link the card is made from."""
    return cards.link_of(old, ctx.base_url) != cards.link_of(new, ctx.base_url)


def ask(ctx: Context, status_id: int, url: str) -> None:
    found = ctx.extras.get("cards")
    if found is not None:
        found.ask(status_id, url)


class Cards:
    """This process's card jobs and fetches in flight (``ctx.extras["cards"]``)."""

    def __init__(self, ctx: Context, fetcher: Fetcher | None = None) -> None:
        self.ctx = ctx
        self.fetcher = fetcher or Fetcher(ctx.settings)
        self.jobs: set[asyncio.Task] = set()
        self.flights: dict[str, asyncio.Task[int | None]] = {}
        self.dropped = 0  # posts that got no card because too many were waiting

    def ask(self, status_id: int, url: str) -> None:
        """Find (or make) the card of ``url`` and give it to the post, in the background."""
        if len(self.jobs) >= MOST_JOBS:
            self.dropped += 1
            log.warning("too many posts wait for a card; %s gets none", status_id)
            return
        task = asyncio.create_task(self._job(status_id, url))
        self.jobs.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self.jobs.discard)

    async def _job(self, status_id: int, url: str) -> None:
        try:
            card_id = await self.card_for(url)
            attached = card_id is not None and await self._attach(status_id, url, card_id)
            if attached and self.ctx.fanout is not None:
                self.ctx.fanout.announce_edit(status_id)
        except Exception:  # a card is a nicety: the post stands without it
            log.exception("the card of %s for post %s failed", url, status_id)

    async def card_for(self, url: str) -> int | None:
        """The id of ``url``'s ready card, fetched if need be; None if there is none."""
        flight = self.flights.get(url)
        if flight is None:
            flight = self.flights[url] = asyncio.create_task(self._obtain(url))
            flight.add_done_callback(lambda _: self.flights.pop(url, None))
        return await asyncio.shield(flight)  # one waiter cancelled cancels only itself

    async def _obtain(self, url: str) -> int | None:
        row = await self._row(url)
        if row is None:
            card_id = self.ctx.ids.next_id()
            if await self._insert_pending(card_id, url):
                return await self._fetch_into(card_id, url, keep=False)
            row = await self._row(url)
            if row is None:  # inserted and gone again: nothing to wait for
                return None
        moment = now()
        age = moment - row["fetched_at"]
        if row["state"] == READY and age < FRESH:
            return row["id"]
        if row["state"] == FAILED and age < RETRY_FAILED:
            return None
        if row["state"] == PENDING and age < STALE_CLAIM:
            return await self._wait(url)
        if await self._claim(row, moment):  # stale: this process fetches it again
            return await self._fetch_into(row["id"], url, keep=row["state"] == READY)
        return row["id"] if row["state"] == READY else await self._wait(url)

    async def _row(self, url: str):
        async with self.ctx.db.read() as conn:
            found = await conn.execute(select(preview_cards).where(preview_cards.c.url == url))
            return found.mappings().first()

    async def _insert_pending(self, card_id: int, url: str) -> bool:
        """Whether this process inserted ``url``'s row, and so fetches it."""
        moment = now()
        async with self.ctx.db.write(background=True) as tx:
            dialect = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
            done = await tx.conn.execute(
                dialect.insert(preview_cards)
                .values(id=card_id, url=url, state=PENDING, fetched_at=moment, created_at=moment)
                .on_conflict_do_nothing(index_elements=["url"])
            )
            return done.rowcount == 1

    async def _claim(self, row, moment: datetime) -> bool:
        """Take a stale row for fetching, unless another process took it first: its
        ``fetched_at`` moves only from the value read. A ready card stays ready (and shown)."""
        async with self.ctx.db.write(background=True) as tx:
            done = await tx.conn.execute(
                update(preview_cards)
                .where(
                    preview_cards.c.id == row["id"],
                    preview_cards.c.state == row["state"],
                    preview_cards.c.fetched_at == row["fetched_at"],
                )
                .values(state=READY if row["state"] == READY else PENDING, fetched_at=moment)
            )
            return done.rowcount == 1

    async def _wait(self, url: str) -> int | None:
        """Another process fetches ``url``: its card once ready, polled with a growing pause."""
        pause, waited = 0.1, 0.0
        while waited < STALE_CLAIM.total_seconds():
            await asyncio.sleep(pause)
            waited += pause
            row = await self._row(url)
            if row is None or row["state"] == FAILED:
                return None
            if row["state"] == READY:
                return row["id"]
            pause = min(pause * 2, 2.0)
        return None

    async def _fetch_into(self, card_id: int, url: str, keep: bool) -> int | None:
        """Fetch ``url`` and store what its page says; ``keep``: a ready card being refreshed
        stays as it was if the fetch fails."""
        page = await self._page(url)
        values: dict = {"fetched_at": now()}
        if page is not None:
            values.update(state=READY, **_columns(page))
        elif not keep:
            values["state"] = FAILED
        async with self.ctx.db.write(background=True) as tx:
            await tx.conn.execute(
                update(preview_cards).where(preview_cards.c.id == card_id).values(values)
            )
        return card_id if page is not None or keep else None

    async def _page(self, url: str) -> cards.Page | None:
        try:
            fetched = await self.fetcher.page(url)
        except Refused as why:
            log.info("no card for %s: %s", url, why)
            return None
        except Exception as exc:  # the network's many ways to fail: no card, never a crash
            log.info("no card for %s: %r", url, exc)
            return None
        charset = cards.charset_of(fetched.content_type, fetched.body)
        try:
            html = fetched.body.decode(charset, errors="replace")
        except LookupError:
            html = fetched.body.decode("utf-8", errors="replace")
        return cards.read_page(html, fetched.url)

    async def _attach(self, status_id: int, url: str, card_id: int) -> bool:
        """Give the post its card, if its first link is still ``url`` (an edit may have
        changed it meanwhile) and it has not got it yet."""
        async with self.ctx.db.write(background=True) as tx:
            found = await tx.conn.execute(
                select(statuses.c.text, statuses.c.card_id).where(statuses.c.id == status_id)
            )
            row = found.first()
            if row is None or row.card_id == card_id:
                return False
            if cards.link_of(row.text, self.ctx.base_url) != url:
                return False
            await tx.conn.execute(
                update(statuses).where(statuses.c.id == status_id).values(card_id=card_id)
            )
            return True

    async def stop(self) -> None:
        """Cancel the jobs and fetches in flight (a pending row is claimed again later)."""
        for task in [*self.jobs, *self.flights.values()]:
            task.cancel()
        for task in [*self.jobs, *self.flights.values()]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _columns(page: cards.Page) -> dict:
    return {
        "title": page.title,
        "description": page.description,
        "author_name": page.author_name,
        "author_url": page.author_url,
        "provider_name": page.provider_name,
        "provider_url": page.provider_url,
        "image_url": page.image_url,
        "width": page.width,
        "height": page.height,
        "language": page.language,
        "type": "link",
        "html": "",
    }
