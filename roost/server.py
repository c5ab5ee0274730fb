"""How `roost serve` runs the site: uvicorn on uvloop with Roost's own HTTP protocol.

The protocol (``roost.shield.protocol.ShieldProtocol``, a subclass of uvicorn's httptools
protocol) enforces what uvicorn alone does not: header and body deadlines, header and body size
caps, a per-address connection cap, close-at-accept for blocked sources and canned 429s for
penalised ones before any ASGI work (issue 7). Access logging is off: under a flood, one log line
per refused request would cost more than refusing it.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import math
import os
import tempfile
from pathlib import Path

import uvicorn

from roost.config import Settings

PROTOCOL = "roost.shield.protocol:ShieldProtocol"


def uvicorn_options(settings: Settings) -> dict:
    """uvicorn settings for Roost; shared by `roost serve`, the tests and the benchmarks."""
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": PROTOCOL,
        "log_level": "info",
        "access_log": False,
        "proxy_headers": False,  # the shield reads X-Forwarded-For from trusted proxies itself
        "server_header": False,
        "timeout_keep_alive": math.ceil(settings.shield.keepalive_timeout),
        "backlog": 4096,
    }


def run(settings: Settings) -> None:
    """Serve the site until interrupted."""
    uvicorn.run(
        "roost.app:create_app_from_env",
        factory=True,
        workers=settings.workers,
        **uvicorn_options(settings),
    )


_claimed: list[int] = []  # lock files held for the life of the process


def claim_worker_id(settings: Settings) -> int:
    """A snowflake worker id no other process of this site on this machine holds.

    ``roost serve --workers N`` starts N processes from one environment, so they would all get
    ``ROOST_WORKER_ID`` and mint the same ids in the same millisecond (seen as 422 conflicts on
    concurrent sign-ups). Each claims the first free id from ``ROOST_WORKER_ID`` up with a lock
    file (released by the kernel when the process ends); processes on other machines need their
    own ``ROOST_WORKER_ID`` ranges."""
    site = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"roost-worker-ids-{site}"
    folder.mkdir(mode=0o700, exist_ok=True)
    for worker in range(settings.worker_id, 1024):
        fd = os.open(folder / f"{worker}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _claimed.append(fd)
        return worker
    raise RuntimeError("no free snowflake worker id (0-1023) on this machine")


class FreezeAtStartup:
    """Once the site has started, keep everything alive by then out of later garbage collections.

    A full collection walks every tracked object: with the site's code, routes and compiled
    queries (about 100,000 objects) it took 36-117 ms on a loaded core, a stall that every request
    in flight waits for (issue 11: the signed-in tail under a flood). ``gc.freeze`` after start-up
    (Instagram's practice, and the standard library's advice for long-lived processes) leaves
    collections only what is made afterwards. ``.app`` is kept for the protocol's shield lookup.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def sent(message) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                gc.collect()
                gc.freeze()

        await self.app(scope, receive, sent)
