"""`roost announce`: write, list and remove the announcements clients show at start-up."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from roost.commands._run import with_context
from roost.domain.errors import RoostError


def _moment(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 time; one without a zone is UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command()
@click.argument("text", required=False)
@click.option("--starts", help="Show it from this time (ISO 8601, UTC unless said).")
@click.option("--ends", help="Stop showing it at this time (ISO 8601, UTC unless said).")
@click.option("--all-day", is_flag=True, help="The times are whole days (an event's dates).")
@click.option("--list", "listing", is_flag=True, help="List every announcement.")
@click.option("--remove", "remove_id", type=int, help="Remove the announcement with this id.")
def announce(
    text: str | None,
    starts: str | None,
    ends: str | None,
    all_day: bool,
    listing: bool,
    remove_id: int | None,
) -> None:
    """Announce TEXT to everyone (clients show it until it ends or is removed)."""
    if sum((text is not None, listing, remove_id is not None)) != 1:
        raise click.UsageError("give TEXT, --list or --remove ID (one of them)")
    try:
        if listing:
            _list()
        elif remove_id is not None:
            _remove(remove_id)
        else:
            _publish(str(text), _moment(starts, "--starts"), _moment(ends, "--ends"), all_day)
    except RoostError as exc:
        raise click.ClickException(exc.message) from None


def _publish(text: str, starts: datetime | None, ends: datetime | None, all_day: bool) -> None:
    from roost.services import announcements

    async def work(ctx):
        async with ctx.db.write() as tx:
            return await announcements.create(ctx, tx, text, starts, ends, all_day)

    row = with_context(work)
    click.echo(f"announced {row['id']}")


def _list() -> None:
    from roost.services import announcements

    async def work(ctx):
        async with ctx.db.read() as conn:
            return await announcements.listing(conn)

    for row in with_context(work):
        starts = row["starts_at"].isoformat() if row["starts_at"] else "now"
        ends = row["ends_at"].isoformat() if row["ends_at"] else "removed"
        click.echo(f"{row['id']}  {starts} .. {ends}  {row['text'][:60]}")


def _remove(announcement_id: int) -> None:
    from roost.services import announcements

    async def work(ctx):
        async with ctx.db.write() as tx:
            await announcements.remove(tx, announcement_id)

    with_context(work)
    click.echo(f"removed {announcement_id}")
