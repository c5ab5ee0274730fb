"""Assembling and running the status server from settings: store, service, monitor, outbox.

`roost status serve` runs in its own process with its own event loop, engine and HTTP clients;
nothing here imports the main site.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from roost.config import Settings, StatusSettings
from roost.status import machine, monitor, startup, store
from roost.status.app import StatusApp
from roost.status.journal import StoreJournal
from roost.status.model import utcnow
from roost.status.notify import Outbox
from roost.status.probes import Prober, target_problem
from roost.status.service import StatusService

log = logging.getLogger("roost.status")

TICK = 1.0  # seconds between clock ticks (quiet periods, maintenance windows)
PRUNE_EVERY = 3600.0


def thresholds(s: StatusSettings) -> machine.Thresholds:
    return machine.Thresholds(
        fail_after=s.fail_after,
        recover_after=s.recover_after,
        quiet_period=timedelta(seconds=s.quiet_period),
        major_after=s.major_after,
        critical_after=s.critical_after,
    )


class SettingsError(ValueError):
    """Status settings the server refuses to start with; the message names the setting."""


def check(s: StatusSettings) -> None:
    """Refuse settings that would quietly break a promise (issue 5: webhooks are HMAC-signed).

    A target URL that cannot be probed is *not* refused: the page must come up and say so, and
    every probe fails with "invalid target URL: ..." (roost/status/probes.py).
    """
    if s.webhook_urls and not s.webhook_secret:
        raise SettingsError(
            "ROOST_STATUS_WEBHOOK_URLS is set but ROOST_STATUS_WEBHOOK_SECRET is empty: webhooks"
            " are signed with it; set one (e.g. `openssl rand -hex 32`) or remove the URLs"
        )


class Runtime:
    """The status server's background work, started and stopped with the ASGI lifespan."""

    def __init__(self, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        check(settings.status)
        s = self.settings = settings.status
        engine = store.make_engine(s.database_url, s.database_schema)
        # A target that cannot be probed is not a site starting: say it is down from the first
        # probe ("invalid target URL: ..."), without the start-up grace.
        bad_target = s.monitor and target_problem(s.target_url) is not None
        self.outbox = Outbox(
            webhook_urls=s.webhook_urls,
            secret=s.webhook_secret,
            attempts=s.webhook_attempts,
            announce_url=s.target_url,
            announce_token=s.announce_token,
            site_up=self.site_up,
            journal=StoreJournal(engine),
        )
        self.service = StatusService(
            engine,
            name=s.page_name,
            url=s.page_url,
            components=s.components,
            thresholds=thresholds(s),
            schema=s.database_schema,
            notifier=self.outbox,
            clock=clock,
            retention_days=s.probe_retention_days,
            slow_ms=s.slow_ms,
            start_grace=timedelta(0) if bad_target else startup.GRACE,
        )
        self.prober: Prober | None = None
        self.tasks: list[asyncio.Task] = []

    def site_up(self) -> bool:
        """Whether @status may post now: the site answers pages and accepts posts."""
        down = ("major_outage", "partial_outage")
        return all(
            c.status not in down
            for cid, c in self.service.components.items()
            if cid in ("web", "posting")
        )

    async def start(self) -> None:
        await self.service.start()
        await self.outbox.resume()
        loop = asyncio.get_running_loop()
        self.tasks.append(loop.create_task(self._ticker()))
        if self.settings.monitor:
            s = self.settings
            if problem := target_problem(s.target_url):
                log.error("ROOST_STATUS_TARGET_URL: %s; every probe will fail", problem)
            self.prober = Prober(
                s.target_url,
                email=s.probe_email,
                password=s.probe_password,
                timeout=s.probe_timeout,
                signin_every=s.signin_interval,
                confirm=s.recover_after,
                clock=self.service.clock,
            )
            run = monitor.run(self.prober, self.service.record_round, s.probe_interval)
            self.tasks.append(loop.create_task(run))

    async def _ticker(self) -> None:
        last_prune = 0.0
        while True:
            await asyncio.sleep(TICK)
            try:
                await self.service.tick()
                now = asyncio.get_running_loop().time()
                if now - last_prune > PRUNE_EVERY:
                    last_prune = now
                    await self.service.prune()
            except Exception:
                log.exception("status clock tick failed")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.prober:
            await self.prober.close()
        await self.outbox.close()
        await self.service.close()


def build(settings: Settings, clock: Callable[[], datetime] = utcnow) -> tuple[StatusApp, Runtime]:
    runtime = Runtime(settings, clock)
    app = StatusApp(
        runtime.service,
        settings.status.admin_token,
        on_startup=[runtime.start],
        on_shutdown=[runtime.stop],
    )
    return app, runtime


def serve(settings: Settings) -> None:
    import uvicorn

    app, _ = build(settings)
    uvicorn.run(
        app,
        host=settings.status.host,
        port=settings.status.port,
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
    )
