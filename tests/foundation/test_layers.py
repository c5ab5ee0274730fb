"""The layering contract of docs/architecture.md, as import-linter checks it (pyproject.toml).

api/, web/ and present/ import no store and no SQLAlchemy; api and web do not import each
other; services know no face, no shield and no renderer; the domain is pure; the status blog
stands alone. A second test proves the check can fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(config: Path) -> subprocess.CompletedProcess:
    command = [str(LINT), "--config", str(config), "--no-cache"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_every_layer_keeps_to_its_imports() -> None:
    result = _lint(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_contract_fails_when_a_face_reaches_for_the_store(tmp_path: Path) -> None:
    """A copy of the package where the API imports a table: the same contract must break."""
    shutil.copytree(
        ROOT / "roost", tmp_path / "roost", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    bad = tmp_path / "roost" / "api" / "instance.py"
    bad.write_text(bad.read_text() + "\nfrom roost.store.tables import accounts  # noqa\n")
    command = [str(LINT), "--config", str(tmp_path / "pyproject.toml"), "--no-cache"]
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode != 0, result.stdout[-2000:]
    assert "roost.api.instance -> roost.store.tables" in result.stdout
