"""Limits counted before an insert hold when one person's requests race (PostgreSQL runs them
at once; the account's row lock, ``accounts.hold``, puts them in turn): five pins, not six."""

from __future__ import annotations

import asyncio

from roost.domain.errors import ValidationFailed
from roost.services import pins
from tests.services.test_services_core import make_user, post


async def test_two_pins_at_once_cannot_pass_the_limit_of_five(ctx) -> None:
    alice = await make_user(ctx, "alice")
    ids = [await post(ctx, alice, f"post {n}") for n in range(6)]
    for status_id in ids[:4]:
        async with ctx.db.write() as tx:
            await pins.pin(ctx, tx, alice["id"], status_id)

    async def pin(status_id: int) -> str:
        try:
            async with ctx.db.write() as tx:
                await pins.pin(ctx, tx, alice["id"], status_id)
        except ValidationFailed:
            return "refused"
        return "pinned"

    outcomes = await asyncio.gather(pin(ids[4]), pin(ids[5]))
    assert sorted(outcomes) == ["pinned", "refused"]
    async with ctx.db.read() as conn:
        assert len(await pins.pinned(conn, alice["id"])) == 5
