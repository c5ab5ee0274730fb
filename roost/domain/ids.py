"""Time-ordered 64-bit ids, snowflake style: 41 bits of milliseconds, 10 of worker, 12 of sequence.

Ids sort by creation time, so cursors (max_id/since_id/min_id) are plain integer comparisons and
an id alone says when a thing was made. The API shows them as strings, as Mastodon does.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

EPOCH_MS = (
    1_288_834_974_657  # Twitter's snowflake epoch (2010-11-04); any fixed past instant works.
)
WORKER_BITS = 10
SEQUENCE_BITS = 12
MAX_WORKER = (1 << WORKER_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
MAX_ID = (1 << 63) - 1


class IdGenerator:
    """Makes strictly increasing ids for one worker, even if the wall clock steps back."""

    def __init__(self, worker_id: int = 0, clock=time.time) -> None:
        if not 0 <= worker_id <= MAX_WORKER:
            raise ValueError(f"worker id must be 0..{MAX_WORKER}, got {worker_id}")
        self.worker_id = worker_id
        self._clock = clock
        self._last_ms = -1
        self._sequence = 0
        self._lock = threading.Lock()

    def next_id(self) -> int:
        with self._lock:
            now = max(int(self._clock() * 1000) - EPOCH_MS, self._last_ms)
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:  # 4,096 ids in one millisecond: borrow the next one.
                    now += 1
            else:
                self._sequence = 0
            self._last_ms = now
            return (
                (now << (WORKER_BITS + SEQUENCE_BITS))
                | (self.worker_id << SEQUENCE_BITS)
                | (self._sequence)
            )


def id_time(snowflake: int) -> datetime:
    """The instant an id was made (to the millisecond)."""
    ms = (snowflake >> (WORKER_BITS + SEQUENCE_BITS)) + EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def id_floor(moment: datetime) -> int:
    """The smallest id that could have been made at ``moment``: a cursor for time ranges."""
    ms = int(moment.timestamp() * 1000) - EPOCH_MS
    return max(ms, 0) << (WORKER_BITS + SEQUENCE_BITS)


def ms_between(older: int, newer: int) -> int:
    """Milliseconds between the making of two ids."""
    shift = WORKER_BITS + SEQUENCE_BITS
    return (newer >> shift) - (older >> shift)


def parse_id(text: str | int | None) -> int | None:
    """An id from a client (string or int); None when it is not a valid id."""
    if text is None:
        return None
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if 0 < text <= MAX_ID else None
    text = text.strip()
    # ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
