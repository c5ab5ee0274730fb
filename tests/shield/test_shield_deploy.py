"""The production edge in deploy/: HAProxy (the default) and both nginx variants render and pass
their checks (`haproxy -c`, `nginx -t`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

START = Path(__file__).resolve().parents[2] / "deploy" / "start.sh"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
@pytest.mark.parametrize("variant", [["--nginx"], ["--limit"]])
def test_nginx_configuration_is_valid(tmp_path: Path, variant: list[str]) -> None:
    result = subprocess.run(
        ["sh", str(START), "--check", "--processes", "3", "--run-dir", str(tmp_path), *variant],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    upstreams = (tmp_path / "upstreams.conf").read_text()
    assert upstreams.count("server 127.0.0.1:") == 3


def test_haproxy_edge_configuration_is_valid(tmp_path: Path) -> None:
    from roost.edge.process import find_haproxy

    if find_haproxy() is None:
        pytest.skip("haproxy is not installed")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("ROOST_")}
    env["ROOST_SECRET_KEY"] = "deploy-test-secret-" + "q" * 32
    env["ROOST_DATABASE_URL"] = f"sqlite:///{tmp_path / 'roost.db'}"
    result = subprocess.run(
        ["sh", str(START), "--check", "--processes", "3", "--run-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    config = (tmp_path / "edge" / "haproxy.cfg").read_text()
    assert config.count("maxconn 12 check") == 3  # one queue slot group per process
    assert "bind 0.0.0.0:8080" in config


def test_nginx_lets_every_upload_path_send_an_upload_sized_body() -> None:
    import re

    from roost.shield.endpoints import UPLOAD_PATHS

    deploy = Path(__file__).resolve().parents[2] / "deploy"
    for name in ("nginx.conf", "nginx-limit.conf"):
        text = (deploy / name).read_text()
        found = re.search(r"location ~ (\S+) \{\s*\n[^}]*client_max_body_size 17m;", text)
        assert found, name
        assert all(re.match(found.group(1), path) for path in UPLOAD_PATHS), name
        assert not re.match(found.group(1), "/api/v1/statuses")
