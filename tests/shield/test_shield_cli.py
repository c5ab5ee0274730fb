"""`roost shield` commands and the block-list formats."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from roost.shield.blocklist import to_nft, to_nginx
from roost.shield.cli import shield
from roost.shield.testbed import ServerProcess


def test_nft_script_replaces_the_sets() -> None:
    script = to_nft(
        {"198.51.100.7": 30.0, "203.0.113.0/24": 60.0, "2001:db8::/64": 10.0, "junk": 5}
    )
    assert "delete table inet roost" in script
    assert "add element inet roost blocked4 { 198.51.100.7/32 timeout 30s, 203.0.113.0/24" in script
    assert "2001:db8::/64 timeout 10s" in script
    assert "junk" not in script


def test_nginx_geo_map() -> None:
    text = to_nginx({"198.51.100.7": 30.0, "2001:db8::/64": 1.0})
    assert "geo $roost_blocked {" in text
    assert "  198.51.100.7/32 1;" in text and "  2001:db8::/64 1;" in text


def test_under_attack_switch_writes_the_mode_file(tmp_path: Path) -> None:
    env = {"ROOST_SHIELD_MODE_FILE": str(tmp_path / "mode")}
    runner = CliRunner()
    assert runner.invoke(shield, ["under-attack"], env=env).output.strip() == "auto"
    assert runner.invoke(shield, ["under-attack", "on"], env=env).exit_code == 0
    assert (tmp_path / "mode").read_text().strip() == "on"
    assert runner.invoke(shield, ["under-attack"], env=env).output.strip() == "on"
    assert runner.invoke(shield, ["under-attack", "sideways"], env=env).exit_code != 0


@pytest.fixture
def server(tmp_path: Path):
    s = ServerProcess(
        str(tmp_path / "server.log"), ROOST_SHIELD_MODE_FILE=str(tmp_path / "mode")
    ).wait_ready()
    yield s
    s.stop()


def test_block_top_and_export_against_a_running_server(server: ServerProcess) -> None:
    runner = CliRunner()
    url = ["--url", server.url]
    assert runner.invoke(shield, ["block", "203.0.113.0/24", *url]).exit_code == 0
    assert runner.invoke(shield, ["block", "not-an-ip", *url]).exit_code != 0
    nft = runner.invoke(shield, ["export-blocklist", "--format", "nft", *url])
    assert nft.exit_code == 0 and "203.0.113.0/24" in nft.output
    nginx = runner.invoke(shield, ["export-blocklist", "--format", "nginx", *url])
    assert "203.0.113.0/24 1;" in nginx.output
    top = runner.invoke(shield, ["top", *url])
    assert top.exit_code == 0 and "attack state calm" in top.output
    assert runner.invoke(shield, ["block", "203.0.113.0/24", "--seconds", "0", *url]).exit_code == 0
    after = runner.invoke(shield, ["export-blocklist", "--format", "json", *url])
    assert after.output.strip() == "{}"
