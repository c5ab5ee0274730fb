"""Settings are checked when they are read: a bad ROOST_* variable stops the process with a
message that names it, instead of a negative port or an unknown mode misbehaving later."""

from __future__ import annotations

import subprocess
import sys

import pytest

from roost.config import Settings


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"ROOST_PORT": "-5"}, "ROOST_PORT: must be at least 0, not -5"),
        ({"ROOST_WORKER_ID": "5000"}, "ROOST_WORKER_ID: must be at most 1023"),
        ({"ROOST_SHIELD_MODE": "sometimes"}, "ROOST_SHIELD_MODE: must be one of auto, on, off"),
        ({"ROOST_SHIELD_ATTACK_TIGHTEN": "2"}, "ROOST_SHIELD_ATTACK_TIGHTEN: must be at most 1"),
        ({"ROOST_SHIELD_IP_RATE": "-1"}, "ROOST_SHIELD_IP_RATE: must be at least 0"),
        ({"ROOST_SHIELD_CONCURRENCY_MIN": "0"}, "ROOST_SHIELD_CONCURRENCY_MIN: must be at least 1"),
        ({"ROOST_PORT": "eighty"}, "ROOST_PORT: cannot read 'eighty' as int"),
    ],
)
def test_a_setting_out_of_range_stops_with_its_name(env: dict, said: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        Settings.from_env(env)
    assert said in str(stopped.value)


def test_the_defaults_are_all_within_range() -> None:
    Settings.from_env({})


def test_roost_refuses_to_start_on_a_bad_setting(tmp_path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "roost.cli", "settings"],
        env={"ROOST_SHIELD_MODE": "maybe", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert run.returncode != 0
    assert "ROOST_SHIELD_MODE: must be one of auto, on, off, not 'maybe'" in run.stderr
