"""Runs against a real loopback server (siege_target.py): counts, sources, slow clients."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import queue
import resource
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from roost.siege import descriptors, report, runner
from roost.siege.outcome import Outcome, RunOptions
from roost.siege.runner import run
from roost.siege.scenario import load_scenario
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def scenario_file(tmp_path: Path, attack: str, readers: int = 2, seconds: float = 2.0) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(
        f"""
name = "test"
[legit]
readers = {readers}
actions_per_min = 240
[[phases]]
name = "baseline"
duration_s = 0.5
[[phases]]
name = "attack"
duration_s = {seconds}
[[phases.attacks]]
{attack}
[[phases]]
name = "recovery"
duration_s = 0.5
"""
    )
    return path


def run_report(path: Path, url: str, **options: object) -> dict:
    outcome = run(load_scenario(path), RunOptions(target_url=url, live=False, **options))
    return report.build(outcome)


def attack_class(built: dict, name: str) -> dict:
    return next(p for p in built["phases"] if p["name"] == "attack")["classes"][name]


@pytest.mark.parametrize("pipeline", [1, 4])
def test_counts_add_up_and_match_what_the_server_saw(tmp_path, target_server, pipeline) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 100\nprefixes = 10\nconnections = 16\nrate = 1000'
    attack += f"\npipeline = {pipeline}"  # requests in flight per connection
    built = run_report(scenario_file(tmp_path, attack, readers=3), server.url)
    assert built["counts_add_up"] and built["stop_reason"] == "completed"
    flood = attack_class(built, "get_flood")
    # 2 s at 1,000/s: never more (the pacer's slack is 50 ms); less only on a starved machine.
    assert 1000 < flood["requests"] <= 2100
    assert flood["statuses"] == {"200": flood["answered"]}
    assert flood["admitted"] == flood["answered"] and flood["shed"] == flood["unanswered"]
    assert 500 < flood["achieved_rate_per_s"] <= 1050
    answered = sum(c["answered"] for p in built["phases"] for c in p["classes"].values())
    unfinished = sum(c["unfinished"] for p in built["phases"] for c in p["classes"].values())
    seen = sum(server.stats()["requests"].values()) - 2  # minus the probe and this /__stats
    assert answered <= seen <= answered + unfinished
    legit = [c for p in built["phases"] for n, c in p["classes"].items() if n == "legit_readers"]
    assert sum(c["requests"] for c in legit) >= 3
    assert all(c["success_ratio"] == 1.0 and c["wrongly_rejected"] == 0 for c in legit)
    timeline_sent = sum(row["attack_sent"] for row in built["timeline"])
    assert abs(timeline_sent - flood["requests"]) <= 1


def test_a_pipelined_batch_cut_by_the_rotation_gives_its_send_tokens_back() -> None:
    import random

    from roost.siege.flood import Budget, FloodConnection, RequestFlood
    from roost.siege.guard import check_target
    from roost.siege.profiles import AttackContext, GetFlood
    from roost.siege.schedule import Constant
    from roost.siege.stats import ClassStats

    class Sink:
        def __init__(self) -> None:
            self.written = b""

        def write(self, data: bytes) -> None:
            self.written += data

    target = check_target("http://127.0.0.1:1/")
    profile = GetFlood(AttackContext(host=target.host_header), random.Random(1), paths=("/",))
    flood = RequestFlood(
        profile, target, [None], 1, Constant(100.0), ClassStats(), Budget(100),
        rotate_after=4, pipeline=3,
    )  # fmt: skip
    conn = FloodConnection(flood)
    conn.transport, conn.used, flood._tokens = Sink(), 3, 3.0  # one request left before rotating
    assert flood._dispatch(conn)
    assert len(conn.sent) == 1 and conn.transport.written.count(b"GET ") == 1
    assert flood._tokens == 2.0  # the two it could not send stay for another connection


def test_bots_arrive_from_distinct_addresses_in_many_prefixes(tmp_path, target_server) -> None:
    server = target_server()
    attack = (
        'profile = "get_flood"\nbots = 300\nprefixes = 30\nconnections = 30\n'
        "rate = 1500\nrotate_after = 3"
    )
    run_report(scenario_file(tmp_path, attack, readers=0), server.url)
    peers = server.stats()["connections"]
    addresses = {ipaddress.IPv4Address(a) for a in peers if a != "127.0.0.1"}
    assert all(a in ipaddress.IPv4Network("127.0.0.0/8") for a in addresses)
    assert len(addresses) == 300
    assert len({ipaddress.IPv4Network(f"{a}/24", strict=False) for a in addresses}) == 30


def test_slowloris_holds_connections_until_the_server_cuts_them(tmp_path, target_server) -> None:
    server = target_server(header_timeout=1.0)
    attack = 'profile = "slowloris"\nbots = 20\nprefixes = 2\nconnections = 20\ninterval_s = 0.1'
    built = run_report(scenario_file(tmp_path, attack, readers=0, seconds=3.0), server.url)
    slow = attack_class(built, "slowloris")
    cut = slow["statuses"].get("408", 0) + slow["statuses"].get("cut", 0)
    assert cut >= 20 and slow["shed"] == cut
    assert slow["requests"] == slow["answered"] == cut + slow["statuses"].get("held", 0)
    assert 900 <= slow["latency_ms"]["p50"] <= 2500  # held for the server's 1 s header timeout
    assert server.stats()["cut"] >= cut


def test_slowloris_is_held_to_the_end_when_the_server_never_cuts(tmp_path, target_server) -> None:
    server = target_server(header_timeout=60)
    attack = 'profile = "slowloris"\nbots = 10\nprefixes = 1\nconnections = 10\ninterval_s = 0.2'
    built = run_report(scenario_file(tmp_path, attack, readers=0, seconds=1.5), server.url)
    slow = attack_class(built, "slowloris")
    assert slow["statuses"] == {"held": 10} and slow["admitted"] == 10
    assert slow["latency_ms"]["p50"] >= 1200


@pytest.mark.parametrize("profile", ["slow_post", "connection_flood"])
def test_other_hold_profiles_are_cut_too(tmp_path, target_server, profile: str) -> None:
    server = target_server(header_timeout=0.8)
    attack = f'profile = "{profile}"\nbots = 10\nprefixes = 1\nconnections = 10\ninterval_s = 0.1'
    slow = attack_class(run_report(scenario_file(tmp_path, attack, 0), server.url), profile)
    assert slow["shed"] >= 10 and slow["latency_ms"]["p50"] >= 700


def test_shed_answers_are_counted_as_shed(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "cache_bust"\npaths = ["/shed"]\nbots = 20\nconnections = 4\nrate = 500'
    flood = attack_class(run_report(scenario_file(tmp_path, attack, 0), server.url), "cache_bust")
    assert flood["statuses"] == {"429": flood["answered"]}
    assert flood["shed"] == flood["requests"] - flood["unfinished"] and flood["admitted"] == 0


def test_max_requests_stops_the_run(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 10\nconnections = 4\nrate = "max"'
    built = run_report(scenario_file(tmp_path, attack, 0, seconds=10), server.url, max_requests=300)
    flood = attack_class(built, "get_flood")
    assert flood["requests"] <= 300 and built["stop_reason"] == "max_requests"
    assert built["elapsed_s"] < 5


def test_a_dead_target_is_reported_before_any_traffic(tmp_path) -> None:
    attack = 'profile = "get_flood"\nbots = 10\nrate = 10'
    command = [sys.executable, "-m", "roost.cli", "siege", "run"]
    command += [str(scenario_file(tmp_path, attack)), "--target", "http://127.0.0.1:9/"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "does not answer" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_ctrl_c_stops_the_run_and_still_writes_the_report(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 50\nconnections = 8\nrate = 1000'
    command = [sys.executable, "-m", "roost.cli", "siege", "run", "--no-live"]
    command += [str(scenario_file(tmp_path, attack, 2, seconds=30)), "--target", server.url]
    command += ["--out", str(tmp_path / "out")]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3)  # Kept: the attack runs a while (no output to wait on: --no-live, piped)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    (path,) = (tmp_path / "out").glob("*/report.json")
    built = json.loads(path.read_text())
    assert built["interrupted"] and built["counts_add_up"]
    assert built["elapsed_s"] < 10
    assert attack_class(built, "get_flood")["requests"] > 100
    assert (path.parent / "chart.png").stat().st_size > 10_000
    # every bot connection was closed (the target counts its closes a moment after ours)
    wait_until(lambda: server.stats()["open"] <= 1, "every bot connection closed")


def _interrupt_until(process: subprocess.Popen, lines: queue.Queue, wanted: str) -> list[str]:
    """SIGINT at 0.1 s intervals until ``wanted`` shows up on stderr; the lines seen."""
    seen: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(wanted in line for line in seen):
        process.send_signal(signal.SIGINT)
        with contextlib.suppress(queue.Empty):
            while True:
                seen.append(lines.get(timeout=0.1))
    return seen


def _stderr_lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in process.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, wanted: str, timeout: float = 30) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while not any(wanted in line for line in seen):
        seen.append(lines.get(timeout=max(0.01, deadline - time.monotonic())))
    return seen


@pytest.mark.slow
def test_a_second_ctrl_c_does_not_lose_the_report(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 50\nconnections = 8\nrate = 500'
    command = [sys.executable, "-m", "roost.cli", "siege", "run", "--no-live"]
    command += [str(scenario_file(tmp_path, attack, 2, seconds=30)), "--target", server.url]
    command += ["--out", str(tmp_path / "out")]
    with subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        lines = _stderr_lines(process)
        _wait_for(lines, "Ctrl-C stops early")
        time.sleep(1.5)  # Kept: the attack runs a while before the Ctrl-C, on purpose
        process.send_signal(signal.SIGINT)
        _wait_for(lines, "stopping: closing connections")
        # Again and again while the figures are collected and written: logged and ignored.
        seen = _interrupt_until(process, lines, "still writing the report")
        process.wait(timeout=30)
        stdout = process.stdout.read()
        time.sleep(0.2)  # the pump thread reaches the end of stderr
    stderr = "".join(seen + [lines.get() for _ in range(lines.qsize())])
    assert process.returncode == 130, stderr
    assert "no report" not in stderr and "Traceback" not in stderr
    (path,) = (tmp_path / "out").glob("*/report.json")
    built = json.loads(path.read_text())
    assert built["interrupted"] and built["counts_add_up"]
    assert attack_class(built, "get_flood")["requests"] > 100
    assert f"report: {path}" in stdout.replace("\n", "")


def test_two_generator_processes_share_the_work(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 40\nprefixes = 4\nconnections = 8\nrate = 1000\n'
    attack += "rotate_after = 5"
    path = scenario_file(tmp_path, attack, readers=0)
    path.write_text("workers = 2\n" + path.read_text())
    built = run_report(path, server.url)
    assert built["counts_add_up"] and len(built["placement"]["generators"]) == 2
    flood = attack_class(built, "get_flood")
    assert 1000 < flood["requests"] <= 2100  # 2 s at 500/s each
    peers = {a for a in server.stats()["connections"] if a != "127.0.0.1"}
    assert len(peers) == 40


def _small_and_anonymous(path: Path) -> bool:
    """A few seconds, and nothing that needs the Mastodon API (siege_target.py has none)."""
    scenario = load_scenario(path)
    return scenario.duration_s <= 10 and not scenario.legit.users and not scenario.bot_accounts


SHIPPED = sorted(p for p in (REPO / "scenarios").glob("*.toml") if _small_and_anonymous(p))


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_small_scenarios_run(path: Path, target_server) -> None:
    server = target_server(header_timeout=1.0)
    built = run_report(path, server.url)
    assert built["counts_add_up"] and built["stop_reason"] == "completed"
    (attack,) = (c for c in attack_phase_classes(built) if c["kind"] == "attack")
    assert attack["requests"] > 0


def attack_phase_classes(built: dict) -> list[dict]:
    return list(next(p for p in built["phases"] if p["name"] == "attack")["classes"].values())


def test_a_ramp_schedule_sends_its_area(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 20\nconnections = 16\nschedule = "ramp"\n'
    attack += "rate_from = 0\nrate = 2000\nramp_s = 2"
    flood = attack_class(run_report(scenario_file(tmp_path, attack, 0), server.url), "get_flood")
    assert 1000 < flood["requests"] <= 2100  # the area under 0 -> 2,000/s over 2 s


def test_a_flood_that_cannot_keep_its_schedule_says_so(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 1\nconnections = 1\nrate = 200000'
    built = run_report(scenario_file(tmp_path, attack, 0, seconds=1.0), server.url)
    assert attack_class(built, "get_flood")["behind_schedule"] > 100_000
    assert any("attack/get_flood fell behind schedule" in w for w in built["warnings"])


def test_a_pulses_schedule_sends_in_bursts(tmp_path, target_server) -> None:
    server = target_server()
    path = tmp_path / "pulses.toml"
    path.write_text(
        'name = "pulses"\n[[phases]]\nname = "attack"\nduration_s = 3\n[[phases.attacks]]\n'
        'profile = "get_flood"\nbots = 20\nconnections = 8\nschedule = "pulses"\n'
        "rate = 800\non_s = 1\noff_s = 1\nlow_rate = 0\n"
    )
    built = run_report(path, server.url)
    flood = attack_class(built, "get_flood")
    assert built["counts_add_up"] and 1200 < flood["requests"] <= 1700  # on for 2 s of 3
    sent = [row["attack_sent"] for row in built["timeline"]]
    # Half-second snapshots blur the edges of each pulse a little.
    assert sent[0] > 500 and sent[2] > 500 and sent[1] < 0.4 * min(sent[0], sent[2]), sent


@pytest.mark.slow
def test_generators_raise_their_own_open_file_limit(tmp_path, target_server) -> None:
    """A generator started by a program that did not raise its soft limit raises it itself."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        pytest.skip("the hard open-file limit is 1,024: nothing to raise")
    server = target_server()
    path = scenario_file(tmp_path, 'profile = "get_flood"\nbots = 10\nrate = 50', 0, 0.5)
    script = (
        "import json, resource\n"
        "from roost.siege import report\n"
        "from roost.siege.outcome import RunOptions\n"
        "from roost.siege.runner import run\n"
        "from roost.siege.scenario import load_scenario\n"
        f"options = RunOptions(target_url={server.url!r}, live=False)\n"
        f"built = report.build(run(load_scenario({str(path)!r}), options))\n"
        "soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]\n"
        "print(json.dumps([soft, built['placement']['generators'][0]['open_files']]))\n"
    )
    shell = f"ulimit -Sn 1024 && exec {sys.executable} -c {shlex.quote(script)}"
    result = subprocess.run(
        ["bash", "-c", shell], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    mine, generators = json.loads(result.stdout.splitlines()[-1])
    assert mine == 1024 and generators == descriptors.ceiling()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_generator_and_server_are_pinned_apart(tmp_path, target_server) -> None:
    server = target_server()
    generator_cpu, server_cpu = sorted(os.sched_getaffinity(0))[:2]
    attack = 'profile = "get_flood"\nbots = 10\nconnections = 2\nrate = 100'
    options = {"cpus": (generator_cpu,), "server_cpus": (server_cpu,)}
    built = run_report(scenario_file(tmp_path, attack, 0, seconds=0.5), server.url, **options)
    placement = built["placement"]
    assert placement["generators"][0]["cpus"] == [generator_cpu]
    assert placement["coordinator"]["cpus"] == [generator_cpu]
    assert generator_cpu in os.sched_getaffinity(0) and server_cpu in os.sched_getaffinity(0)
    assert placement["server"] == [{"pid": server.process.pid, "cpus": [server_cpu]}]


def test_an_ipv6_loopback_target(tmp_path, target_server) -> None:
    try:
        server = target_server(host="::1")
    except ValueError:
        pytest.skip("no IPv6 loopback here")
    attack = 'profile = "get_flood"\nbots = 10\nconnections = 4\nrate = 500'
    built = run_report(scenario_file(tmp_path, attack, readers=1, seconds=1.0), server.url)
    assert built["counts_add_up"] and attack_class(built, "get_flood")["answered"] > 200
    assert set(server.stats()["connections"]) == {"::1"}  # IPv4 sources cannot bind here
    assert any("source spreading is IPv4-only" in w for w in built["warnings"])
    console = Console(record=True, width=160)
    report.render(built, console)
    assert "every bot and user comes from ::1" in console.export_text()


def test_an_ipv4_target_gets_no_source_warning(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 10\nconnections = 2\nrate = 50'
    built = run_report(scenario_file(tmp_path, attack, readers=0, seconds=0.5), server.url)
    assert not any("IPv4-only" in w for w in built["warnings"])


def test_users_need_the_mastodon_api_and_say_so(tmp_path, target_server) -> None:
    server = target_server()
    path = scenario_file(tmp_path, 'profile = "get_flood"\nbots = 10\nrate = 10', readers=0)
    path.write_text(path.read_text().replace("readers = 0", "users = 2"))
    command = [sys.executable, "-m", "roost.cli", "siege", "run", str(path)]
    command += ["--target", server.url, "--no-live"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "accounts need the Mastodon API: POST /api/v1/apps" in result.stderr
    assert sum(server.stats()["requests"].values()) == 3  # probe, apps, stats: no attack at all


def test_the_duration_limit_cuts_the_scenario(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 10\nconnections = 2\nrate = 100'
    path = scenario_file(tmp_path, attack, readers=1, seconds=10)
    began = time.monotonic()
    built = run_report(path, server.url, duration_s=1.5)
    assert time.monotonic() - began < 1.5 + 1.5  # setup, phases and teardown
    assert built["elapsed_s"] < 1.5 and built["counts_add_up"]
    assert [p["name"] for p in built["phases"]] == ["baseline", "attack"]  # recovery never began
    # Starting the generator process came out of the 1.5 s too.
    assert 0.5 < built["phases"][1]["end_s"] < 1.5
    assert any("limited to 1.5 s" in w for w in built["warnings"])


def test_setup_time_counts_against_the_duration(tmp_path, target_server) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 10\nconnections = 2\nrate = 100'
    path = scenario_file(tmp_path, attack, readers=1, seconds=10)
    began = time.monotonic()
    built = run_report(path, f"{server.url}delay/1.2", duration_s=2.5)  # the probe takes 1.2 s
    took = time.monotonic() - began
    assert built["setup"]["seconds"] >= 1.2 and built["counts_add_up"]
    assert took < 2.5 + 1.0, took  # not 1.2 s of setup plus 2.5 s of phases
    assert built["phases"][-1]["end_s"] < 1.3 and built["elapsed_s"] < 1.3
    assert any("of which setup took 1.2" in w for w in built["warnings"])


def test_a_setup_that_takes_the_whole_duration_still_writes_a_report(
    tmp_path, target_server
) -> None:
    server = target_server()
    attack = 'profile = "get_flood"\nbots = 10\nrate = 10'
    command = [sys.executable, "-m", "roost.cli", "siege", "run", "--no-live", "--duration", "1"]
    command += [str(scenario_file(tmp_path, attack)), "--target", f"{server.url}delay/5"]
    command += ["--out", str(tmp_path / "out")]
    began = time.monotonic()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - began < 5  # not waiting for the 5 s answer
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "setup took the whole --duration, so no phase ran" in result.stderr
    (path,) = (tmp_path / "out").glob("*/report.json")
    built = json.loads(path.read_text())
    assert built["stop_reason"] == "setup_timeout" and built["phases"] == []
    assert any("took the whole 1 s limit" in w for w in built["warnings"])
    assert sum(server.stats()["requests"].values()) == 2  # the probe and this /__stats: no attack


def test_a_server_cpu_that_pins_nothing_is_a_warning(tmp_path: Path, capsys) -> None:
    attack = 'profile = "get_flood"\nbots = 10\nrate = 100'
    scenario = load_scenario(scenario_file(tmp_path, attack, 0, seconds=0.5))
    with socket.socket() as unserved:  # bound, never listening: nobody serves this port
        unserved.bind(("127.0.0.1", 0))
        port = unserved.getsockname()[1]
        options = RunOptions(f"http://127.0.0.1:{port}/", server_cpus=(0,))
        outcome = Outcome(scenario, options)
        runner._pin_server(port, options, outcome)
    assert outcome.placement["server"] == []
    assert outcome.warnings == [
        f"--server-cpu: no process visible to this user listens on port {port}: not pinned"
    ]
    assert "warning: --server-cpu" in capsys.readouterr().err
    gone = subprocess.Popen(["true"])
    gone.wait()
    options = RunOptions("http://127.0.0.1:1/", server_cpus=(0,), server_pids=(gone.pid,))
    outcome = Outcome(scenario, options)
    runner._pin_server(1, options, outcome)
    assert outcome.warnings == [
        f"--server-cpu: server pid {gone.pid} could not be pinned (its CPUs: unknown)"
    ]
