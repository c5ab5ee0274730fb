"""Notifications of incident updates: signed webhooks, and posts from the @status account.

``publish`` only schedules work and returns at once; each delivery is its own background task
that takes a slot (``concurrency``) only while its request is in flight, so a target that hangs
holds one slot for at most ``timeout`` seconds and a slow target never delays the page.

Failure policy: a delivery that fails (refused, timed out, non-2xx) is retried with exponential
backoff (``base_delay`` * 2^n, capped at ``max_delay``) up to ``attempts`` times, then dropped and
logged. At most ``max_pending`` deliveries wait at once; beyond that new ones are dropped with a
warning (a flood of updates must not eat the status server's memory). With a ``journal``,
pending webhooks are kept in the status store and resumed after a restart (announcements are
news, kept in memory only). Retries may arrive out of order: receivers order by ``created_at``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from roost.status.model import iso, utcnow

log = logging.getLogger("roost.status.notify")

ANNOUNCE_LIMIT = 500  # Mastodon's default post length
ANNOUNCE_MAX_AGE = 3600.0  # an announcement older than this is news no more
UPDATE = "incident.update"  # a new update in an incident's timeline
EDITED = "incident.update.edited"  # an operator rewrote an update's text


class Journal(Protocol):
    """Where pending webhooks are kept across restarts (roost/status/journal.py)."""

    async def add(self, url: str, body: bytes, headers: dict[str, str]) -> int | None: ...
    async def attempted(self, delivery_id: int | None, attempts: int) -> None: ...
    async def done(self, delivery_id: int | None) -> None: ...
    async def pending(self) -> list[Any]: ...


def signature(secret: str, body: bytes) -> str:
    """``X-Roost-Signature``: HMAC-SHA256 of the exact body, hex, as GitHub signs webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def announcement(incident: dict[str, Any], update: dict[str, Any]) -> str:
    status = update["status"].replace("_", " ").capitalize()
    link = incident["shortlink"]
    text = f"{incident['name']}: {status}. {update['body']}"
    room = ANNOUNCE_LIMIT - len(link) - 2
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return f"{text}\n{link}"


class Outbox:
    """Background delivery of webhooks and @status posts, with retries and bounded memory."""

    def __init__(
        self,
        *,
        webhook_urls: list[str],
        secret: str = "",
        announce_url: str = "",
        announce_token: str = "",
        site_up: Callable[[], bool] = lambda: True,
        attempts: int = 6,
        timeout: float = 5.0,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        concurrency: int = 4,
        max_pending: int = 1000,
        transport: httpx.AsyncBaseTransport | None = None,
        journal: Journal | None = None,
    ) -> None:
        self.webhook_urls, self.secret = list(webhook_urls), secret
        self.journal = journal
        self.announce_url, self.announce_token = announce_url.rstrip("/"), announce_token
        self.site_up = site_up
        self.attempts, self.base_delay, self.max_delay = attempts, base_delay, max_delay
        self.max_pending = max_pending
        self.client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self.slots = asyncio.Semaphore(concurrency)
        self.tasks: set[asyncio.Task] = set()
        self.last_announcement: asyncio.Task | None = None  # @status posts go out in order
        self.delivered = self.failed = self.dropped = 0

    def publish(
        self, incident: dict[str, Any], update: dict[str, Any], event: str = UPDATE
    ) -> None:
        body = json.dumps(
            {
                "meta": {"generated_at": iso(utcnow()), "event": event},
                "incident": incident,
                "incident_update": update,
            }
        ).encode()
        headers = {"content-type": "application/json", "x-roost-event": event}
        if self.secret:
            headers["x-roost-signature"] = signature(self.secret, body)
        for url in self.webhook_urls:
            self._spawn(self._webhook(url, body, headers))
        # @status posts news: a corrected wording is not worth a second post on the site.
        # Each post waits for the one before it, so updates held while the site was down are
        # not posted after the "back up" that followed them.
        if self.announce_url and self.announce_token and event == UPDATE:
            text = announcement(incident, update)
            task = self._spawn(self._announce(text, self.last_announcement))
            self.last_announcement = task or self.last_announcement

    def _spawn(self, work: Any) -> asyncio.Task | None:
        if len(self.tasks) >= self.max_pending:
            work.close()
            self.dropped += 1
            log.warning("notification dropped: %d deliveries already pending", len(self.tasks))
            return None
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2**attempt)

    async def resume(self) -> None:
        """Pick up the webhooks a previous run left pending."""
        if self.journal is None:
            return
        for p in await self.journal.pending():
            self._spawn(self._webhook(p.url, p.body, p.headers, p.attempts, p.id))

    async def _webhook(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        done: int = 0,
        delivery_id: int | None = None,
    ) -> None:
        journal = self.journal
        if journal and delivery_id is None:
            delivery_id = await journal.add(url, body, headers)
        for attempt in range(done, self.attempts):
            if await self._send(url, content=body, headers=headers):
                self.delivered += 1
                break
            if journal:
                await journal.attempted(delivery_id, attempt + 1)
            if attempt + 1 < self.attempts:
                await asyncio.sleep(self.delay(attempt))
        else:
            self.failed += 1
            log.warning("webhook to %s failed %d times; dropped", url, self.attempts)
        if journal:
            await journal.done(delivery_id)

    async def _announce(self, text: str, previous: asyncio.Task | None = None) -> None:
        """Post from @status, but only while the site is up: waiting costs no attempt.

        Posts go out in the order of their updates: each waits until the one before it is
        posted or dropped (its age counts from its update, so the hour's limit still holds)."""
        url = f"{self.announce_url}/api/v1/statuses"
        headers = {"authorization": f"Bearer {self.announce_token}"}
        born, attempt = time.monotonic(), 0
        if previous is not None:
            await asyncio.wait([previous])
            previous = None
        while attempt < self.attempts and time.monotonic() - born < ANNOUNCE_MAX_AGE:
            if self.site_up():
                if await self._send(url, data={"status": text}, headers=headers):
                    self.delivered += 1
                    return
                attempt += 1
            await asyncio.sleep(self.delay(attempt))
        self.failed += 1
        log.warning("@status announcement dropped after %d attempts", attempt)

    async def _send(self, url: str, **request: Any) -> bool:
        async with self.slots:
            try:
                response = await self.client.post(url, **request)
            except (httpx.HTTPError, httpx.InvalidURL, OSError) as error:
                log.info("delivery to %s failed: %s", url, error)
                return False
        return 200 <= response.status_code < 300

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()
