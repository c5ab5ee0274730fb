"""Secret-holding files are created 0600 from the first byte (issue 12, finding 14)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from roost.config import Settings
from roost.services.context import instance_secret
from roost.store.db import make_engine
from roost.store.private import write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_with_secrets_are_owner_only_even_under_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)  # the worst case: whatever is created without a mode is 0666
    try:
        settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path}/roost.db")
        instance_secret(settings)
        assert _mode(tmp_path / ".roost-secret") == 0o600
        make_engine(f"sqlite:///{tmp_path}/roost.db")
        assert _mode(tmp_path / "roost.db") == 0o600
        loose = tmp_path / "loose"
        loose.write_text("old")
        loose.chmod(0o644)
        write_private(loose, "new secret")
        assert _mode(loose) == 0o600 and loose.read_text() == "new secret"
    finally:
        os.umask(old)
