"""The streaming bus: timeline events to the streaming API (in-process, or Redis pub/sub).

Channels are ``user:<id>`` (home updates and notifications), ``direct:<id>`` (conversations),
``public``, ``public:local`` and ``hashtag:<name>``. Slow-consumer policy: each subscriber has a
bounded queue; when it is full, new events for that subscriber are dropped rather than letting
one stalled client grow memory or slow the publisher.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Container

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
        self.local_users: Counter[int] = Counter()  # user id -> this process's streams of it

    async def publish(self, channel: str, message: str) -> None:
        self.deliver(channel, message)

    async def publish_many(self, channels: list[str], message: str) -> None:
        for channel in channels:
            self.deliver(channel, message)

    def may_listen(self, channels: list[str]) -> bool:
        """Whether anyone could receive these channels (lets publishers skip rendering)."""
        return any(channel in self.subscribers for channel in channels)

    def listening_users(self) -> Container[int]:
        """Accounts with an open ``user:<id>`` stream: fan-out publishes to these alone."""
        return self.local_users

    async def start(self) -> None:
        """Nothing to start in-process."""

    def deliver(self, channel: str, message: str) -> None:
        for subscription in tuple(self.subscribers.get(channel, ())):
            subscription.offer(channel, message)

    async def subscribe(self, channels: list[str]) -> Subscription:
        subscription = Subscription(self, channels)
        for channel in channels:
            self.subscribers[channel].add(subscription)
        for user in _users(channels):
            self.local_users[user] += 1
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> list[int]:
        """Drop a subscription; returns the users this process no longer streams."""
        for channel in subscription.channels:
            subscribers = self.subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self.subscribers[channel]
        gone = []
        for user in _users(subscription.channels):
            self.local_users[user] -= 1
            if self.local_users[user] <= 0:
                del self.local_users[user]
                gone.append(user)
        return gone

    def listener_count(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    async def close(self) -> None:
        self.subscribers.clear()
        self.local_users.clear()


def _users(channels: list[str]) -> list[int]:
    return [int(c[5:]) for c in channels if c.startswith("user:") and c[5:].isdigit()]


class RedisBus(LocalBus):
    """Every event goes through one Redis channel; each process delivers to its own subscribers.

    One channel keeps subscription state out of Redis (no per-stream SUBSCRIBE); every process
    sees every event, which is right for a handful of processes behind one load balancer.

    Which accounts have a stream open anywhere is kept in a Redis hash (account id -> open
    streams, all processes together) and mirrored in each process, so that a fan-out publishes
    to the few followers who are online rather than naming 10,000 channels in every message.
    A process that opens a first stream for an account says so on the bus at once; the mirror
    is also reloaded every ``REFRESH`` seconds. A process that dies leaves its counts behind,
    which costs only some publishes nobody receives.
    """

    REFRESH = 10.0

    def __init__(self, redis, channel: str = "roost:stream") -> None:
        super().__init__()
        self.redis = redis
        self.channel = channel
        self.listeners_key = f"{channel}:listening"
        self.everyone: set[int] = set()  # the mirror: accounts streamed by any process
        self.reader: asyncio.Task | None = None
        self.refresher: asyncio.Task | None = None
        self._leave = redis.register_script(LEAVE_SCRIPT)

    async def publish(self, channel: str, message: str) -> None:
        await self.publish_many([channel], message)

    async def publish_many(self, channels: list[str], message: str) -> None:
        await self.redis.publish(self.channel, json.dumps([channels, message]))

    def may_listen(self, channels: list[str]) -> bool:
        return True  # listeners of public channels may be in other processes

    def listening_users(self) -> Container[int]:
        return self.everyone

    async def subscribe(self, channels: list[str]) -> Subscription:
        fresh = [u for u in _users(channels) if u not in self.local_users]
        subscription = await super().subscribe(channels)
        for user in fresh:
            self.everyone.add(user)
            await self.redis.hincrby(self.listeners_key, str(user), 1)
            await self.redis.publish(self.channel, json.dumps(["listening", user]))
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> list[int]:
        gone = await super().unsubscribe(subscription)
        for user in gone:
            with contextlib.suppress(Exception):  # Redis gone: the next refresh tidies up
                await self._leave(keys=[self.listeners_key], args=[str(user)])
        return gone

    async def start(self) -> None:
        if self.reader is None:
            self.reader = asyncio.create_task(self._read())
            self.refresher = asyncio.create_task(self._refresh_forever())

    async def _refresh_forever(self) -> None:
        while True:
            with contextlib.suppress(Exception):  # Redis gone: keep the last mirror
                counts = await self.redis.hgetall(self.listeners_key)
                self.everyone = {int(k) for k, v in counts.items() if int(v) > 0}
                self.everyone.update(self.local_users)
            await asyncio.sleep(self.REFRESH)

    async def _read(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    channels, data = json.loads(message["data"])
                    if channels == "listening":
                        self.everyone.add(data)
                        continue
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
        for task in (self.reader, self.refresher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for user in list(self.local_users):
            with contextlib.suppress(Exception):
                await self._leave(keys=[self.listeners_key], args=[str(user)])
        await super().close()


# Decrement an account's open-stream count; forget it at zero (atomic across processes).
LEAVE_SCRIPT = """
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return left
"""
