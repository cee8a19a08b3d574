"""The shared limiter on real Redis: atomic across clients, never N+1 grants in a window, exact
wait hints, a full window after Redis lost the log (a restart, a lost key); and the degraded mode
(local share, pre-filled at every outage, probes with the script, settling) on a private
redis-server that the tests stop and start."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio as aioredis

from gateway.loading.failover import FailoverLimiter, share_of
from gateway.loading.limiter import RECHECK
from gateway.loading.redis_limiter import LIFETIME_MS, RedisWindowLimiter
from gateway.loading.redis_link import TIMEOUT, RedisLink, connect
from tests.support.clock import ManualClock
from tests.support.processes import free_port
from tests.support.redis import (
    REDIS_URL,
    RedisServer,
    needs_redis,
    needs_redis_server,
    trust,
)
from tests.support.waits import eventually_async


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    c = connect(REDIS_URL)
    yield c
    await c.aclose()


async def take(limiter: RedisWindowLimiter | FailoverLimiter) -> float:
    """Ask for a grant as a call answered at once would: 0 and released, or the wait."""
    wait, grant = await limiter.try_acquire()
    if grant is not None:
        await grant.release()
        await limiter.drain()  # the release goes to Redis in the background
    return wait


async def grants(client: aioredis.Redis, key: str) -> int:
    """Members of the log that are grants (or placeholders), not its run_id marker."""
    return int(await client.zcount(key, "-inf", "(inf"))


@pytest.fixture
async def key(client: aioredis.Redis) -> AsyncIterator[str]:
    name = f"vodgw-test:{uuid.uuid4().hex}:limit:demo"
    await trust(client, name)
    yield name
    await client.delete(name)


async def redis_time(client: aioredis.Redis) -> float:
    seconds, micros = await client.time()
    return float(seconds) + micros / 1_000_000


async def past(client: aioredis.Redis, moment: float) -> bool:
    """Redis's clock (the one the limiter's script reads) is past ``moment``."""
    return await redis_time(client) > moment


# ---- the shared window --------------------------------------------------------------------------


@needs_redis
async def test_grants_are_atomic_across_clients(key: str) -> None:
    """60 concurrent attempts from 4 connections within one (10 s) window: exactly 15 granted."""
    clients = [connect(REDIS_URL) for _ in range(4)]
    limiters = [RedisWindowLimiter(c, key, 15, window=1.0, margin=9.0) for c in clients]
    try:
        results = await asyncio.gather(*(lim.acquire_at() for lim in limiters for _ in range(15)))
    finally:
        for c in clients:
            await c.aclose()
    times = [t for _, _, t in results]
    assert max(times) - min(times) < 10.0  # all inside one window, so exactly `calls` may pass
    waits = [w for w, _, _ in results]
    assert waits.count(0.0) == 15 and sum(g is not None for _, g, _ in results) == 15
    assert all(w == RECHECK for w in waits if w)  # the 15 are all still out: ask again shortly


@needs_redis
async def test_never_more_than_n_in_any_window_under_load(key: str) -> None:
    """Three clients loop for ~2.5 windows, sleeping as hinted: no N+1 grants within any span."""
    calls, span = 5, 0.25
    granted: list[float] = []

    async def worker() -> None:
        c = connect(REDIS_URL)
        limiter = RedisWindowLimiter(c, key, calls, window=span)
        try:
            for _ in range(200):
                wait, grant, at = await limiter.acquire_at()
                if grant is not None:
                    granted.append(at)
                    await grant.release()
                    if len(granted) >= 4 * calls:
                        return
                else:
                    await asyncio.sleep(wait)
        finally:
            await limiter.drain()
            await c.aclose()

    await asyncio.gather(worker(), worker(), worker())
    granted.sort()
    assert len(granted) >= 4 * calls
    for first, last in zip(granted, granted[calls:], strict=False):
        assert last - first >= span - 1e-6, "N+1 grants inside one window"


@needs_redis
async def test_wait_hint_is_the_time_until_the_oldest_grant_leaves(client: aioredis.Redis, key: str) -> None:
    limiter = RedisWindowLimiter(client, key, 3, window=1.0, margin=0.06)
    before = await redis_time(client)
    # three calls answered 0.3 s ago: each counts until 1.06 s after its answer
    await client.zadd(key, {f"old{i}": round((before - 0.3 + 1.06) * 1e6) for i in range(3)})
    wait, _, at = await limiter.acquire_at()
    after = await redis_time(client)
    assert before <= at <= after
    assert wait == pytest.approx(1.06 - 0.3 - (at - before), abs=2e-6)
    assert await grants(client, key) == 3  # a refusal takes nothing
    assert 0 < await client.pttl(key)


@needs_redis
async def test_grants_older_than_the_span_are_forgotten(client: aioredis.Redis, key: str) -> None:
    limiter = RedisWindowLimiter(client, key, 2, window=1.0, margin=0.06)
    now = await redis_time(client)
    # answered 1.07 s and 0.5 s ago: scored with when they stop counting
    await client.zadd(
        key, {"expired": round((now - 1.07 + 1.06) * 1e6), "recent": round((now - 0.5 + 1.06) * 1e6)}
    )
    assert await take(limiter) == 0.0
    assert await client.zscore(key, "expired") is None
    assert await take(limiter) > 0
    assert 0 < await client.pttl(key) <= LIFETIME_MS  # the log (and its run_id) expires once idle


@needs_redis
async def test_the_script_is_reloaded_after_script_flush(client: aioredis.Redis, key: str) -> None:
    limiter = RedisWindowLimiter(client, key, 5)
    assert await take(limiter) == 0.0
    await client.script_flush()
    assert await take(limiter) == 0.0  # EVALSHA fails with NOSCRIPT, then EVAL loads it


@needs_redis
async def test_a_probe_checks_the_script_without_taking_a_grant(client: aioredis.Redis, key: str) -> None:
    limiter = RedisWindowLimiter(client, key, 2)
    assert await limiter.check() is True
    assert await grants(client, key) == 0
    assert await take(limiter) == 0.0
    assert await limiter.check() is True
    assert await grants(client, key) == 1


@needs_redis
async def test_a_lost_log_counts_as_a_full_window(client: aioredis.Redis, key: str) -> None:
    """A key that vanished (flushed, evicted, never written) may have held grants: no client may
    take any for one span, and the wait says so."""
    limiter = RedisWindowLimiter(client, key, 15, window=1.0, margin=0.06)
    assert await take(limiter) == 0.0
    await client.delete(key)
    assert await take(limiter) == pytest.approx(1.06)
    other = RedisWindowLimiter(client, key, 15, window=1.0, margin=0.06)
    assert 1.0 < await take(other) <= 1.06  # the same for every client
    assert await grants(client, key) == 15  # placeholders, at the time the loss was seen


@needs_redis_server
async def test_a_restarted_redis_does_not_grant_the_window_twice(private_redis: RedisServer) -> None:
    """Killed and started again between two calls: the pooled connection reconnects at once (one
    retry), so no error is seen, but the script sees a new run_id and refuses for one span.
    Before, the empty log granted all 15 again at once: 30 calls within a few milliseconds."""
    c = connect(private_redis.url)
    try:
        key = "vodgw:limit:restart"
        await trust(c, key)
        limiter = RedisWindowLimiter(c, key, 15, window=1.0, margin=0.06)
        assert [await take(limiter) for _ in range(15)] == [0.0] * 15
        private_redis.restart()
        waits = [await take(limiter) for _ in range(15)]
        assert waits[0] == pytest.approx(1.06) and all(w > 1.0 for w in waits)
    finally:
        await c.aclose()


@needs_redis_server
async def test_the_script_works_where_info_is_not_allowed(private_redis: RedisServer) -> None:
    """INFO is in @dangerous, which managed Redis ACLs often deny: the script then keeps a marker
    of its own, so it still notices a lost key (but not a restart that kept its data)."""
    admin = redis.Redis.from_url(private_redis.url)
    admin.execute_command("ACL", "SETUSER", "limited", "on", ">pw-7c1", "~*", "+@all", "-info")
    admin.close()
    c = connect(f"redis://limited:pw-7c1@127.0.0.1:{private_redis.port}/0")
    key = "vodgw:limit:acl"
    try:
        limiter = RedisWindowLimiter(c, key, 3, window=1.0)
        assert await take(limiter) == pytest.approx(1.0)  # no log yet: a full window
        assert await c.zscore(key, "run:?") == float("inf")
        await c.zremrangebyscore(key, "-inf", "(inf")  # one span later
        assert [await take(limiter) for _ in range(4)][:3] == [0.0, 0.0, 0.0]
        await c.delete(key)
        assert await take(limiter) == pytest.approx(1.0)
    finally:
        await c.aclose()


def test_share_is_floor_of_qps_over_replicas() -> None:
    assert share_of(15, 1) == 15
    assert share_of(15, 3) == 5
    assert share_of(15, 4) == 3
    assert share_of(15, 40) == 1


# ---- degraded mode --------------------------------------------------------------------------------


HOLD = 0.5  # the longest an attempt may take, here: settling lasts this much longer


def failover(url: str, clock: ManualClock, changes: list[bool], share: int = 5) -> FailoverLimiter:
    """The gateway's wiring: the link probes with the limiter's own script."""
    c = connect(url)
    shared = RedisWindowLimiter(c, f"vodgw-test:{uuid.uuid4().hex}:limit", 15, window=1.0, margin=0.06)
    link = RedisLink(c, clock, on_change=changes.append, local_qps=share, check=shared.check)
    clock.also_wait_for(link.probed)  # a probe is real I/O: it ends before time moves on
    return FailoverLimiter(shared, link, clock, share=share, window=1.0, margin=0.06, hold=HOLD)


async def probe_due(limiter: FailoverLimiter) -> None:
    """A due probe runs in the background, never inside a grant (``RedisLink.probe_if_due``):
    start it and wait for its end, as the passing of real time would."""
    limiter._link.probe_if_due()
    await limiter._link.probed()


async def trust_limiter(limiter: FailoverLimiter) -> None:
    """A Redis that kept the log (a healed partition), not an empty one that restarted: Redis's
    own clock doesn't follow the tests' ManualClock, so its full window would never pass."""
    await trust(limiter._link.client, limiter._shared.key)


async def grants_now(limiter: FailoverLimiter, attempts: int = 20) -> int:
    return sum([await take(limiter) == 0 for _ in range(attempts)])


@needs_redis_server
async def test_unreachable_redis_enters_degraded_mode_without_a_burst(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, changes = ManualClock(), []
    limiter = failover(f"redis://127.0.0.1:{free_port()}/0", clock, changes)
    with caplog.at_level(logging.WARNING, logger="gateway.redis"):
        assert await take(limiter) == pytest.approx(1.06)  # pre-filled: nothing at the switch
    assert changes == [True]
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "entering degraded mode; local limit 5 calls/s" in caplog.records[0].getMessage()
    await clock.advance(1.06)
    assert await grants_now(limiter) == 5  # the local share per window, no more
    await clock.advance(0.5)
    assert await grants_now(limiter) == 0
    await clock.advance(0.56)
    assert await grants_now(limiter) == 5
    assert changes == [True]  # one warning and one gauge change per outage
    await limiter._link.client.aclose()


@needs_redis_server
async def test_probes_at_most_once_per_interval_and_switches_back(caplog: pytest.LogCaptureFixture) -> None:
    server = RedisServer()
    clock, changes = ManualClock(), []
    limiter = failover(server.url, clock, changes)
    pings = 0
    real_ping = limiter._link.ping

    async def counting_ping() -> bool:
        nonlocal pings
        pings += 1
        return await real_ping()

    limiter._link.ping = counting_ping  # type: ignore[method-assign]
    try:
        await take(limiter)
        assert changes == [True]
        for _ in range(5):
            await clock.advance(0.3)
            await take(limiter)
            await limiter._link.probed()
        assert pings == 1  # 1.5 s in degraded mode: one probe (at 1 s, in the background), failed
        server.start()
        await trust_limiter(limiter)
        await clock.advance(0.4)
        await take(limiter)
        await limiter._link.probed()
        assert pings == 1  # 1.9 s: not yet due again
        await clock.advance(0.2)  # 2.1 s: the next probe is due
        with caplog.at_level(logging.WARNING, logger="gateway.redis"):
            await probe_due(limiter)
            assert await take(limiter) == 0  # granted by both windows
        assert changes == [True, False]
        assert "leaving degraded mode" in caplog.records[-1].getMessage()
        assert pings == 2
        # settling: Redis would grant 15, but the local share still binds until every replica
        # has noticed and every call granted locally may have been answered and left the window
        assert limiter.local is not None
        await clock.advance(1.06)
        assert await grants_now(limiter) == 5
        await clock.advance(1.0 + TIMEOUT + 0.1)
        assert limiter.local is not None  # a call granted in the outage may still be out:
        assert await grants_now(limiter) == 5  # still the share per window, not Redis's 15
        await clock.advance(HOLD)
        assert await grants_now(limiter) == 15 - 1 - 5 - 5  # Redis alone; it saw the settling grants
        assert limiter.local is None
    finally:
        server.stop()
        await limiter._link.client.aclose()


@needs_redis_server
async def test_redis_dying_while_healthy_switches_to_a_prefilled_local_share(
    private_redis: RedisServer,
) -> None:
    clock, changes = ManualClock(), []
    limiter = failover(private_redis.url, clock, changes)
    await trust_limiter(limiter)
    try:
        assert await grants_now(limiter, 3) == 3  # through Redis
        assert changes == []
        private_redis.stop()
        assert await take(limiter) == pytest.approx(1.06)
        assert changes == [True]
        assert await grants_now(limiter) == 0
    finally:
        await limiter._link.client.aclose()


@needs_redis_server
async def test_redis_failing_while_settling_starts_from_a_full_window(private_redis: RedisServer) -> None:
    """Back from one outage, still settling (the local share binds too, and it is unused): Redis
    fails again. Other replicas may have taken all 15 through Redis in this very window, so no
    local grant may stand. Before, the settling window carried on: up to 15 + 5 in one window."""
    clock, changes = ManualClock(), []
    limiter = failover(private_redis.url, clock, changes)
    try:
        private_redis.stop()
        await take(limiter)
        private_redis.start()
        await trust_limiter(limiter)
        await clock.advance(1.06)
        await probe_due(limiter)
        assert await take(limiter) == 0  # probed, back, settling: granted by both
        assert changes == [True, False] and limiter.local is not None
        await clock.advance(1.06)  # the local grants have left its window
        private_redis.stop()
        assert await take(limiter) == pytest.approx(1.06)  # the failing call: refused
        assert changes == [True, False, True]
        assert await grants_now(limiter) == 0  # a fresh, full local window
        await clock.advance(1.06)
        assert await grants_now(limiter) == 5
    finally:
        await limiter._link.client.aclose()


@needs_redis_server
async def test_an_outage_seen_first_by_the_cache_also_starts_from_a_full_window(
    private_redis: RedisServer,
) -> None:
    """The cache's failed read can put the link in degraded mode before the limiter calls Redis:
    the limiter's settling window must not carry over into that outage either."""
    clock, changes = ManualClock(), []
    limiter = failover(private_redis.url, clock, changes)
    link = limiter._link
    try:
        private_redis.stop()
        await take(limiter)
        private_redis.start()
        await trust_limiter(limiter)
        await clock.advance(1.06)
        await probe_due(limiter)
        assert await take(limiter) == 0  # settling
        await clock.advance(1.06)
        link.failed(ConnectionError("a cache read failed"))  # what RedisCache does
        assert await grants_now(limiter) == 0
        await clock.advance(1.06)
        assert await grants_now(limiter) == 5
    finally:
        await link.client.aclose()


@needs_redis_server
async def test_a_redis_that_answers_ping_but_not_the_script_stays_degraded(
    private_redis: RedisServer,
) -> None:
    """Recovery means the script runs again. A Redis that PINGs but refuses EVALSHA (an ACL, an
    out-of-memory or read-only replica) keeps the replica on its local share, instead of
    flapping in and out of degraded mode every probe interval, each time from a full window."""
    clock, changes = ManualClock(), []
    limiter = failover(private_redis.url, clock, changes)
    await trust_limiter(limiter)
    admin = redis.Redis.from_url(private_redis.url)
    try:
        assert await take(limiter) == 0
        admin.execute_command("ACL", "SETUSER", "default", "-evalsha", "-eval")
        assert await take(limiter) == pytest.approx(1.06)
        assert changes == [True]
        for _ in range(3):
            await clock.advance(1.06)  # a probe is due each time, and fails
            await probe_due(limiter)
            assert await grants_now(limiter) == 5
        assert changes == [True] and limiter._link.degraded
        admin.execute_command("ACL", "SETUSER", "default", "+@all")
        await clock.advance(1.06)
        await probe_due(limiter)
        assert await take(limiter) == 0
        assert changes == [True, False]
    finally:
        admin.close()
        await limiter._link.client.aclose()


@needs_redis
async def test_a_call_still_out_counts_until_its_answer(client: aioredis.Redis, key: str) -> None:
    """The upstream may count a call any time before its answer: it holds its place till then,
    and one span after."""
    limiter = RedisWindowLimiter(client, key, 2, window=1.0, margin=0.06, hold=30.0)
    wait, first, _ = await limiter.acquire_at()
    assert wait == 0 and first is not None
    assert (await limiter.acquire_at())[1] is not None
    assert await take(limiter) == RECHECK  # both out: nothing is known yet
    await first.release()
    await limiter.drain()
    wait = await take(limiter)
    assert 1.0 < wait <= 1.06  # one span after that answer
    assert await grants(client, key) == 2


@needs_redis
async def test_a_grant_whose_replica_died_mid_call_frees_after_its_hold(
    client: aioredis.Redis, key: str
) -> None:
    limiter = RedisWindowLimiter(client, key, 1, window=0.05, margin=0.0, hold=0.2)
    wait, grant, granted_at = await limiter.acquire_at()
    assert wait == 0 and grant is not None  # and never released: the process is gone
    assert await take(limiter) == RECHECK
    end = await client.zscore(key, f"{limiter._member}0")
    assert end == pytest.approx((granted_at + 0.25) * 1e6, abs=2)  # hold + span
    await eventually_async(lambda: past(client, end / 1e6), 5.0, "Redis's clock past the grant's end")
    assert await take(limiter) == 0.0


@needs_redis
async def test_a_release_after_the_log_was_lost_puts_the_call_back(client: aioredis.Redis, key: str) -> None:
    """A restart (without persistence) forgot a call that was still out: its release adds it back,
    counting one span from its answer, beside the placeholders of the lost window."""
    limiter = RedisWindowLimiter(client, key, 3, window=1.0, margin=0.06, hold=30.0)
    _, grant, _ = await limiter.acquire_at()
    assert grant is not None
    await client.delete(key)
    await grant.release()
    await limiter.drain()
    before = await redis_time(client)
    end = await client.zscore(key, f"{limiter._member}0")
    assert end is not None and before < end / 1e6 <= before + 1.06
    assert 0 < await client.pttl(key)
    assert await take(limiter) == pytest.approx(1.06, abs=0.01)  # the placeholders fill the window


@needs_redis
async def test_a_release_redis_missed_is_sent_again_when_it_answers(client: aioredis.Redis, key: str) -> None:
    limiter = RedisWindowLimiter(client, key, 2, window=1.0, hold=30.0)
    _, grant, _ = await limiter.acquire_at()
    assert grant is not None
    script = limiter._script

    async def failing(*args: object, **kwargs: object) -> object:
        raise redis.exceptions.ConnectionError("Redis went away")

    limiter._script = failing  # type: ignore[assignment]
    await grant.release()  # returns at once; the release fails in the background
    await limiter.drain()
    assert limiter._unreleased == [f"{limiter._member}0"]
    held = await client.zscore(key, f"{limiter._member}0")
    limiter._script = script
    assert await take(limiter) == 0.0  # the next script that runs sends it again
    await limiter.drain()
    assert limiter._unreleased == []
    assert await client.zscore(key, f"{limiter._member}0") < held  # now one span from its release
