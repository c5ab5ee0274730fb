"""Scenario files: the shipped ones load; mistakes are named by file, field and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from roost.siege.profiles import PROFILES
from roost.siege.scenario import ScenarioError, load_scenario
from roost.siege.schedule import Constant, Pulses, Ramp

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))

SMALL = """
name = "t"
[[phases]]
name = "attack"
duration_s = 2
[[phases.attacks]]
profile = "get_flood"
bots = 10
prefixes = 2
rate = 100
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.phases and scenario.duration_s <= 900


def test_there_is_a_small_scenario_per_profile_and_twitter_2009() -> None:
    names = {path.stem for path in SCENARIOS}
    assert "twitter-2009" in names
    covered = set()
    for path in SCENARIOS:
        scenario = load_scenario(path)
        if path.stem != "twitter-2009":
            assert scenario.duration_s <= 10, f"{path.name} should run in seconds"
            covered |= scenario.profiles
    assert covered == set(PROFILES)
    assert load_scenario(SCENARIOS[0].parent / "twitter-2009.toml").profiles >= set(PROFILES) - {
        "slow_post"
    }


def test_schedules_are_read(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, SMALL))
    assert scenario.phases[0].attacks[0].schedule == Constant(100.0)
    ramp = SMALL.replace("rate = 100", 'rate = 100\nschedule = "ramp"\nrate_from = 5\nramp_s = 2')
    assert load_scenario(write(tmp_path, ramp)).phases[0].attacks[0].schedule == Ramp(5, 100, 2)
    pulses = SMALL.replace("rate = 100", 'rate = 100\nschedule = "pulses"\non_s = 1\noff_s = 2')
    schedule = load_scenario(write(tmp_path, pulses)).phases[0].attacks[0].schedule
    assert schedule == Pulses(100, 1, 2) and schedule.rate_at(0.5) == 100
    assert schedule.rate_at(1.5) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("[[phases]]", "[[phases]\n"), "not valid TOML.*line"),
        (
            ('profile = "get_flood"', 'profile = "get_flod"'),
            r"phases\[0\].attacks\[0\].profile.*unknown profile 'get_flod'",
        ),
        (("rate = 100", "rate = -5"), r"attacks\[0\].rate \(line 10\): must be above 0"),
        (("rate = 100", 'rate = "fast"'), r"attacks\[0\].rate.*\"max\""),
        (("duration_s = 2", "duration_s = -1"), r"phases\[0\].duration_s \(line 5\)"),
        (("duration_s = 2", "duration_s = 1000"), "exceeds the 15 min cap"),
        (("bots = 10", "bots = 1000"), r"prefixes.*1000 bots do not fit in 2 /24"),
        (("prefixes = 2", "prefixes = 20"), r"20 prefixes cannot be filled by 10 bots"),
        (("bots = 10", "bots = 10\nconections = 5"), r"attacks\[0\].conections.*unknown field"),
        (("rate = 100", 'rate = 100\nschedule = "sine"'), "unknown schedule 'sine'"),
        (("rate = 100", "rate = 100\nconnections = 190000"), "open-file limit"),
        (('name = "t"', 'name = "t"\nworkers = 0'), r"workers \(line \d+\): must be between 1"),
        (('profile = "get_flood"', 'profile = "post_spam"'), "post_spam needs bot_accounts"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = write(tmp_path, SMALL.replace(*change))
    with pytest.raises(ScenarioError, match=message) as error:
        load_scenario(path)
    assert str(error.value).startswith(str(path))


def test_missing_file_and_missing_phases(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match=r"phases.*at least one"):
        load_scenario(write(tmp_path, 'name = "x"\n'))


def test_compare_targets_are_guarded(tmp_path: Path) -> None:
    text = SMALL + '[[targets]]\nname = "far"\nurl = "http://10.1.2.3/"\n'
    with pytest.raises(ScenarioError, match=r"targets\[0\].url.*not loopback"):
        load_scenario(write(tmp_path, text))


def test_rotation_is_chosen_so_that_every_bot_shows_up(tmp_path: Path) -> None:
    attack = load_scenario(write(tmp_path, SMALL)).phases[0].attacks[0]
    assert attack.rotate_after == 20  # 100/s for 2 s over 10 bots
    flat_out = SMALL.replace("rate = 100", 'rate = "max"')
    assert load_scenario(write(tmp_path, flat_out)).phases[0].attacks[0].rotate_after == 100
    given = SMALL.replace("rate = 100", "rate = 100\nrotate_after = 7")
    assert load_scenario(write(tmp_path, given)).phases[0].attacks[0].rotate_after == 7


def test_all_phases_must_fit_in_127_8(tmp_path: Path) -> None:
    attack = '[[phases.attacks]]\nprofile = "get_flood"\nbots = 254000\nprefixes = 1000\n'
    phases = "".join(f'[[phases]]\nname = "p{i}"\nduration_s = 1\n{attack}' for i in range(70))
    with pytest.raises(ScenarioError, match=r"70,001 /24 prefixes in all, but 127/8 offers 65,024"):
        load_scenario(write(tmp_path, phases))
