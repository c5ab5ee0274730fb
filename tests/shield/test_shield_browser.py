"""A real browser (Debian's chromium, headless) passes the challenge under the page's strict CSP."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from roost.shield.testbed import ServerProcess

CHROMIUM = shutil.which("chromium")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chromium_solves_the_challenge_and_lands_on_the_page(tmp_path: Path) -> None:
    server = ServerProcess(
        str(tmp_path / "server.log"),
        ROOST_SHIELD_MODE="on",
        ROOST_SHIELD_MODE_FILE=str(tmp_path / "mode"),
    ).wait_ready()
    try:
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                server.url + "/public/local",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        ).stdout
    finally:
        server.stop()
    assert "<p>/public/local</p>" in dom, dom[:500]
