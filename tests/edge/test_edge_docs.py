"""docs/shield.md stays true about the edge: every edge setting and command is documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from roost.config import EdgeSettings
from roost.edge.cli import edge

DOC = (Path(__file__).resolve().parents[2] / "docs" / "shield.md").read_text()


def test_every_edge_setting_is_documented() -> None:
    missing = [
        f.name.upper() for f in fields(EdgeSettings) if not re.search(rf"\b{f.name.upper()}\b", DOC)
    ]
    assert not missing


def test_every_edge_command_is_documented() -> None:
    for name in edge.commands:
        assert f"roost edge {name}" in DOC
