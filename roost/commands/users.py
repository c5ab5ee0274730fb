"""`roost user`: create, list and suspend accounts from the command line."""

from __future__ import annotations

import click

from roost.commands._run import with_context
from roost.domain.errors import RoostError


@click.group()
def user() -> None:
    """Manage accounts."""


@user.command()
@click.argument("username")
@click.option("--email", help="Email address (used to log in with toot login_cli).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
def create(username: str, email: str | None, password: str, admin: bool) -> None:
    """Create an account."""
    from roost.services import accounts

    async def work(ctx):
        return await accounts.register(
            ctx, username, email, password, role="admin" if admin else "user"
        )

    try:
        row = with_context(work)
    except RoostError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created @{row['username']} (id {row['id']})")


@user.command(name="list")
@click.option("--limit", default=100, show_default=True)
def list_users(limit: int) -> None:
    """List accounts."""
    from roost.services import accounts

    async def work(ctx):
        async with ctx.db.read() as conn:
            return await accounts.list_accounts(conn, limit)

    for row in with_context(work):
        state = " (suspended)" if row["suspended_at"] else ""
        click.echo(f"{row['id']}  @{row['username']}  {row['email'] or '-'}{state}")


@user.command()
@click.argument("username")
@click.option("--undo", is_flag=True, help="Lift the suspension.")
def suspend(username: str, undo: bool) -> None:
    """Suspend an account (its posts and profile disappear; its tokens stop working)."""
    from roost.services import accounts

    async def work(ctx):
        async with ctx.db.write() as tx:
            return await accounts.set_suspended(tx, username, not undo)

    try:
        with_context(work)
    except RoostError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"@{username} {'reinstated' if undo else 'suspended'}")
