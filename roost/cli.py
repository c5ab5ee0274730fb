"""The `roost` command line: one entry point for the site, its status blog, shield and flood lab.

Subsystem command groups live beside their code (``roost/siege/cli.py`` and so on) and are
imported only when used, so `roost --help` stays fast and one broken subsystem cannot break
the rest.
"""

from __future__ import annotations

import importlib

import click

from roost import __version__

# name -> "module:attribute" of a click command, loaded on first use.
LAZY_COMMANDS = {
    "up": "roost.commands.up:up",
    "serve": "roost.commands.serve:serve",
    "db": "roost.commands.db:db",
    "user": "roost.commands.users:user",
    "announce": "roost.commands.announce:announce",
    "demo": "roost.commands.demo:demo",
    "settings": "roost.commands.settings:show_settings",
    "shield": "roost.shield.cli:shield",
    "status": "roost.status.cli:status",
    "siege": "roost.siege.cli:siege",
    "edge": "roost.edge.cli:edge",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported when they are called."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(LAZY_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="roost")
def main() -> None:
    """Roost: micro-blogging that stays up under attack.

    Settings come from ROOST_* environment variables; `roost settings` lists them.
    """


if __name__ == "__main__":
    main()
