"""Over HTTP, against the strict emulator: an interactive client's IDs overtake a saturating bulk
load. The test asserts on the order in which the emulator saw the IDs, never on wall-clock time."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable

import httpx

from tests.support.harness import Emulator, Gateway
from tests.support.waits import eventually_async

QUERY = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId } }"
CACHES_OFF = {
    "GATEWAY_CACHE_TTL_ACTIVE": "0",
    "GATEWAY_CACHE_TTL_TERMINAL": "0",
    "GATEWAY_CACHE_TTL_NOT_FOUND": "0",
    "GATEWAY_RESPONSE_CACHE_TTL": "0",
}
BULK_CLIENTS, BULK_IDS, INTERACTIVE = 20, 50, 5
# 20 x 50 IDs at most queued: ~7 s at the account's 150 IDs/s, under VOD_MAX_WAIT, so no bulk
# operation is refused early and the queue stays long
LONG_QUEUE = 500
"""Bulk IDs waiting when an interactive ID is asked: first come, first served, it would go out
behind them, 50 calls or more later."""
WITHIN = 15 + 1
"""Calls the emulator may see after an interactive request is sent, up to the one with its ID: at
most a window's worth (VOD_QPS) granted already and on their way, then the next."""


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 60.0) -> None:
    """A safety net against hanging, not a timing assertion."""
    await eventually_async(condition, timeout, what)


async def waiting_ids(client: httpx.AsyncClient, gateway: Gateway) -> float:
    text = (await client.get(gateway.url + "/metrics")).text
    match = re.search(r'^gateway_tenant_ids_waiting\{tenant="open"\} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def first_call_with(emulator: Emulator, video_id: str) -> int:
    records = emulator.state.stats.records
    return next(n for n, r in enumerate(records) if video_id in r.video_ids)


async def test_interactive_ids_go_out_ahead_of_the_bulk_queue(
    make_emulator: Callable[..., Emulator], make_gateway: Callable[..., Gateway]
) -> None:
    emulator = make_emulator(latency_ms=(20.0, 60.0))
    gateway = make_gateway(emulator, **CACHES_OFF)
    catalogue = emulator.state.catalogue.ids
    bulk_ids, fresh = catalogue[:500], catalogue[500 : 500 + INTERACTIVE]
    stop = asyncio.Event()
    rng = random.Random(7)
    bulk_errors: list[str] = []

    async def bulk(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            wanted = rng.sample(bulk_ids, BULK_IDS)
            body = (
                await client.post(gateway.graphql_url, json={"query": QUERY, "variables": {"ids": wanted}})
            ).json()
            codes = {e["extensions"]["code"] for e in body.get("errors") or ()}
            bulk_errors.extend(codes - {"VIDEO_NOT_FOUND"})  # the catalogue has gaps

    limits = httpx.Limits(max_connections=BULK_CLIENTS + 5)
    async with httpx.AsyncClient(timeout=60.0, limits=limits) as client:
        loads = [asyncio.create_task(bulk(client)) for _ in range(BULK_CLIENTS)]
        try:
            queued: list[float] = []
            order: list[int] = []
            overtaken: list[float] = []

            async def long_queue() -> bool:
                queued.append(await waiting_ids(client, gateway))
                return queued[-1] >= LONG_QUEUE

            for video_id in fresh:
                await wait_until(long_queue, "a long bulk queue")
                overtaken.append(queued[-1])
                before = emulator.state.stats.calls
                response = await client.post(
                    gateway.graphql_url, json={"query": QUERY, "variables": {"ids": [video_id]}}
                )
                body = response.json()
                assert {e["extensions"]["code"] for e in body.get("errors") or ()} <= {"VIDEO_NOT_FOUND"}
                seen = first_call_with(emulator, video_id)
                assert seen - before <= WITHIN, (video_id, before, seen, overtaken[-1])
                order.append(seen - before)
        finally:
            stop.set()
            await asyncio.gather(*loads)
    assert min(overtaken) >= LONG_QUEUE  # every interactive ID overtook that many bulk IDs waiting
    assert len(order) == INTERACTIVE
    assert bulk_errors == []
    assert emulator.state.stats.throttled == 0
