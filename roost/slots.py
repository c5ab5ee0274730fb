"""A request that waits on a job gives its admission slot back while it waits.

The shield admits a bounded number of requests at once and learns that bound from their
latency. An upload waits for its picture to be processed (a worker process's CPU, up to
``ROOST_MEDIA_WAIT`` seconds) while using none of the site's: holding a slot for that wait cost
the reads beside it 80% of their rate (bench/media_path.py), first through the slots it held,
then through the latency it taught the limit. So the shield puts a release in the request's
scope, and the face calls ``give_back`` before it waits, as a live stream does when it opens.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

RELEASE = "roost.release_slot"


def offer(scope: MutableMapping[str, Any], release: Callable[[], None]) -> None:
    scope[RELEASE] = release


def give_back(scope: MutableMapping[str, Any]) -> None:
    """Free the request's admission slot now (once; nothing without a shield)."""
    release = scope.pop(RELEASE, None)
    if release is not None:
        release()
