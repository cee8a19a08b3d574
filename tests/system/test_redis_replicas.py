"""The live replica count on real Redis (``loading/redis_replicas.py``): replicas count each other,
the count holds its peak for a minute (on the manual clock), never drops below GATEWAY_REPLICAS, a
replica that stops without a word stops counting once its stamp is stale, and while Redis is down
the count seen before stands. The share of the degraded mode follows it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from gateway.loading.failover import share_of
from gateway.loading.redis_link import connect
from gateway.loading.redis_replicas import ReplicaCount, replicas_key
from tests.support.clock import ManualClock
from tests.support.redis import REDIS_URL, RedisServer, needs_redis, needs_redis_server
from tests.support.waits import eventually_async

pytestmark = pytest.mark.slow


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    c = connect(REDIS_URL)
    yield c
    await c.aclose()


def replica(
    client: aioredis.Redis, account: str, clock: ManualClock, floor: int = 1, **kw: float
) -> tuple[ReplicaCount, list[int]]:
    shares: list[int] = []
    count = ReplicaCount(client, account, clock, floor, lambda n: shares.append(share_of(15, n)), **kw)
    return count, shares


@needs_redis
async def test_replicas_count_each_other_and_the_peak_holds_a_minute(client: aioredis.Redis) -> None:
    account, clock = f"LTAI5tReplicaCount{uuid.uuid4().hex[:8]}", ManualClock()
    try:
        a, a_shares = replica(client, account, clock)
        b, _ = replica(client, account, clock)
        assert await a.beat() == 1 and a_shares == []  # alone: the floor, no change
        assert await b.beat() == 2
        assert await a.beat() == 2 and a_shares == [7]  # 15 // 2
        await b.aclose()  # gone at once from the set...
        assert await a.beat() == 2  # ...but the peak of the last minute stands
        await clock.advance(61)
        assert await a.beat() == 1 and a_shares == [7, 15]
        floored, _ = replica(client, account, clock, floor=4)
        assert await floored.beat() == 4  # GATEWAY_REPLICAS is the floor
        await floored.aclose()
        await a.aclose()
    finally:
        await client.delete(replicas_key(account))


@needs_redis
async def test_a_replica_that_stops_without_a_word_stops_counting(client: aioredis.Redis) -> None:
    account, clock = f"LTAI5tReplicaCount{uuid.uuid4().hex[:8]}", ManualClock()
    try:
        a, _ = replica(client, account, clock, stale=0.3, peak_window=0)
        silent, _ = replica(client, account, clock, stale=0.3, peak_window=0)
        await silent.beat()  # and never again, nor a ZREM: killed
        assert await a.beat() == 2

        async def alone() -> bool:
            await clock.advance(1)  # past the (zero) peak window: only the live count decides
            return await a.beat() == 1

        await eventually_async(alone, 10, "the silent replica's stamp stale on Redis's clock")
        await a.aclose()
    finally:
        await client.delete(replicas_key(account))


@needs_redis_server
async def test_while_redis_is_down_the_count_seen_before_stands() -> None:
    server = RedisServer()
    server.start()
    client = connect(server.url)
    try:
        clock = ManualClock()
        a, shares = replica(client, "LTAI5tReplicaDown", clock)
        b, _ = replica(client, "LTAI5tReplicaDown", clock)
        await b.beat()
        assert await a.beat() == 2 and shares == [7]
        server.stop()
        await clock.advance(120)  # past the peak window: only a new count could lower it
        assert await a.beat() == 2 and shares == [7]
    finally:
        await client.aclose()
        server.stop()
