"""How `roost serve` runs the site: uvicorn on uvloop with Roost's own HTTP protocol.

The protocol (``roost.shield.protocol.ShieldProtocol``, a subclass of uvicorn's httptools
protocol) enforces what uvicorn alone does not: header and body deadlines, header and body size
caps, a per-address connection cap, close-at-accept for blocked sources and canned 429s for
penalised ones before any ASGI work (issue 7). Access logging is off: under a flood, one log line
per refused request would cost more than refusing it.
"""

from __future__ import annotations

import math

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
