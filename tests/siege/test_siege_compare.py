"""`roost siege compare` starts each target itself, runs the same scenario, and stops it again."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest

from roost.siege.compare import started
from roost.siege.scenario import load_scenario
from tests.support.ports import free_port

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def compare_command(scenario: Path, out: Path) -> list[str]:
    """`roost siege compare` on a scenario, with its reports under ``out``, no live display."""
    return [
        sys.executable,
        "-m",
        "roost.cli",
        "siege",
        "compare",
        str(scenario),
        "--out",
        str(out),
        "--no-live",
    ]


def _target(name: str, port: int, header_timeout: float) -> str:
    command = ["{python}", str(HERE / "siege_target.py"), "--port", str(port)]
    command += ["--header-timeout", str(header_timeout)]
    return f"""
[[targets]]
name = "{name}"
url = "http://127.0.0.1:{port}/"
command = {json.dumps(command)}
start_timeout_s = 20
"""


@pytest.mark.slow
def test_compare_runs_every_target_and_prints_them_side_by_side(tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    scenario = tmp_path / "compare.toml"
    scenario.write_text(
        """
name = "cmp"
[legit]
readers = 2
actions_per_min = 240
[[phases]]
name = "attack"
duration_s = 2
[[phases.attacks]]
profile = "slowloris"
bots = 10
connections = 10
interval_s = 0.1
"""
        + _target("patient", ports[0], 60)
        + _target("strict", ports[1], 0.5)
    )
    command = compare_command(scenario, tmp_path / "out")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "patient" in result.stdout and "strict" in result.stdout
    (summary,) = (tmp_path / "out").glob("cmp-compare-*.json")
    rows = {row["target"]: row for row in json.loads(summary.read_text())}
    assert rows["patient"]["attack shed"] == 0 and rows["patient"]["attack admitted"] == 10
    assert rows["strict"]["attack shed"] >= 10
    for port in ports:  # both targets were stopped
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


@pytest.mark.slow
def test_ctrl_c_stops_the_comparison_and_still_writes_the_partial_table(tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    scenario = tmp_path / "compare.toml"
    scenario.write_text(
        """
name = "cmp"
[[phases]]
name = "attack"
duration_s = 30
[[phases.attacks]]
profile = "get_flood"
bots = 20
connections = 4
rate = 200
"""
        + _target("first", ports[0], 60)
        + _target("second", ports[1], 60)
    )
    command = compare_command(scenario, tmp_path / "out")
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        seen = []
        for line in process.stderr:  # the first target is under attack: Ctrl-C
            seen.append(line)
            if "Ctrl-C stops early" in line:
                break
        time.sleep(1.5)  # Kept: the first target is attacked a while before the Ctrl-C
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    stderr = "".join(seen) + stderr
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "not run against second" in stderr
    assert "first" in stdout and "interrupted" in stdout  # the side-by-side table, one column
    (summary,) = (tmp_path / "out").glob("cmp-compare-*.json")
    (row,) = json.loads(summary.read_text())
    assert row["target"] == "first" and row["stop"] == "interrupted"
    assert row["attack requests"] > 100
    assert len(list((tmp_path / "out").glob("cmp-first-*/report.json"))) == 1
    assert not list((tmp_path / "out").glob("cmp-second-*"))
    for port in ports:  # the first was stopped, the second never started
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


def test_ctrl_c_while_the_next_target_starts_keeps_the_table_of_those_measured(
    tmp_path: Path,
) -> None:
    port = free_port()
    scenario = tmp_path / "compare.toml"
    scenario.write_text(
        'name = "cmp"\n[[phases]]\nname = "calm"\nduration_s = 0.5\n'
        + _target("first", free_port(), 60)
        + f'[[targets]]\nname = "slow"\nurl = "http://127.0.0.1:{port}/"\n'
        + 'command = ["sleep", "60"]\nstart_timeout_s = 50\n'  # never answers
    )
    command = compare_command(scenario, tmp_path / "out")
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        seen = []
        for line in process.stdout:  # the first target's report is out: the next is starting
            seen.append(line)
            if line.startswith("chart:"):
                break
        time.sleep(1.0)  # Kept: the Ctrl-C must land while the next target is starting
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "not run against slow" in stderr
    assert "comparison:" in stdout
    (summary,) = (tmp_path / "out").glob("cmp-compare-*.json")
    assert [row["target"] for row in json.loads(summary.read_text())] == ["first"]
    assert subprocess.run(["pgrep", "-fx", "sleep 60"], check=False).returncode == 1  # stopped


def test_a_target_whose_port_is_taken_is_refused_before_it_is_started(tmp_path: Path) -> None:
    """Otherwise whatever already listens there answers the readiness check and is measured."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        marker = tmp_path / "started"
        path = tmp_path / "taken.toml"
        path.write_text(
            'name = "taken"\n[[phases]]\nname = "calm"\nduration_s = 1\n'
            f'[[targets]]\nname = "mine"\nurl = "http://127.0.0.1:{port}/"\n'
            f'command = ["touch", "{marker}"]\n'
        )
        (spec,) = load_scenario(path).targets
        with pytest.raises(click.ClickException) as error, started(spec, load_scenario(path)):
            pass
    assert f"target mine: something already listens on 127.0.0.1 port {port}" in str(
        error.value.message
    )
    assert not marker.exists()  # its command never ran


def test_a_target_that_will_not_start_still_leaves_the_table_of_those_measured(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "broken.toml"
    scenario.write_text(
        'name = "broken"\n[[phases]]\nname = "calm"\nduration_s = 0.5\n'
        + _target("fine", free_port(), 60)
        + f'[[targets]]\nname = "dud"\nurl = "http://127.0.0.1:{free_port()}/"\n'
        + 'command = ["false"]\nstart_timeout_s = 5\n'
    )
    command = compare_command(scenario, tmp_path / "out")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "fine" in result.stdout  # the side-by-side table of what was measured
    assert "dud" in result.stderr and "not run against dud" in result.stderr
    (summary,) = (tmp_path / "out").glob("broken-compare-*.json")
    assert [row["target"] for row in json.loads(summary.read_text())] == ["fine"]
