"""bench/media_processing.py: a tiny run prints a row per upload and writes the same figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^(.+?) +(\d+x\d+) +(jpeg|png|webp|gif) +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+)$")


def test_a_tiny_run_prints_every_upload_and_writes_its_json(tmp_path: Path) -> None:
    figures = tmp_path / "media.json"
    command = [sys.executable, str(ROOT / "bench" / "media_processing.py"), "--rounds", "1"]
    command += ["--scale", "0.05", "--threads", "2", "--json", str(figures)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {m[1]: m for m in map(ROW.match, done.stdout.splitlines()) if m}
    assert set(rows) == {
        "phone photo JPEG",
        "screenshot PNG",
        "WebP",
        "small JPEG",
        "animated GIF (20)",
    }, done.stdout
    assert rows["animated GIF (20)"][3] == "gif" and rows["WebP"][3] == "webp"
    assert "avatar 400x400 of the phone photo: draft on" in done.stdout
    written = orjson.loads(figures.read_bytes())
    assert [row["image"] for row in written["rows"]] == list(rows)
    assert all(row["per_second_one_core"] > 0 for row in written["rows"])
    assert all(row["per_second_threads"] > 0 for row in written["rows"])
