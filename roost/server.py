"""How `roost serve` runs the site: uvicorn on uvloop/httptools (the shield's issue hardens this)."""

from __future__ import annotations

import uvicorn

from roost.config import Settings


def run(settings: Settings) -> None:
    """Serve the site until interrupted."""
    uvicorn.run(
        "roost.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        log_level="info",
        proxy_headers=False,
    )
