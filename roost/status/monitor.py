"""The probe loop: a round every ``interval`` seconds, handed to a sink (in-process or pushed).

Failure policy: a round that fails as a whole, or a sink that fails, is logged and the loop goes
on; the monitor only stops when it is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from roost.status.model import ProbeResult, iso
from roost.status.probes import Prober

log = logging.getLogger("roost.status.monitor")

Sink = Callable[[list[ProbeResult]], Awaitable[None]]


async def run(prober: Prober, sink: Sink, interval: float) -> None:
    """Probe forever; rounds start every ``interval`` seconds (or as soon as a slow one ends)."""
    while True:
        started = time.monotonic()
        try:
            await sink(await prober.round())
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("probe round failed")
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))


class PushSink:
    """Sends each round to a status server's admin API (for `roost status monitor` on its own)."""

    def __init__(self, status_url: str, token: str, timeout: float = 5.0) -> None:
        self.client = httpx.AsyncClient(
            base_url=status_url.rstrip("/"),
            timeout=timeout,
            headers={"authorization": f"Bearer {token}"},
        )

    async def __call__(self, results: list[ProbeResult]) -> None:
        if not results:
            return
        payload = {"results": [as_json(r) for r in results]}
        try:
            response = await self.client.post("/api/admin/probes", json=payload)
        except httpx.HTTPError as error:
            log.warning("status server unreachable, round lost: %s", error)
            return
        if response.status_code != 202:
            log.warning(
                "status server refused the round: %s %s", response.status_code, response.text
            )

    async def close(self) -> None:
        await self.client.aclose()


def as_json(r: ProbeResult) -> dict:
    return {
        "at": iso(r.at),
        "check": r.check,
        "component": r.component,
        "ok": r.ok,
        "latency_ms": r.latency_ms,
        "detail": r.detail,
        "degraded": r.degraded,
    }
