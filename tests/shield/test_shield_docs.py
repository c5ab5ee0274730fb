"""docs/shield.md stays true: every shield setting and command is documented."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from roost.config import ShieldSettings
from roost.shield.cli import shield

DOC = (Path(__file__).resolve().parents[2] / "docs" / "shield.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = []
    for f in fields(ShieldSettings):
        name = f.name.upper()
        stem, _, last = name.rpartition("_")
        # IP_BURST may be written as part of "IP_RATE/BURST"
        grouped = stem and re.search(rf"\b{stem}_[A-Z/]*/{last}\b", DOC)
        if not re.search(rf"\b{name}\b", DOC) and not grouped:
            missing.append(name)
    assert not missing


def test_every_command_is_documented() -> None:
    for name in shield.commands:
        assert f"roost shield {name}" in DOC
