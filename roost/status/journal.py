"""Pending webhook deliveries kept in the status store, so a restart resumes them.

Failure policy: the journal is best effort. If the store cannot be written, the delivery goes on
from memory (it only loses its place in a restart) and the error is logged; the status server
never waits on it for longer than one small write.
"""

from __future__ import annotations

import json
import logging
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from roost.status.model import utcnow
from roost.status.store import outbox

log = logging.getLogger("roost.status.notify")


class Pending(NamedTuple):
    id: int
    url: str
    body: bytes
    headers: dict[str, str]
    attempts: int


class StoreJournal:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, url: str, body: bytes, headers: dict[str, str]) -> int | None:
        row = {
            "url": url,
            "body": body.decode(),
            "headers": json.dumps(headers),
            "attempts": 0,
            "created_at": utcnow(),
        }
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(outbox.insert().values(**row))
                key = result.inserted_primary_key
                return int(key[0]) if key else None
        except Exception:  # best effort: see the module's failure policy
            log.exception("could not journal a webhook delivery; it continues from memory")
            return None

    async def attempted(self, delivery_id: int | None, attempts: int) -> None:
        if delivery_id is not None:
            query = outbox.update().where(outbox.c.id == delivery_id).values(attempts=attempts)
            await self._run(query)

    async def done(self, delivery_id: int | None) -> None:
        if delivery_id is not None:
            await self._run(outbox.delete().where(outbox.c.id == delivery_id))

    async def pending(self) -> list[Pending]:
        try:
            async with self.engine.connect() as conn:
                rows = await conn.execute(sa.select(outbox).order_by(outbox.c.id))
                return [
                    Pending(r.id, r.url, r.body.encode(), json.loads(r.headers), r.attempts)
                    for r in rows
                ]
        except Exception:
            log.exception("could not read pending webhook deliveries")
            return []

    async def _run(self, statement: sa.Executable) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(statement)
        except Exception:
            log.exception("could not update the webhook journal")
