"""A frozen Redis (SIGSTOP: the process stopped, its TCP port open, nothing answering) stalls no
lookup: every Redis call has a short deadline (GATEWAY_REDIS_TIMEOUT), the first one that runs out
puts the gateway in degraded mode, and the probe runs in the background. Throughput stays at least
half of normal, and the upstream never sees more than the account's limit in any second.

A real gateway process, a private redis-server that the test stops and continues, and the
in-process emulator (strict: 15 calls per second, which it counts)."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx
import pytest

from tests.support.harness import Emulator
from tests.support.processes import gateway
from tests.support.redis import RedisServer, needs_redis_server
from tests.support.waits import eventually

pytestmark = pytest.mark.slow

QUERY = "query($id: ID!) { transcodeSummary(videoId: $id) { videoId transcodeStatus } }"
SPELL = 4.0  # seconds of load in each phase
WORKERS = 12
NO_CACHE = {
    "GATEWAY_CACHE_TTL_ACTIVE": "0",
    "GATEWAY_CACHE_TTL_TERMINAL": "0",
    "GATEWAY_CACHE_TTL_NOT_FOUND": "0",
    "GATEWAY_RESPONSE_CACHE_TTL": "0",
}


async def load(url: str, ids: list[str], seconds: float) -> tuple[int, float, int]:
    """(answered operations, the slowest in seconds, answers without their record) in ``seconds``."""
    done = slowest = missing = 0
    end = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done, slowest, missing
        while time.monotonic() < end:
            started = time.monotonic()
            body = {"query": QUERY, "variables": {"id": random.choice(ids)}}
            response = await client.post(url, json=body, timeout=15.0)
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 200, response.text
            done += 1
            missing += response.json()["data"]["transcodeSummary"] is None

    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(worker(client) for _ in range(WORKERS)))
    return done, slowest, missing


@needs_redis_server
def test_a_frozen_redis_keeps_half_the_throughput_and_the_limit(
    tmp_path: Path, emulator: Emulator, private_redis: RedisServer
) -> None:
    ids = emulator.ids("CompleteAllSucc", 100)
    env = {"GATEWAY_REDIS_URL": private_redis.url, "GATEWAY_LOG_LEVEL": "WARNING", **NO_CACHE}
    with gateway(tmp_path / "gw.log", emulator.url, **env) as gw:
        url = gw.url + "/graphql"
        asyncio.run(load(url, ids, 1.0))  # warm up
        normal, normal_slowest, normal_missing = asyncio.run(load(url, ids, SPELL))
        private_redis.freeze()
        try:
            frozen, frozen_slowest, frozen_missing = asyncio.run(load(url, ids, SPELL))
            degraded = httpx.get(gw.url + "/metrics").text
        finally:
            private_redis.thaw()
        print(f"normal {normal / SPELL:.0f}/s (slowest {normal_slowest:.2f} s); "
              f"frozen {frozen / SPELL:.0f}/s (slowest {frozen_slowest:.2f} s)")  # fmt: skip
        assert "gateway_degraded_mode 1.0" in degraded
        assert frozen >= normal / 2, f"frozen Redis: {frozen} operations against {normal} before"
        # one Redis deadline and the pre-filled local window at the switch, not a second per probe
        assert frozen_slowest < 3.0
        assert normal_missing == frozen_missing == 0
        # back: the background probe notices, the gateway leaves degraded mode by itself
        eventually(
            lambda: "gateway_degraded_mode 0.0" in httpx.get(gw.url + "/metrics").text,
            10.0,
            "out of degraded mode after Redis continued",
        )
        assert asyncio.run(load(url, ids, 1.0))[2] == 0
        gw.assert_clean_log()
    assert emulator.state.stats.throttled == 0
    assert emulator.state.stats.max_calls_in_any_window(1.0) <= 15
