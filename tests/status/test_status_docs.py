"""The docs stay true: every status setting and command is documented in docs/status.md."""

from __future__ import annotations

from pathlib import Path

from roost.config import Settings, describe
from roost.status.cli import component, incident, status

DOC = (Path(__file__).resolve().parents[2] / "docs" / "status.md").read_text()


def test_every_status_setting_is_documented() -> None:
    names = [n for n, _, _ in describe(Settings.from_env({})) if n.startswith("ROOST_STATUS_")]
    assert names
    missing = [n for n in names if f"`{n}`" not in DOC]
    assert missing == []


def test_every_command_is_documented() -> None:
    for name in status.commands:
        assert f"roost status {name}" in DOC
    for group in (incident, component):
        for name in group.commands:
            assert f"roost status {group.name} {name}" in DOC
