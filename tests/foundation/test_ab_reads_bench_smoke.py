"""bench/ab_reads.py: a tiny real run of this checkout against itself, so the script cannot rot."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^(\w+) +A +([\d.]+) us +B +([\d.]+) us +B/A ([\d.]+) +B cheaper in (\d)/2$")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (scripts/system-deps)")
def test_a_tiny_paired_run_prints_both_checkouts_costs() -> None:
    command = [sys.executable, str(ROOT / "bench" / "ab_reads.py"), "--base", str(ROOT)]
    command += ["--rounds", "2", "--seconds", "1", "--users", "20", "--posts", "60"]
    done = subprocess.run([*command, "home", "floor"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [ROW.match(line) for line in done.stdout.splitlines()]
    found = {row[1]: row for row in rows if row}
    assert set(found) == {"home", "floor"}, done.stdout
    for row in found.values():
        assert float(row[2]) > 0 and float(row[3]) > 0  # each server's own CPU was read
    assert float(found["home"][2]) > float(found["floor"][2])  # a page costs more than none


def test_unknown_reads_are_refused() -> None:
    command = [sys.executable, str(ROOT / "bench" / "ab_reads.py"), "--base", str(ROOT), "nope"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown reads: nope" in done.stderr
