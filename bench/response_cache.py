"""``python -m bench.response_cache``: how many answers a page polling finished videos gets from the
response cache, for several polling patterns (one gateway process each, all on one emulator, at
once; default settings: the summary cache keeps a finished summary 30 s).

Patterns: a fixed schedule every 0.25 s, 1 s and 5 s, and ``setTimeout(1 s)`` after each answer
(the pattern a fixed 1 s TTL never served). Each page asks for its own 50 finished videos. The
share is the gateway's ``gateway_response_cache_total{result="hit"}`` over its operations.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from contextlib import ExitStack
from typing import Any

import httpx

from bench import procs

QUERY = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus progress jobs { format fileSize } } }"
PATTERNS = (("every 0.25 s", 0.25, True), ("every 1 s", 1.0, True), ("every 5 s", 5.0, True))
PATTERNS += (("1 s after each answer", 1.0, False),)


async def _poll(url: str, ids: list[str], period: float, fixed: bool, seconds: float) -> int:
    body = {"query": QUERY, "variables": {"ids": ids}}
    sent = 0
    async with httpx.AsyncClient(timeout=30.0, trust_env=False) as http:
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            began = time.monotonic()
            response = await http.post(url, json=body)
            assert response.status_code == 200, response.text
            sent += 1
            wait = period - (time.monotonic() - began) if fixed else period
            await asyncio.sleep(max(0.0, wait))
    return sent


def _counter(text: str, name: str, label: str) -> float:
    match = re.search(rf"^{name}{{{label}}} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def run(seconds: float = 60.0) -> list[dict[str, Any]]:
    with procs.emulator(latency="20-60") as upstream, ExitStack() as stack:
        samples = httpx.get(upstream + "/_emulator/catalogue?per_status=100").json()["samples"]
        finished = [
            i for s in ("CompleteAllSucc", "CompleteAllFail", "CompletePartialSucc") for i in samples[s]
        ]
        assert len(finished) >= 50 * len(PATTERNS), "too few finished videos in the catalogue"
        gateways = [stack.enter_context(procs.gateway(upstream)) for _ in PATTERNS]

        async def all_pages() -> list[int]:
            return await asyncio.gather(
                *(
                    _poll(url, finished[50 * n : 50 * (n + 1)], period, fixed, seconds)
                    for n, ((url, _), (_, period, fixed)) in enumerate(zip(gateways, PATTERNS, strict=True))
                )
            )

        sent = asyncio.run(all_pages())
        rows = []
        for (url, _), (name, _, _), requests in zip(gateways, PATTERNS, sent, strict=True):
            metrics = httpx.get(url.removesuffix("/graphql") + "/metrics").text
            hits = _counter(metrics, "gateway_response_cache_total", 'result="hit"')
            changed = _counter(metrics, "gateway_response_cache_total", 'result="changed"')
            calls = _counter(metrics, "vod_upstream_calls_total", 'outcome="ok"')
            rows.append({"polling": name, "requests": requests, "from bytes": int(hits),
                         "changed": int(changed), "share from bytes": f"{100 * hits / requests:.1f}%",
                         "upstream calls": int(calls)})  # fmt: skip
    return rows


if __name__ == "__main__":
    from bench.__main__ import machine, publish, table

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    text = f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.\n\n" + table(run(seconds))
    publish(text + "\n" + json.dumps({"seconds": seconds}) + "\n", "response_cache.md")
