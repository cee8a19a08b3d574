"""``python -m bench.incremental``: time to the first and to the last item of 100 IDs, with and
without ``@stream``, idle and with the account saturated by other clients.

The emulator answers in 20-60 ms and allows 15 calls/s; the gateway's caches are off, so every run
costs its 10 upstream calls. "Saturated": 6 other clients loop on 100-ID queries of their own IDs
(more than the account's 150 IDs/s) while the measured one runs. Each figure is the median of
``--runs`` runs, in milliseconds from sending the request; idle runs are 1.1 s apart, so each
starts with the account's window empty.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import httpx

from bench import procs
from bench.__main__ import catalogue_ids

IDS = 100
PLAIN = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId progress } }"
STREAMED = (
    "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) @stream(initialCount: 0) { videoId progress } }"
)
NO_CACHES = {
    "GATEWAY_CACHE_TTL_ACTIVE": "0",
    "GATEWAY_CACHE_TTL_TERMINAL": "0",
    "GATEWAY_CACHE_TTL_NOT_FOUND": "0",
    "GATEWAY_RESPONSE_CACHE_TTL": "0",
}


async def _plain(client: httpx.AsyncClient, url: str, ids: list[str]) -> tuple[float, float]:
    started = time.monotonic()
    response = await client.post(url, json={"query": PLAIN, "variables": {"ids": ids}})
    assert len(response.json()["data"]["transcodeSummaries"]) == len(ids)
    elapsed = (time.monotonic() - started) * 1000
    return elapsed, elapsed  # the first item comes with the last


async def _streamed(client: httpx.AsyncClient, url: str, ids: list[str]) -> tuple[float, float]:
    started, first, items = time.monotonic(), 0.0, 0
    body = {"query": STREAMED, "variables": {"ids": ids}}
    async with client.stream("POST", url, json=body, headers={"accept": "text/event-stream"}) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data:") or not line[5:].strip():
                continue
            payload = json.loads(line[5:])
            for part in payload.get("incremental", ()):
                items += len(part.get("items", ()))
                if items and not first:
                    first = (time.monotonic() - started) * 1000
    assert items == len(ids), items
    return first, (time.monotonic() - started) * 1000


async def _load(client: httpx.AsyncClient, url: str, ids: list[str], stop: asyncio.Event) -> None:
    while not stop.is_set():
        await client.post(url, json={"query": PLAIN, "variables": {"ids": ids}})


async def _measure(url: str, ids: list[list[str]], runs: int, saturated: bool) -> list[dict[str, Any]]:
    rows = []
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=32)) as client:
        stop = asyncio.Event()
        load = (
            [asyncio.create_task(_load(client, url, ids[1 + n], stop)) for n in range(6)] if saturated else []
        )
        if load:
            await asyncio.sleep(3)  # the account is full before measuring
        for name, measure in (("plain list", _plain), ("@stream over SSE", _streamed)):
            samples = []
            for _ in range(runs):
                if not saturated:
                    await asyncio.sleep(1.1)  # idle: the account's 1-s window is empty again
                samples.append(await measure(client, url, ids[0]))
            rows.append(
                {
                    "load": "saturated (6 clients x 100 IDs)" if saturated else "idle",
                    "query (100 IDs)": name,
                    "first item p50 (ms)": round(statistics.median(s[0] for s in samples)),
                    "last item p50 (ms)": round(statistics.median(s[1] for s in samples)),
                }
            )
        stop.set()
        await asyncio.gather(*load, return_exceptions=True)
    return rows


def run(runs: int = 5) -> list[dict[str, Any]]:
    with procs.emulator(catalogue=5000) as upstream, procs.gateway(upstream, **NO_CACHES) as (url, _):
        pool, _ = catalogue_ids()  # the emulator's catalogue (same seed)
        groups = [pool[k : k + IDS] for k in range(0, 7 * IDS, IDS)]
        assert all(len(g) == IDS for g in groups), "the catalogue sample is too small"
        return asyncio.run(_measure(url, groups, runs, False)) + asyncio.run(
            _measure(url, groups, runs, True)
        )


if __name__ == "__main__":
    from bench.__main__ import machine, publish, table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    text = f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.\n\n" + table(run(parser.parse_args().runs))
    publish(text, "incremental.md")
