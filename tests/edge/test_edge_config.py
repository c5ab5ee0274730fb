"""The edge's configuration: rendered from settings, accepted by `haproxy -c`, keys kept private."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from roost.config import EdgeSettings, ShieldSettings
from roost.edge import process
from roost.edge.render import EdgePlan, bind_address, render, servers_from, session_key, write
from tests.edge.conftest import SECRET, edge_settings


def plan(tmp_path: Path, binds=("127.0.0.1:8000",), servers=("127.0.0.1:9001",)) -> EdgePlan:
    return EdgePlan(tmp_path / "edge", tuple(binds), servers_from(list(servers)))


@pytest.mark.parametrize(
    "binds, servers",
    [
        (["127.0.0.1:8000"], ["127.0.0.1:9001"]),
        ([bind_address("::1", 8000), "0.0.0.0:8080"], [f"127.0.0.1:{9001 + i}" for i in range(4)]),
    ],
)
def test_rendered_configuration_passes_haproxy_check(tmp_path, haproxy, binds, servers) -> None:
    config = write(edge_settings(), plan(tmp_path, binds, servers), SECRET.encode())
    process.check(haproxy, config)  # raises EdgeError with HAProxy's words otherwise
    text = config.read_text()
    assert text.count(" maxconn 12") == len(servers)  # every process behind the queue
    assert "timeout http-request 10s" in text


def test_settings_reach_the_configuration(tmp_path, haproxy) -> None:
    settings = edge_settings(
        shield=ShieldSettings(header_timeout=2.5, ip_rate=3, ip_burst=4, max_connections_per_ip=7),
        edge=EdgeSettings(server_maxconn=5, queue_timeout=4, queue_shed=40, cache_mb=8),
    )
    text = render(settings, plan(tmp_path), SECRET.encode())
    assert "timeout http-request 2500ms" in text
    assert "timeout queue 4s" in text
    assert " maxconn 5" in text
    assert "sc0_conn_cur gt 7" in text
    assert "sc0_http_req_rate gt 34 " in text  # 3/s for 10 s plus a burst of 4
    assert "queue(anonymous) gt 10" in text and "queue(anonymous) gt 20" in text  # 4 and 3
    assert "total-max-size 8" in text
    config = write(settings, plan(tmp_path), SECRET.encode())
    process.check(haproxy, config)


def test_keys_are_in_a_private_file_and_maps_start_clean(tmp_path) -> None:
    edge_plan = plan(tmp_path)
    config = write(edge_settings(), edge_plan, SECRET.encode())
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(edge_plan.run_dir.stat().st_mode) == 0o700
    edge_plan.map_path("blocked").write_text("203.0.113.0/24 1\n")  # left by an earlier run
    write(edge_settings(), edge_plan, SECRET.encode())
    assert edge_plan.map_path("blocked").read_text() == ""
    assert edge_plan.map_path("mode").read_text() == "attack 0\n"


def test_session_key_is_the_one_itsdangerous_derives() -> None:
    import hashlib
    import hmac

    import itsdangerous

    signed = itsdangerous.TimestampSigner(SECRET).sign(b"payload").decode()
    body, _, mac = signed.rpartition(".")
    digest = hmac.new(session_key(SECRET.encode()), body.encode(), hashlib.sha1).digest()
    assert itsdangerous.encoding.base64_encode(digest).decode() == mac


def test_challenge_page_is_a_log_format_template(tmp_path) -> None:
    edge_plan = plan(tmp_path)
    write(edge_settings(), edge_plan, SECRET.encode())
    page = (edge_plan.run_dir / "pages" / "challenge.html").read_text()
    assert 'name="challenge" value="%[var(txn.challenge)]"' in page
    assert 'name="next" value="%[var(txn.next)]"' in page
    assert "%" not in page.replace("%[var(txn.challenge)]", "").replace("%[var(txn.next)]", "")


def test_a_long_run_directory_keeps_a_short_socket(tmp_path) -> None:
    deep = EdgePlan(tmp_path / ("d" * 120), ("127.0.0.1:1",), servers_from(["127.0.0.1:2"]))
    assert len(str(deep.socket)) <= 100


def test_edge_config_command_writes_and_checks(tmp_path, haproxy) -> None:
    env = {
        "ROOST_SECRET_KEY": SECRET,
        "ROOST_DATABASE_URL": f"sqlite:///{tmp_path / 'roost.db'}",
        "PATH": "/usr/bin:/bin:/usr/sbin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "roost.cli", "edge", "config", "--check", "--listen",
         "127.0.0.1:8123", "--server", "127.0.0.1:9001", "--server", "127.0.0.1:9002"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    config = Path(result.stdout.strip())
    assert config == tmp_path / "roost-edge" / "haproxy.cfg"
    assert "bind 127.0.0.1:8123" in config.read_text()
