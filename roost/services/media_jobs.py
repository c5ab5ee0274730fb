"""The picture workers: uploads processed off the request path, a bounded few at a time.

On the embedded default the jobs are an in-process queue; with Redis they go through arq, so
any process may take them (the files are in the shared store). Either way the work itself
(decoding, resizing, encoding: CPU) runs in worker *processes*, at most ``ROOST_MEDIA_WORKERS``
at once (one per core by default), at the lowest priority (nice 19): on a busy machine the
operating system gives the site's reads the CPU first and pictures wait, where threads in the
site's own process took 90% of a one-core server's reads away (bench/media_path.py). A worker
that a crafted file crashes takes only that upload with it. An upload acknowledged but not
processed when the process stopped is processed when one starts again (its row is still
``processing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from roost.domain.errors import Invalid
from roost.services import media
from roost.services.context import Context

log = logging.getLogger(__name__)
T = TypeVar("T")
SWEEP_EVERY = 300.0  # seconds between looks for expired uploads
WORKER_NICENESS = 19  # the lowest priority that still gets a share of a busy CPU

# One pool per process, made when first needed and shared by every site in it (tests make many).
_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    pool = _POOLS.get(workers)
    if pool is None:
        spawn = multiprocessing.get_context("spawn")  # never fork a process running a loop
        pool = ProcessPoolExecutor(workers, mp_context=spawn, initializer=_lower_priority)
        _POOLS[workers] = pool
    return pool


def _forget(pool: ProcessPoolExecutor) -> None:
    for workers, kept in list(_POOLS.items()):
        if kept is pool:
            del _POOLS[workers]
    pool.shutdown(wait=False, cancel_futures=True)


def _lower_priority() -> None:
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


class MediaJobs:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        workers = ctx.settings.media.workers or os.cpu_count() or 1
        self.crunching = asyncio.Semaphore(workers)
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        self.done: dict[int, asyncio.Event] = {}  # jobs of this process, by upload
        self.tasks: list[asyncio.Task] = []
        self.workers = workers
        self.arq: Any = None
        self.arq_worker: Any = None

    async def start(self) -> None:
        if self.ctx.redis is not None:
            await self._start_arq()
        else:
            self.tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]
        self.tasks.append(asyncio.create_task(self._sweep_forever()))
        async with self.ctx.db.read() as conn:
            left = await media.unprocessed(conn)
        for media_id in left:
            await self.enqueue(media_id)

    async def _start_arq(self) -> None:
        from arq import create_pool
        from arq.connections import RedisSettings
        from arq.worker import Worker, func

        self.arq = await create_pool(RedisSettings.from_dsn(self.ctx.settings.redis_url))
        self.arq_worker = Worker(
            functions=[func(self._arq_job, name="media", max_tries=3)],  # type: ignore[arg-type]
            redis_pool=self.arq,
            handle_signals=False,
            poll_delay=0.05,
            max_jobs=self.workers,
            keep_result=0,
            queue_name="roost:media",
        )
        self.tasks = [asyncio.create_task(self.arq_worker.async_run())]

    async def _arq_job(self, _job_ctx: dict, media_id: int) -> None:
        await self._run(media_id)

    async def enqueue(self, media_id: int) -> None:
        self.done.setdefault(media_id, asyncio.Event())
        if self.arq is not None:
            await self.arq.enqueue_job(
                "media", media_id, _job_id=f"media:{media_id}", _queue_name="roost:media"
            )
        else:
            self.queue.put_nowait(media_id)

    async def _work(self) -> None:
        while True:
            media_id = await self.queue.get()
            try:
                await self._run(media_id)
            finally:
                self.queue.task_done()

    async def _run(self, media_id: int) -> None:
        try:
            await media.process(self.ctx, media_id)
        except Exception:  # the row stays ``processing``: a restart tries it again
            log.exception("processing media %s failed", media_id)
        finally:
            event = self.done.pop(media_id, None)
            if event is not None:
                event.set()

    async def crunch(self, work: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound ``work`` (a module-level function) in a worker process, at most
        ``workers`` at once; a worker that dies is an upload refused, and a new pool."""
        async with self.crunching:
            pool = _pool(self.workers)
            try:
                return await asyncio.get_running_loop().run_in_executor(pool, work, *args)
            except BrokenProcessPool:
                _forget(pool)
                raise Invalid("file", "could not be processed") from None

    async def wait(self, media_id: int, seconds: float) -> str | None:
        """Wait up to ``seconds`` for an upload's processing; its state then."""
        event = self.done.get(media_id)
        if event is not None and self.arq is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), seconds)
            return await media.state_of(self.ctx, media_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:  # another process may be doing it: its row tells
            state = await media.state_of(self.ctx, media_id)
            if state != media.PROCESSING or loop.time() >= deadline:
                return state
            await asyncio.sleep(0.05)

    async def drain(self) -> None:
        """Wait until queued uploads are processed (tests)."""
        if self.arq is None:
            await self.queue.join()

    async def _sweep_forever(self) -> None:
        while True:
            try:
                gone = await media.sweep(self.ctx)
                if gone:
                    log.info("removed %d uploads never attached", gone)
            except Exception:
                log.exception("removing expired uploads failed; trying again later")
            await asyncio.sleep(SWEEP_EVERY)

    async def stop(self, grace: float = 5.0) -> None:
        if self.arq_worker is not None:
            self.arq_worker.allow_pick_jobs = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arq_worker._sleep_until_tasks_complete(), grace)
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.arq is not None:
            await self.arq.aclose()
