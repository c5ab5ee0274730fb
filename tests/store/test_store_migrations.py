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


def test_an_index_spoiled_by_edits_before_0007_is_rebuilt(sqlite_url):
    """Before 0007 an edit left its old words in SQLite's full-text index; the migration
    empties and refills the index, so an existing database searches its current text."""
    import sqlite3

    from sqlalchemy.engine import make_url

    config = alembic_config(sqlite_url)
    command.upgrade(config, "0006")
    path = make_url(sqlite_url).database
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO accounts (id, username, display_name, note, note_html, locked, bot, role,"
            " statuses_count, followers_count, following_count, created_at, updated_at)"
            " VALUES (1, 'alice', '', '', '', 0, 0, 'user', 0, 0, 0, '2026-01-01', '2026-01-01')"
        )
        db.execute(
            "INSERT INTO statuses (id, account_id, text, content_html, visibility, sensitive,"
            " spoiler_text, reblogs_count, favourites_count, replies_count, created_at,"
            " fanout_state) VALUES (7, 1, 'the door code is 4711', '', 'public', 0, '', 0, 0, 0,"
            " '2026-01-01', 'done')"
        )
        db.execute("UPDATE statuses SET text = 'nothing to see' WHERE id = 7")  # an old edit
        stale = "SELECT rowid FROM statuses_fts WHERE statuses_fts MATCH ?"
        assert db.execute(stale, ("4711",)).fetchall() == [(7,)]  # the bug, as it was
    command.upgrade(config, "head")
    with sqlite3.connect(path) as db:
        assert db.execute(stale, ("4711",)).fetchall() == []
        assert db.execute(stale, ("nothing",)).fetchall() == [(7,)]
