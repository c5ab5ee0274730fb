"""docs/siege.md stays true: every command, option, profile and scenario field is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from roost.siege.cli import siege
from roost.siege.profiles import PROFILES
from roost.siege.scenario import ScenarioError, load_scenario

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
        "paths rotate_after interval_s url command env ready_url start_timeout_s cpus "
        "bot_prefixes follows posts user_actions status_url status_rate"
    )
    for field in fields.split():
        assert field in DOC, field


def test_every_command_has_help() -> None:
    from click.testing import CliRunner

    runner = CliRunner()
    for name in [None, *siege.commands]:
        result = runner.invoke(siege, [name, "--help"] if name else ["--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, name


def test_the_scenario_error_examples_are_what_siege_says(tmp_path: Path) -> None:
    """Rebuild each documented error from its own words: the field, the line, the value."""
    examples = re.findall(
        r"`scenarios/x\.toml: (phases\[(\d)\]\.attacks\[(\d)\]\.(\w+) \(line (\d+)\): [^`]*)`", DOC
    )
    assert len(examples) == 2
    for message, phase, attack, key, line in examples:
        value = re.search(r"got (\S+)$", message)
        path = tmp_path / "x.toml"
        path.write_text(_scenario_with(int(phase), int(attack), key, int(line), value and value[1]))
        with pytest.raises(ScenarioError) as error:
            load_scenario(path)
        assert str(error.value) == f"{path}: {message}"


def _scenario_with(phase: int, attack: int, key: str, line: int, value: str | None) -> str:
    """Phases of get_flood attacks; ``key`` of the chosen one set to ``value`` (or left out, in
    a ramp that needs it) on line ``line`` (or its table's header there), padded with comments."""
    lines = ['name = "x"']
    for p in range(phase + 1):
        lines += ["[[phases]]", f'name = "p{p}"', "duration_s = 1"]
        for a in range(attack + 1 if p == phase else 1):
            chosen = (p, a) == (phase, attack)
            if chosen and value is None:
                lines += ["#"] * (line - len(lines) - 1)
            lines += ["[[phases.attacks]]", 'profile = "get_flood"']
            if chosen and value is None:
                lines += ['schedule = "ramp"', "rate = 10"]
            elif chosen:
                lines += ["#"] * (line - len(lines) - 1) + [f"{key} = {value}"]
            else:
                lines += ["rate = 10"]
    return "\n".join(lines) + "\n"
