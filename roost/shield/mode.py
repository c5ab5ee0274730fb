"""The under-attack switch: ``auto`` (the detector decides), ``on`` or ``off``.

``roost shield under-attack on|off|auto`` writes the mode to a small file (``mode_file``) and, when
Redis is configured, to Redis (``<redis_prefix>mode``, which wins over the file); every process
polls both once a second, so one command reaches them all without a restart. Failure policy: an
unreadable file means the configured default applies; Redis down means the file alone decides.
"""

from __future__ import annotations

from pathlib import Path

MODES = ("auto", "on", "off")


def read_mode(path: str, default: str) -> str:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return default
    return text if text in MODES else default


def write_mode(path: str, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(mode)
    target = Path(path)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(mode + "\n")
    tmp.replace(target)
