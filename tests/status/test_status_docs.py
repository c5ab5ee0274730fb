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


def test_an_operator_can_find_the_tokens() -> None:
    """Where `roost up` keeps the admin token, and how to get the @status account's token."""
    from roost.commands import up
    from roost.domain.accounts import RESERVED

    assert ".roost-up.json" in Path(up.__file__).read_text() and ".roost-up.json" in DOC
    assert "status" in RESERVED and "`status` itself\n  is a reserved username" in DOC
    assert "POST $SITE/api/v1/apps" in DOC and "grant_type=password" in DOC
