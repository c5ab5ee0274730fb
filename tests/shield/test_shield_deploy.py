"""The production edge in deploy/: both nginx variants render and pass `nginx -t`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

START = Path(__file__).resolve().parents[2] / "deploy" / "start.sh"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
@pytest.mark.parametrize("variant", [[], ["--limit"]])
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
