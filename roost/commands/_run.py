"""Running async service code from click commands against a freshly built context."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from roost.config import Settings
from roost.services.context import Context, build_context
from roost.store.migrate import upgrade_engine

T = TypeVar("T")


def with_context(work: Callable[[Context], Awaitable[T]], settings: Settings | None = None) -> T:
    """Build the site's resources, migrate, run ``work``, deliver queued fan-out, close."""

    async def main() -> T:
        from roost.present.entities import render_for_stream
        from roost.services.fanout import Fanout

        ctx = build_context(settings or Settings.from_env())
        try:
            await upgrade_engine(ctx.db.engine, ctx.settings.database_url)
            ctx.fanout = Fanout(ctx, render_for_stream)
            await ctx.fanout.start()
            result = await work(ctx)
            await ctx.fanout.drain()
            return result
        finally:
            await ctx.close()

    return asyncio.run(main())
