"""`roost db`: database migrations."""

from __future__ import annotations

import click

from roost.config import Settings


@click.group()
def db() -> None:
    """Database schema (Alembic migrations, SQLite and PostgreSQL)."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from roost.store.migrate import upgrade as run_upgrade

    settings = Settings.from_env()
    run_upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}: {settings.database_url}")


@db.command()
def current() -> None:
    """Show the database's current revision."""
    from alembic import command

    from roost.store.migrate import alembic_config

    command.current(alembic_config(Settings.from_env().database_url))
