"""The Redis summary cache: compact records that come back equal, TTLs by status, errors never
cached, a failing Redis is a counted miss; and the wiring (shared by two gateways, /readyz, the
start-up check)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from gateway.config.settings import SettingsError, load_settings
from gateway.emulator.config import AccessKey
from gateway.emulator.model import ALL_SUCCEEDED, PROCESSING
from gateway.loading import codec, shared
from gateway.loading.cache import CacheTTLs, Outcome
from gateway.loading.redis_cache import RedisCache
from gateway.loading.redis_limiter import limit_key
from gateway.loading.redis_link import RedisLink, connect
from gateway.loading.shared import check_redis
from gateway.vod.errors import NoResponse, VideoNotFound
from gateway.vod.models import SummaryStatus
from tests.support.clock import ManualClock
from tests.support.harness import Emulator, Gateway
from tests.support.processes import free_port
from tests.support.records import rec, records
from tests.support.redis import REDIS_URL, RedisServer, needs_redis, needs_redis_server, trust
from tests.support.waits import eventually

TTLS = CacheTTLs(active=2, terminal=30, not_found=5)


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    c = connect(REDIS_URL)
    yield c
    await c.aclose()


@pytest.fixture
async def prefix(client: aioredis.Redis) -> AsyncIterator[str]:
    name = f"vodgw-test:{uuid.uuid4().hex}:"
    yield name
    keys = [k async for k in client.scan_iter(match=name + "*")]
    if keys:
        await client.delete(*keys)


@needs_redis
async def test_put_then_get_returns_equal_outcomes(client: aioredis.Redis, prefix: str) -> None:
    cache = RedisCache(client, TTLS, account="LTAI-a", prefix=prefix)
    found = records(40)
    outcomes: dict[str, Outcome] = {r.video_id: r for r in found}
    outcomes["gone"] = VideoNotFound("gone")
    outcomes["broken"] = NoResponse("down")
    await cache.put_many(outcomes)
    ids = ["nothing-here", *outcomes]
    got = await cache.get_many(ids)
    assert set(got) == set(outcomes) - {"broken"}
    for record in found:
        assert got[record.video_id] == record
    assert isinstance(got["gone"], VideoNotFound) and got["gone"].video_id == "gone"
    assert await client.exists(cache.key("broken")) == 0


@needs_redis
async def test_entries_expire_by_status(client: aioredis.Redis, prefix: str) -> None:
    cache = RedisCache(client, CacheTTLs(active=2, terminal=30, not_found=0), account="LTAI-a", prefix=prefix)
    await cache.put_many(
        {
            "p": rec("p", SummaryStatus.PROCESSING),
            "u": rec("u", SummaryStatus.UNKNOWN),
            "t": rec("t", SummaryStatus.COMPLETE_ALL_SUCC),
            "n": VideoNotFound("n"),  # not-found TTL 0: not cached
        }
    )
    pttl = {k: await client.pttl(cache.key(k)) for k in ("p", "u", "t", "n")}
    assert 1_000 < pttl["p"] <= 2_000 and 1_000 < pttl["u"] <= 2_000
    assert 29_000 < pttl["t"] <= 30_000
    assert pttl["n"] == -2
    assert len(codec.encode(rec("p", SummaryStatus.PROCESSING)) or b"") < 60  # compact


@needs_redis
async def test_an_unreadable_entry_is_a_counted_miss(client: aioredis.Redis, prefix: str) -> None:
    errors: list[tuple[str, int]] = []
    cache = RedisCache(
        client, TTLS, account="LTAI-a", prefix=prefix, on_error=lambda op, n: errors.append((op, n))
    )
    await client.set(cache.key("a"), b"\x00garbage", px=5_000)
    assert await cache.get_many(["a"]) == {}
    assert errors == [("decode", 1)]


async def test_a_dead_redis_is_a_counted_miss_and_enters_degraded_mode() -> None:
    errors: list[tuple[str, int]] = []
    changes: list[bool] = []
    clock = ManualClock()
    client = connect(f"redis://127.0.0.1:{free_port()}/0")
    link = RedisLink(client, clock, on_change=changes.append)
    cache = RedisCache(
        client, TTLS, account="LTAI-a", link=link, on_error=lambda op, n: errors.append((op, n))
    )
    try:
        await cache.put_many({"a": rec("a", SummaryStatus.COMPLETE_ALL_SUCC)})  # dropped, no raise
        assert changes == [True] and errors == [("put", 1)]
        assert await cache.get_many(["a", "b", "a"]) == {}  # skipped while degraded: no timeout
        assert errors == [("put", 1), ("get", 2)]
    finally:
        await client.aclose()


# ---- wiring ---------------------------------------------------------------------------------------


@needs_redis
def test_two_gateways_share_the_cache_and_another_account_does_not(
    make_emulator: Callable[..., Emulator], make_gateway: Callable[..., Gateway]
) -> None:
    """Two replicas of one account share entries; a gateway of another AccessKeyId on the same
    Redis doesn't read them (before, the key was the video ID alone). Both accounts are this
    test's own, so are all the keys it makes and deletes."""
    tag = uuid.uuid4().hex[:10]
    accounts = [AccessKey(f"LTAI-share-{tag}-{n}", uuid.uuid4().hex) for n in "ab"]
    emulator = make_emulator(keys=tuple(accounts))
    env = {"GATEWAY_REDIS_URL": REDIS_URL, "GATEWAY_RESPONSE_CACHE_TTL": "0"}
    mine, theirs = (
        {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": a.access_key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": a.secret,
            **env,
        }
        for a in accounts
    )
    first, second, other = (
        make_gateway(emulator, **mine),
        make_gateway(emulator, **mine),
        make_gateway(emulator, **theirs),
    )
    ids = emulator.ids(ALL_SUCCEEDED, 3) + emulator.ids(PROCESSING, 2) + [emulator.missing_id]
    query = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus } }"
    try:
        a = first.query(query, {"ids": ids})
        calls = emulator.accepted_calls
        b = second.query(query, {"ids": ids})
        assert emulator.accepted_calls == calls  # all six from Redis, the not-found one too
        assert a == b
        assert a["data"]["transcodeSummaries"][:5] == [
            {"videoId": i, "transcodeStatus": s}
            for i, s in zip(ids[:5], ["COMPLETE_ALL_SUCC"] * 3 + ["PROCESSING"] * 2, strict=True)
        ]
        metrics = httpx.get(second.url + "/metrics").text
        assert 'gateway_cache_lookups_total{result="hit"} 6.0' in metrics
        ready = httpx.get(second.url + "/readyz").json()
        assert ready["checks"]["redis"] == "ok"
        other.query(query, {"ids": ids})
        assert emulator.accepted_calls == calls + 1  # its own call: nothing from the other account
        assert 'result="hit"' not in httpx.get(other.url + "/metrics").text
    finally:
        plain = redis.Redis.from_url(REDIS_URL)
        keys = list(plain.scan_iter(match=f"vodgw:*LTAI-share-{tag}-*"))
        if keys:
            plain.delete(*keys)
        plain.close()


def test_readyz_stays_ready_but_degraded_when_redis_is_unreachable(
    make_emulator: Callable[..., Emulator], make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(make_emulator(), GATEWAY_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = httpx.get(gateway.url + "/readyz")
    assert response.status_code == 200  # it still answers, within its local share: don't drain it
    assert response.json() == {"status": "degraded", "checks": {"upstream": "ok", "redis": "unreachable"}}


async def test_start_up_check_fails_with_one_line_and_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    settings = load_settings({"GATEWAY_REDIS_URL": f"redis://admin:s3cret-pw@127.0.0.1:{port}/2"})
    with pytest.raises(SettingsError) as caught:
        await check_redis(settings)
    message = str(caught.value)
    assert message == (
        f"GATEWAY_REDIS_URL: Redis at redis://127.0.0.1:{port}/2 does not answer (ConnectionError); "
        "start it, or unset GATEWAY_REDIS_URL to run a single replica without it"
    )
    assert "s3cret" not in repr(settings)
    with pytest.raises(SettingsError, match="not a redis://"):
        await check_redis(load_settings({"GATEWAY_REDIS_URL": "http://127.0.0.1:6379"}))

    def no_client(*args: object) -> None:
        raise AssertionError("check_redis connected although no Redis is configured")

    monkeypatch.setattr(shared, "_redis_client", no_client)
    assert await check_redis(load_settings({})) is None  # no Redis configured: nothing to check


@needs_redis
async def test_start_up_check_passes_with_redis() -> None:
    await check_redis(load_settings({"GATEWAY_REDIS_URL": REDIS_URL}))
    env = {"GATEWAY_REDIS_URL": REDIS_URL, "ALIBABA_CLOUD_ACCESS_KEY_ID": f"LTAI-check-{uuid.uuid4().hex}"}
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "not-a-secret"
    try:
        await check_redis(load_settings(env))  # and the limiter's script runs there
    finally:
        plain = redis.Redis.from_url(REDIS_URL)
        plain.delete(limit_key(env["ALIBABA_CLOUD_ACCESS_KEY_ID"]))
        plain.close()


@needs_redis_server
async def test_start_up_check_tells_a_refused_login_from_an_absent_redis() -> None:
    server = RedisServer(password="right-pw-41")
    server.start()
    try:
        for auth in (":wrong-pw-42@", ""):
            url = f"redis://{auth}127.0.0.1:{server.port}/0"
            with pytest.raises(SettingsError) as caught:
                await check_redis(load_settings({"GATEWAY_REDIS_URL": url}))
            assert str(caught.value) == (
                f"GATEWAY_REDIS_URL: Redis at redis://127.0.0.1:{server.port}/0 refuses the login "
                "(AuthenticationError); check the user name and password in the URL"
            )
        await check_redis(load_settings({"GATEWAY_REDIS_URL": server.url}))
    finally:
        server.stop()


@needs_redis
async def test_start_up_check_keeps_the_grants_of_the_running_replicas(client: aioredis.Redis) -> None:
    """The check runs the script on the account's live log: it drops only what the limiter would."""
    account = f"LTAI-check-{uuid.uuid4().hex}"
    key = limit_key(account)
    try:
        await trust(client, key)
        seconds, micros = await client.time()
        now = seconds * 1e6 + micros  # members are scored with when they stop counting
        await client.zadd(key, {"counting": now + 0.02e6, "out": now + 30e6, "done": now - 0.01e6})
        env = {"GATEWAY_REDIS_URL": REDIS_URL, "ALIBABA_CLOUD_ACCESS_KEY_ID": account}
        await check_redis(load_settings({**env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "not-a-secret"}))
        assert await client.zscore(key, "counting") is not None  # answered 0.99 s ago: still counts
        assert await client.zscore(key, "out") is not None  # a call still out on a running replica
        assert await client.zscore(key, "done") is None
    finally:
        await client.delete(key)


@needs_redis_server
async def test_start_up_check_fails_when_redis_refuses_the_script(private_redis: RedisServer) -> None:
    """A Redis that answers PING but not EVALSHA (an ACL, a proxy without Lua) would put every
    replica in degraded mode for good: refuse to start instead, with one line."""
    admin = redis.Redis.from_url(private_redis.url)
    admin.execute_command("ACL", "SETUSER", "gw", "on", ">gw-pw-93", "~*", "+@all", "-evalsha", "-eval")
    admin.close()
    env = {
        "GATEWAY_REDIS_URL": f"redis://gw:gw-pw-93@127.0.0.1:{private_redis.port}/0",
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI-check",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "not-a-secret",
    }
    with pytest.raises(SettingsError) as caught:
        await check_redis(load_settings(env))
    assert str(caught.value) == (
        f"GATEWAY_REDIS_URL: Redis at redis://127.0.0.1:{private_redis.port}/0 answers but refuses "
        "the limiter's Lua script (NoPermissionError); it needs EVAL/EVALSHA and Redis 5 or later"
    )


@needs_redis_server
def test_an_idle_replica_switches_back_on_its_readiness_probe(
    private_redis: RedisServer, make_emulator: Callable[..., Emulator], make_gateway: Callable[..., Gateway]
) -> None:
    """Redis returns while no lookups arrive: /readyz probes it (at most once a second), so the
    gauge doesn't keep saying degraded until the next query."""
    emulator = make_emulator()
    gateway = make_gateway(emulator, GATEWAY_REDIS_URL=private_redis.url, GATEWAY_RESPONSE_CACHE_TTL="0")
    query = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId } }"

    def degraded() -> str:
        text = httpx.get(gateway.url + "/metrics").text
        return next(ln for ln in text.splitlines() if ln.startswith("gateway_degraded_mode "))

    gateway.query(query, {"ids": emulator.ids(ALL_SUCCEEDED, 1)})
    private_redis.stop()
    gateway.query(query, {"ids": emulator.ids(PROCESSING, 1)})  # the cache read fails: degraded
    assert degraded() == "gateway_degraded_mode 1.0"
    assert httpx.get(gateway.url + "/readyz").json()["status"] == "degraded"
    private_redis.start()

    def probed_back() -> bool:
        httpx.get(gateway.url + "/readyz")  # the readiness probe is what switches back
        return degraded() == "gateway_degraded_mode 0.0"

    eventually(probed_back, 5.0, "back from degraded mode on a readiness probe")
    assert httpx.get(gateway.url + "/readyz").json() == {
        "status": "ok",
        "checks": {"upstream": "ok", "redis": "ok"},
    }
