"""Files that hold secrets (the instance key, the edge's config, client secrets and password
hashes in SQLite) are created readable by their owner alone: ``os.open`` with mode 0600 from
the first byte, never written and then chmod-ed (between the two, anyone could read them)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE = 0o600


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (created 0600, or truncated keeping the mode; made 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), PRIVATE)  # an existing file keeps its mode through O_CREAT
        handle.write(text)


def create_private(path: Path) -> None:
    """Create an empty private file if there is none (SQLite then keeps it, and gives its
    -wal and -shm files the same mode)."""
    # an existing file is kept as it is; a missing folder is SQLite's to report
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))
