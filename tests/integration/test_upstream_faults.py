"""Upstream faults under concurrent load, over real loopback HTTP: every affected item gets its typed
error, every other item is exactly right, nothing hangs past its timeouts, and the gateway recovers at
once when the faults stop.

Every video ID is asked for once in the whole test and the caches are off, so each ID travels in
exactly one batch: the emulator's own record of that batch's attempts says what the item must be.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gateway.emulator.catalogue import Catalogue
from gateway.emulator.config import FaultRates
from gateway.emulator.stats import CallRecord
from gateway.schema.types import TranscodeJobStatus, TranscodeStatus
from gateway.vod.models import parse_summary
from tests.support.clock import ManualClock
from tests.support.harness import Emulator, Gateway
from tests.support.waits import eventually_async

CLIENTS = 40
OPERATIONS = 8  # per client
FOUND, MISSING = 3, 1  # IDs per operation
TIMEOUT, MAX_WAIT = 0.5, 3.0
NO_CACHE = {
    "GATEWAY_CACHE_TTL_ACTIVE": "0",
    "GATEWAY_CACHE_TTL_TERMINAL": "0",
    "GATEWAY_CACHE_TTL_NOT_FOUND": "0",
    "GATEWAY_RESPONSE_CACHE_TTL": "0",
}
FIELDS = "videoId transcodeStatus progress jobs { transcodeJobStatus fileSize }"
UNAVAILABLE_FAULTS = {"5xx", "hang", "garbage", "reset"}


def operation(ids: list[str]) -> str:
    aliases = " ".join(f'v{n}: transcodeSummary(videoId: "{i}") {{ {FIELDS} }}' for n, i in enumerate(ids))
    return "{ " + aliases + " }"


def expected_item(emulator: Emulator, video_id: str) -> dict[str, Any] | None:
    """What the gateway must answer for a video the upstream did answer (None: not found)."""
    raw, _ = emulator.state.catalogue.summaries([video_id])
    if not raw:  # unknown, or no task in the past year: the gateway says VIDEO_NOT_FOUND
        return None
    record = parse_summary(raw[0])
    assert record is not None
    return {
        "videoId": video_id,
        "transcodeStatus": TranscodeStatus(record.status.value).name,
        "progress": record.progress,
        "jobs": [
            {"transcodeJobStatus": TranscodeJobStatus(j.status.value).name, "fileSize": j.file_size}
            for j in record.jobs
        ],
    }


def last_attempts(records: list[CallRecord]) -> dict[str, CallRecord]:
    """Per video ID, the last attempt of the one batch that carried it."""
    last: dict[str, CallRecord] = {}
    for record in records:
        for video_id in record.video_ids:
            last[video_id] = record
    return last


@pytest.fixture
def faulty(
    make_emulator: Callable[..., Emulator], make_gateway: Callable[..., Gateway]
) -> tuple[Emulator, Gateway]:
    emulator = make_emulator(
        catalogue_size=2000,
        qps=0,  # unlimited: the faults are the point here, not the account's rate
        latency_ms=(0.0, 5.0),
        faults=FaultRates(server_error=0.10, hang=0.02, garbage=0.05, reset=0.01),
    )
    # emulated time stands still, so what the upstream answered is still what it answers now
    emulator.state.catalogue = Catalogue.generate(2000, 1, ManualClock())
    gateway = make_gateway(
        emulator, VOD_QPS="1000", VOD_TIMEOUT=str(TIMEOUT), VOD_MAX_WAIT=str(MAX_WAIT), **NO_CACHE
    )
    return emulator, gateway


async def drive(gateway: Gateway, batches: list[list[list[str]]]) -> tuple[list[dict[str, Any]], list[float]]:
    """Each client sends its operations one after another; all clients at once."""
    bodies: list[dict[str, Any]] = []
    latencies: list[float] = []
    hang_guard = 3 * (MAX_WAIT + 2 * TIMEOUT)  # far past any legitimate answer: a hang fails the test

    async def client(operations: list[list[str]]) -> None:
        async with httpx.AsyncClient(timeout=hang_guard) as http:
            for ids in operations:
                started = time.perf_counter()
                response = await http.post(gateway.graphql_url, json={"query": operation(ids)})
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
                bodies.append({"ids": ids, **response.json()})

    await asyncio.gather(*(client(ops) for ops in batches))
    return bodies, latencies


async def test_every_item_is_right_or_typed_as_its_batch_failed(faulty: tuple[Emulator, Gateway]) -> None:
    emulator, gateway = faulty
    catalogue = emulator.state.catalogue
    found = iter(catalogue.ids)
    plan = [
        [[next(found) for _ in range(FOUND)] + [f"nx-{c}-{o}"] for o in range(OPERATIONS)]
        for c in range(CLIENTS)
    ]
    bodies, latencies = await drive(gateway, plan)

    last = last_attempts(emulator.state.stats.records)
    tally: Counter[str] = Counter()
    for body in bodies:
        errors = {tuple(e["path"]): e for e in body.get("errors", [])}
        for n, video_id in enumerate(body["ids"]):
            item, error, attempt = body["data"][f"v{n}"], errors.get((f"v{n}",)), last[video_id]
            if attempt.outcome == "ok":
                want = expected_item(emulator, video_id)
                if want is None:
                    assert item is None and error["extensions"] == {
                        "code": "VIDEO_NOT_FOUND",
                        "videoId": video_id,
                    }
                    tally["not found"] += 1
                else:
                    assert error is None and item == want
                    tally["ok"] += 1
            else:  # the batch's last attempt was a fault: the item carries it, typed
                assert attempt.outcome == "fault" and attempt.code in UNAVAILABLE_FAULTS, attempt
                assert item is None and error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", (
                    attempt,
                    error,
                )
                assert "Traceback" not in error["message"]
                tally["unavailable"] += 1
        assert set(errors) <= {(f"v{n}",) for n in range(len(body["ids"]))}  # nothing else failed

    faults = Counter(r.code for r in emulator.state.stats.records if r.outcome == "fault")
    failed_batches = len({id(r) for r in last.values() if r.outcome == "fault"})
    retried = sum(faults.values()) - failed_batches  # faulted attempts a retry made good
    assert tally["ok"] + tally["not found"] + tally["unavailable"] == CLIENTS * OPERATIONS * (FOUND + MISSING)
    assert set(faults) == UNAVAILABLE_FAULTS and tally["ok"] > 0 and tally["unavailable"] > 0
    p99 = sorted(latencies)[int(0.99 * (len(latencies) - 1))]
    print(
        f"\n{len(bodies)} operations, {sum(faults.values())} faulted attempts {dict(faults)}: "
        f"{dict(tally)} ({failed_batches} batches failed twice); p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
        f"(bound: VOD_MAX_WAIT + 2 x VOD_TIMEOUT = {(MAX_WAIT + 2 * TIMEOUT) * 1000:.0f} ms); {retried} saved by a retry"
    )

    # the faults stop: the very next operation is whole, in the fewest calls
    emulator.state.faults.set_rates(FaultRates())
    emulator.state.reset()
    fresh = [i for i in found if expected_item(emulator, i) is not None][:10]
    async with httpx.AsyncClient(timeout=10) as http:
        after = (await http.post(gateway.graphql_url, json={"query": operation(fresh)})).json()
    assert "errors" not in after and all(after["data"][f"v{n}"]["videoId"] == i for n, i in enumerate(fresh))
    assert emulator.state.stats.calls == 1


async def test_a_throttling_burst_is_retried_within_the_wait_budget_then_typed(
    faulty: tuple[Emulator, Gateway],
) -> None:
    emulator, gateway = faulty
    emulator.state.faults.set_rates(FaultRates(throttle=1.0))
    ids = iter(i for i in emulator.state.catalogue.ids[1500:] if expected_item(emulator, i) is not None)
    async with httpx.AsyncClient(timeout=3 * MAX_WAIT) as http:
        # a burst longer than the budget: every item ends UPSTREAM_THROTTLED, nothing else
        wanted = [next(ids) for _ in range(12)]
        body = (await http.post(gateway.graphql_url, json={"query": operation(wanted)})).json()
        assert all(v is None for v in body["data"].values())
        assert {e["extensions"]["code"] for e in body["errors"]} == {"UPSTREAM_THROTTLED"}
        assert {e["extensions"]["upstreamCode"] for e in body["errors"]} == {"Throttling.User"}
        attempts = [
            r for r in emulator.state.stats.records if r.outcome == "throttled" or r.code == "throttle"
        ]
        assert len(attempts) > 2  # it backed off and tried again before giving up

        # a burst shorter than the budget: the retries get through once it ends
        wanted = [next(ids) for _ in range(12)]
        pending = asyncio.ensure_future(http.post(gateway.graphql_url, json={"query": operation(wanted)}))
        await eventually_async(
            lambda: any(set(wanted) & set(r.video_ids) for r in emulator.state.stats.records),
            30.0,
            "the emulator saw the burst's first attempt",
        )
        emulator.state.faults.set_rates(FaultRates())  # the burst ends
        body = (await pending).json()
    assert "errors" not in body and [body["data"][f"v{n}"]["videoId"] for n in range(12)] == wanted
