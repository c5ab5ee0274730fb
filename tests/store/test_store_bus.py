"""The streaming bus knows which accounts have a stream open, here and in other processes."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import redis.asyncio as aioredis

from roost.store.bus import LocalBus, RedisBus
from tests.support.waiting import wait_for


async def test_local_bus_counts_open_user_streams():
    bus = LocalBus()
    first = await bus.subscribe(["user:7", "public"])
    second = await bus.subscribe(["user:7"])
    assert 7 in bus.listening_users() and 8 not in bus.listening_users()
    await first.close()
    assert 7 in bus.listening_users()  # one stream of account 7 is still open
    await second.close()
    assert 7 not in bus.listening_users()


@pytest.mark.redis
async def test_redis_buses_share_who_is_listening(redis_url):
    """Two buses on one Redis stand for two processes behind a load balancer."""
    channel = f"roost:test:{uuid.uuid4().hex}"
    clients = [aioredis.from_url(redis_url) for _ in range(2)]
    here, there = (RedisBus(client, channel=channel) for client in clients)
    try:
        for bus in (here, there):
            await bus.start()

        async def both_reading() -> bool:
            ((_, readers),) = await clients[0].pubsub_numsub(channel)
            return readers == 2

        await wait_for(both_reading, "both buses subscribed to the channel")
        stream = await there.subscribe(["user:42"])
        # told at once, on the bus
        await wait_for(lambda: 42 in here.listening_users(), "account 42 listening, here", 3)
        # ... and a publisher here reaches the stream there
        await here.publish_many(["user:42"], json.dumps({"event": "update"}))
        _channel, raw = await asyncio.wait_for(stream.get(), 3)
        assert json.loads(raw) == {"event": "update"}
        assert await clients[0].hget(f"{channel}:listening", "42") == b"1"
        await stream.close()
        assert await clients[0].hget(f"{channel}:listening", "42") is None
        here.REFRESH = 0.05  # the mirror forgets accounts nobody streams any more
        here.refresher.cancel()
        here.refresher = asyncio.create_task(here._refresh_forever())
        await wait_for(lambda: 42 not in here.listening_users(), "account 42 forgotten", 3)
    finally:
        for bus in (here, there):
            await bus.close()
        await clients[0].delete(f"{channel}:listening")
        for client in clients:
            await client.aclose()
