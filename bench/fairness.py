"""The fairness table: one interactive client (one fresh ID at a time) while 20 bulk clients loop
on 100-ID queries, against the strict emulator (20-60 ms latency), caches off.

Bulk clients honour ``extensions.retryAfter`` on an early ``RATE_LIMITED`` (as a well-behaved
client does); the interactive client never retries. Printed as ``figure | target | measured``.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections import Counter
from typing import Any

import httpx

from bench import load, procs

CACHES_OFF = {
    "GATEWAY_CACHE_TTL_ACTIVE": "0",
    "GATEWAY_CACHE_TTL_TERMINAL": "0",
    "GATEWAY_CACHE_TTL_NOT_FOUND": "0",
    "GATEWAY_RESPONSE_CACHE_TTL": "0",
}


async def _interactive(
    url: str, ids: list[str], stop: float, pause: float = 0.1
) -> tuple[list[float], Counter[str]]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    connection = load._Connection(url)
    try:
        for video_id in ids:
            if time.monotonic() >= stop:
                break
            body = json.dumps({"query": load.QUERY, "variables": {"ids": [video_id]}}).encode()
            started = time.perf_counter()
            status, payload = await connection.post(body)
            latencies.append((time.perf_counter() - started) * 1000)
            for error in json.loads(payload).get("errors") or ():
                code = error.get("extensions", {}).get("code", "?")
                if code != "VIDEO_NOT_FOUND":
                    errors[code] += 1
            if status != 200:
                errors[f"HTTP {status}"] += 1
            await asyncio.sleep(pause)
    finally:
        connection.close()
    return latencies, errors


async def _bulk(url: str, ids: list[str], stop: float, seed: int, refused: Counter[str]) -> None:
    rng = random.Random(seed)
    connection = load._Connection(url)
    try:
        while time.monotonic() < stop:
            body = json.dumps({"query": load.QUERY, "variables": {"ids": rng.sample(ids, 100)}}).encode()
            _, payload = await connection.post(body)
            waits = [
                e["extensions"].get("retryAfter")
                for e in json.loads(payload).get("errors") or ()
                if e.get("extensions", {}).get("code") == "RATE_LIMITED"
            ]
            if waits:
                refused["bulk RATE_LIMITED operations"] += 1
                await asyncio.sleep(min(5.0, max((w or 1.0) for w in waits)))
    finally:
        connection.close()


def _stats(upstream: str, seconds: float) -> dict[str, Any]:
    stats = httpx.get(upstream + "/_emulator/stats", params={"detail": "1"}, timeout=30).json()
    admitted = [r for r in stats["records"] if r["admitted"]]
    start = admitted[0]["at"] if admitted else 0.0
    records = [r for r in admitted if r["at"] - start < seconds]
    return {
        "ids/s": sum(len(r["video_ids"]) for r in records if r["outcome"] == "ok") / seconds,
        "mean ids": statistics.mean(len(r["video_ids"]) for r in records) if records else 0.0,
        "throttled": stats["throttled"],
        "max calls": stats["max_calls_in_any_window"],
    }


def fairness(ids: list[str], seconds: float, bulk_clients: int = 20) -> list[dict[str, Any]]:
    bulk_ids, fresh = ids[:4000], ids[4000:]
    with procs.emulator() as upstream, procs.gateway(upstream, **CACHES_OFF) as (url, _):
        idle, _ = asyncio.run(_interactive(url, fresh[:30], time.monotonic() + 60))
    refused: Counter[str] = Counter()
    with procs.emulator() as upstream, procs.gateway(upstream, **CACHES_OFF) as (url, _):

        async def run() -> tuple[list[float], Counter[str]]:
            stop = time.monotonic() + seconds
            bulk = [asyncio.create_task(_bulk(url, bulk_ids, stop, n, refused)) for n in range(bulk_clients)]
            await asyncio.sleep(2.0)  # let the bulk queue build up first
            result = await _interactive(url, fresh[30:], stop)
            await asyncio.gather(*bulk)
            return result

        loaded, errors = asyncio.run(run())
        upstream_figures = _stats(upstream, seconds)
    idle_p50, loaded_p50 = statistics.median(idle), statistics.median(loaded)
    rows = [
        ("interactive p50 idle, ms", "-", idle_p50),
        ("interactive p50 under load, ms", f"<= {3 * idle_p50:,.0f} (3x idle)", loaded_p50),
        ("interactive p95 under load, ms", "-", sorted(loaded)[int(0.95 * (len(loaded) - 1))]),
        ("interactive errors", "0", sum(errors.values())),
        ("account throughput, IDs/s", ">= 130", upstream_figures["ids/s"]),
        ("mean IDs per call", ">= 9.5", upstream_figures["mean ids"]),
        ("throttled calls", "0", upstream_figures["throttled"]),
        ("calls in any 1 s", "<= 15", upstream_figures["max calls"]),
        ("bulk operations refused early (RATE_LIMITED)", "-", refused["bulk RATE_LIMITED operations"]),
    ]
    return [{"figure": f, "target": t, "measured": m} for f, t, m in rows]
