"""Migrations and models agree, on SQLite and PostgreSQL, and migrations run down and up."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from roost.store.db import make_engine
from roost.store.migrate import alembic_config, upgrade
from roost.store.tables import metadata


def _drift(url: str) -> list:
    async def run() -> list:
        engine = make_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
        await engine.dispose()
        return [d for d in diff if "fts" not in str(d)]  # the FTS tables are outside the models

    return asyncio.run(run())


def test_models_match_migrations(database_url):
    upgrade(database_url)
    assert _drift(database_url) == []


def test_migrations_go_down_and_up_again(sqlite_url):
    config = alembic_config(sqlite_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert _drift(sqlite_url) == []
