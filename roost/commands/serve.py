"""`roost serve`: run the site (API, web, shield) on the embedded default or production settings."""

from __future__ import annotations

import click

from roost.config import Settings


@click.command()
@click.option("--host", help="Bind address (ROOST_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port (ROOST_PORT, default 8000).")
@click.option("--workers", type=int, help="Worker processes (ROOST_WORKERS, default 1).")
@click.option("--no-shield", is_flag=True, help="Serve without the shield (for comparisons).")
def serve(host: str | None, port: int | None, workers: int | None, no_shield: bool) -> None:
    """Serve Roost. Applies database migrations on start (ROOST_AUTO_MIGRATE)."""
    import os

    overrides = {k: v for k, v in {"host": host, "port": port, "workers": workers}.items() if v}
    for key, value in overrides.items():
        os.environ[f"ROOST_{key.upper()}"] = str(value)  # worker processes read the env
    if no_shield:
        os.environ["ROOST_SHIELD_ENABLED"] = "0"
    settings = Settings.from_env()
    if settings.workers > 1 and not settings.redis_url:
        raise click.UsageError("several workers share state through Redis: set ROOST_REDIS_URL")
    from roost.server import run

    click.echo(
        f"Roost on http://{settings.host}:{settings.port}/ (database {settings.database_url})"
    )
    run(settings)
