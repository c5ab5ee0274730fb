"""The streaming bus: timeline events to the streaming API (in-process, or Redis pub/sub).

Channels are ``user:<id>`` (home updates and notifications), ``public``, ``public:local`` and
``hashtag:<name>``. Slow-consumer policy: each subscriber has a bounded queue; when it is full,
new events for that subscriber are dropped rather than letting one stalled client grow memory
or slow the publisher.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

log = logging.getLogger(__name__)
QUEUE_SIZE = 1000


class Subscription:
    """A subscriber's queue of (channel, message) on a set of channels."""

    def __init__(self, bus: LocalBus, channels: list[str]) -> None:
        self.bus = bus
        self.channels = channels
        self.queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue(QUEUE_SIZE)

    def offer(self, channel: str, message: str) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait((channel, message))

    async def get(self) -> tuple[str, str]:
        return await self.queue.get()

    async def close(self) -> None:
        await self.bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[tuple[str, str]]:
        while True:
            yield await self.get()


class LocalBus:
    """In-process pub/sub: fine for one process; Redis extends it across processes."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def publish(self, channel: str, message: str) -> None:
        self.deliver(channel, message)

    async def publish_many(self, channels: list[str], message: str) -> None:
        for channel in channels:
            self.deliver(channel, message)

    def may_listen(self, channels: list[str]) -> bool:
        """Whether anyone could receive these channels (lets publishers skip rendering)."""
        return any(channel in self.subscribers for channel in channels)

    async def start(self) -> None:
        """Nothing to start in-process."""

    def deliver(self, channel: str, message: str) -> None:
        for subscription in tuple(self.subscribers.get(channel, ())):
            subscription.offer(channel, message)

    async def subscribe(self, channels: list[str]) -> Subscription:
        subscription = Subscription(self, channels)
        for channel in channels:
            self.subscribers[channel].add(subscription)
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        for channel in subscription.channels:
            subscribers = self.subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self.subscribers[channel]

    def listener_count(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    async def close(self) -> None:
        self.subscribers.clear()


class RedisBus(LocalBus):
    """Every event goes through one Redis channel; each process delivers to its own subscribers.

    One channel keeps subscription state out of Redis (no per-stream SUBSCRIBE); every process
    sees every event, which is right for a handful of processes behind one load balancer.
    """

    def __init__(self, redis, channel: str = "roost:stream") -> None:
        super().__init__()
        self.redis = redis
        self.channel = channel
        self.reader: asyncio.Task | None = None

    async def publish(self, channel: str, message: str) -> None:
        await self.publish_many([channel], message)

    async def publish_many(self, channels: list[str], message: str) -> None:
        await self.redis.publish(self.channel, json.dumps([channels, message]))

    def may_listen(self, channels: list[str]) -> bool:
        return True  # listeners may be in other processes

    async def start(self) -> None:
        if self.reader is None:
            self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    channels, data = json.loads(message["data"])
                    for channel in channels:
                        self.deliver(channel, data)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis gone: say so, wait, retry; streams resume when it returns.
                log.warning("streaming bus lost Redis; retrying in 1 s", exc_info=True)
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        await super().close()
