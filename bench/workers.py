"""``serve --workers``: one worker against two, in the same run.

- At saturation (strict emulator, caches off) the workers share the account through Redis: the
  emulator's own count of throttled calls and of calls in any 1 s, and the IDs per call.
- With summaries cached, the req/s of a 10-ID list (wrk, one thread) for 1 and 2 workers.

Redis: ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/2``), a database the bench empties
before and after.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from bench import load, procs

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
REDIS_NOTE = "Redis database emptied before and after; BENCH_REDIS_URL"
LIST = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus progress jobs { format fileSize } } }"


@contextmanager
def bench_redis() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


def throughput(ids: list[str], seconds: int, env: dict[str, str]) -> list[dict[str, Any]]:
    body = json.dumps({"query": LIST, "variables": {"ids": ids}})
    rows: list[dict[str, Any]] = []
    cached = {**env, "GATEWAY_RESPONSE_CACHE_TTL": "0", "GATEWAY_CACHE_TTL_ACTIVE": "3600"}
    cached["GATEWAY_CACHE_TTL_TERMINAL"] = "3600"
    with procs.emulator(latency="0") as upstream:
        for workers in (1, 2):
            with procs.gateway(upstream, args=["--workers", str(workers)], **cached) as (url, _):
                load.wrk(url, body, 32, 2)  # warm-up: fills the caches of both workers
                result = load.wrk(url, body, 32, seconds)
            if result is None:
                return []
            rows.append({"workers": workers, "req/s": result.rps, "p50 ms": result.p50_ms,
                         "p99 ms": result.p99_ms, "non-2xx": result.non2xx})  # fmt: skip
    rows[1]["vs 1 worker"] = f"{rows[1]['req/s'] / rows[0]['req/s']:.2f}x"
    rows[0]["vs 1 worker"] = "1.00x"
    return rows
