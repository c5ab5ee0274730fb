"""docs/siege.md stays true: every command, option, profile and scenario field is documented."""

from __future__ import annotations

from pathlib import Path

import click

from roost.siege.cli import siege
from roost.siege.profiles import PROFILES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "siege.md").read_text()


def test_every_command_and_option_is_documented() -> None:
    for name, command in siege.commands.items():
        assert f"roost siege {name}" in DOC
        for param in command.params:
            if isinstance(param, click.Option):
                assert any(opt in DOC for opt in param.opts if opt != "--help"), (name, param.opts)


def test_every_profile_is_documented() -> None:
    for name in PROFILES:
        assert f"`{name}`" in DOC


def test_every_scenario_field_is_documented() -> None:
    fields = (
        "seed objective_ms max_duration_s max_requests workers bot_accounts users readers "
        "actions_per_min prefixes reader_paths timeout_s shed_ratio recovered_ratio hold_s "
        "duration_s profile bots connections rate schedule rate_from ramp_s on_s off_s low_rate "
        "paths rotate_after interval_s url command env ready_url start_timeout_s cpus"
    )
    for field in fields.split():
        assert field in DOC, field


def test_every_command_has_help() -> None:
    from click.testing import CliRunner

    runner = CliRunner()
    for name in [None, *siege.commands]:
        result = runner.invoke(siege, [name, "--help"] if name else ["--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name
