"""bench/uncached_reads.py: a tiny real run, so the benchmark cannot rot."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (scripts/system-deps)")
def test_a_tiny_run_reads_each_path_uncached_against_hello_world(tmp_path: Path) -> None:
    out = tmp_path / "reads.json"
    command = [sys.executable, str(BENCH / "uncached_reads.py"), "--seconds", "1"]
    command += ["--users", "20", "--posts", "60", "--json", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["hello"] > 0
    assert set(figures["rows"]) == {"home", "public", "profile", "thread", "floor"}
    for name, row in figures["rows"].items():
        assert row["rps"] > 0 and row["non2xx"] == 0, (name, row)
    assert "thread" in done.stdout and ">= 0.20" in done.stdout
