"""`roost settings`: every setting, its current value and what it does."""

from __future__ import annotations

import click

from roost.config import Settings, describe


@click.command(name="settings")
def show_settings() -> None:
    """List ROOST_* settings with their current values and help."""
    for name, value, help_text in describe(Settings.from_env()):
        click.echo(f"{name:32} {value!s:28} {help_text}")
