"""``python -m bench``: throughput at the account limit, idle latency, fairness (an interactive
client under a bulk load), the gateway's CPU cost, the edge guards' cost and ``serve --workers``
(``--only fairness``, ``--only edge`` or ``--only workers``: that table alone, the last two kept in
bench/results/edge.md and workers.md).

Starts the emulator (strict 1 s window, 20-60 ms latency) and the gateway as subprocesses on
loopback, drives them, and prints tables (also written to bench/results/latest.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import edge, fairness, load, procs, workers
from gateway.clock import MonotonicClock
from gateway.emulator.catalogue import Catalogue
from gateway.emulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from gateway.vod.client import VodClient
from gateway.vod.credentials import Credentials, Secret

CACHE_OFF = {
    "GATEWAY_CACHE_TTL_ACTIVE": "0",
    "GATEWAY_CACHE_TTL_TERMINAL": "0",
    "GATEWAY_CACHE_TTL_NOT_FOUND": "0",
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def catalogue_ids() -> tuple[list[str], Catalogue]:
    catalogue = Catalogue.generate(5000, 1, MonotonicClock())  # the emulator's, same seed
    return catalogue.ids, catalogue


def saturation(
    label: str, ids: list[str], clients: int, seconds: float, env: dict[str, str], args: Sequence[str] = ()
) -> dict[str, Any]:
    with procs.emulator() as upstream, procs.gateway(upstream, args=args, **env) as (url, _):
        result = load.run_drive(url, ids, clients, seconds)
        stats = httpx.get(upstream + "/_emulator/stats", params={"detail": "1"}, timeout=30).json()
    admitted = [r for r in stats["records"] if r["admitted"]]
    start = admitted[0]["at"] if admitted else 0.0
    records = [r for r in admitted if r["at"] - start < seconds]  # the load's span, not the drain
    span = seconds
    fetched = sum(len(r["video_ids"]) for r in records if r["outcome"] == "ok")
    return {
        "mode": label,
        "upstream calls/s": len(records) / span,
        "mean IDs per call": statistics.mean(len(r["video_ids"]) for r in records) if records else 0.0,
        "distinct IDs fetched/s (limit 150)": fetched / span,
        "throttled": stats["throttled"],
        "max calls in any 1 s": stats["max_calls_in_any_window"],
        "client req/s": result.requests / span,
        "p50 ms": result.percentile(50),
        "p95 ms": result.percentile(95),
        "p99 ms": result.percentile(99),
        "errors": dict(result.errors) or "-",
    }


def idle_latency(ids: list[str], samples: int) -> dict[str, Any]:
    """One client, one new ID at a time (a cache miss each), paced under the account limit."""
    gateway_ms: list[float] = []
    direct_ms: list[float] = []
    with procs.emulator(latency="0") as upstream, procs.gateway(upstream) as (url, _):

        async def through_gateway() -> None:
            # the same lean keep-alive client as the load runs: httpx's own cost is not the gateway's
            connection = load._Connection(url)
            try:
                for video_id in ids[:samples]:
                    body = json.dumps({"query": load.QUERY, "variables": {"ids": [video_id]}}).encode()
                    started = time.perf_counter()
                    status, _ = await connection.post(body)
                    gateway_ms.append((time.perf_counter() - started) * 1000)
                    assert status == 200, status
                    await asyncio.sleep(0.1)
            finally:
                connection.close()

        asyncio.run(through_gateway())

        async def direct() -> None:
            creds = Credentials(DEMO_ACCESS_KEY_ID, Secret(DEMO_ACCESS_KEY_SECRET))
            async with httpx.AsyncClient() as http:
                vod = VodClient(http, upstream, creds)
                for video_id in ids[samples : 2 * samples]:
                    started = time.perf_counter()
                    await vod.get_transcode_summary([video_id])
                    direct_ms.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(0.1)

        asyncio.run(direct())
    gw, up = statistics.median(gateway_ms), statistics.median(direct_ms)
    return {
        "gateway p50 ms": gw,
        "direct upstream p50 ms": up,
        "added p50 ms": gw - up,
        "gateway p99 ms": sorted(gateway_ms)[int(0.99 * (len(gateway_ms) - 1))],
    }


def cpu_cost(video_id: str, seconds: int) -> list[dict[str, Any]]:
    one = json.dumps({"query": load.ONE, "variables": {"v": video_id}})
    aliases = " ".join(
        f'a{i}: transcodeSummary(videoId: "{video_id}") {{ videoId transcodeStatus progress jobs {{ format fileSize }} }}'
        for i in range(10)
    )
    ten = json.dumps({"query": "{ " + aliases + " }"})
    rows: list[dict[str, Any]] = []

    def measure(server: str, url: str, body: str, query: str, connections: int) -> None:
        load.wrk(url, body, connections, 2)  # warm-up (fills the caches)
        result = load.wrk(url, body, connections, seconds)
        if result is not None:
            rows.append(
                {
                    "server": server,
                    "query": query,
                    "clients": connections,
                    "req/s": result.rps,
                    "p50 ms": result.p50_ms,
                    "p99 ms": result.p99_ms,
                    "non-2xx": result.non2xx,
                }
            )

    with procs.emulator(latency="0") as upstream:
        for name, env in (
            ("gateway", {}),
            ("gateway, no response cache", {"GATEWAY_RESPONSE_CACHE_TTL": "0"}),
        ):
            with procs.gateway(upstream, **env) as (url, _):
                for connections in (16, 64):
                    measure(name, url, one, "one summary, 2 jobs", connections)
                measure(name, url, ten, "10 aliases", 16)
    with procs.asgi_app("bench.baseline_app:plain") as url:
        measure("plain Strawberry, no caches", url, one, "one summary, 2 jobs", 16)
    with procs.asgi_app("bench.baseline_app:raw") as url:
        measure("raw Starlette JSON (floor)", url, one, "one summary, 2 jobs", 16)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(nothing measured)\n"
    heads = list(rows[0])

    def cell(v: object) -> str:
        return f"{v:,.1f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(cell(r[h]) for h in heads) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20, help="per saturation run (default 20)")
    parser.add_argument("--clients", type=int, default=100, help="concurrent GraphQL clients (default 100)")
    parser.add_argument("--idle-samples", type=int, default=40)
    parser.add_argument("--cpu-seconds", type=int, default=8)
    parts = ["saturation", "idle", "fairness", "cpu", "edge", "workers"]
    parser.add_argument("--skip", nargs="*", default=[], choices=parts)
    parser.add_argument("--only", nargs="*", default=[], choices=parts, help="run these tables alone")
    parser.add_argument("--fairness-seconds", type=float, default=20, help="the fairness run (default 20)")
    args = parser.parse_args()
    if args.only:
        args.skip = [p for p in parts if p not in args.only]
    ids, catalogue = catalogue_ids()
    random.Random(3).shuffle(ids)
    out = [f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.\n"]
    if "saturation" not in args.skip:
        rows = [
            saturation("coalescing, cache off", ids, args.clients, args.seconds, CACHE_OFF),
            saturation(
                "baseline (per-request DataLoader), cache off",
                ids,
                args.clients,
                args.seconds,
                {**CACHE_OFF, "GATEWAY_COALESCE": "false"},
            ),
            saturation("coalescing, default cache", ids, args.clients, args.seconds, {}),
        ]
        out += [
            f"\nSaturation: {args.clients} clients x {args.seconds:g} s, 1-3 random IDs of 5,000 each:\n\n",
            table(rows),
        ]
    if "idle" not in args.skip:
        out += [
            "\nIdle latency (one client, one uncached ID at a time, upstream latency 0):\n\n",
            table([idle_latency(ids, args.idle_samples)]),
        ]
    if "fairness" not in args.skip:
        out += [
            f"\nFairness: 1 interactive client (one fresh ID at a time) while 20 bulk clients loop on "
            f"100-ID queries for {args.fairness_seconds:g} s; strict emulator, 20-60 ms, caches off:\n\n",
            table(fairness.fairness(ids, args.fairness_seconds)),
        ]
    if "cpu" not in args.skip:
        two_jobs = next(
            i
            for i in catalogue.ids
            if catalogue.status(i) == "CompleteAllSucc"
            and len(catalogue.summaries([i])[0][0]["TranscodeJobInfoSummaryList"]) == 2
        )
        rows = cpu_cost(two_jobs, args.cpu_seconds)
        out += [
            "\nThe gateway's own CPU cost, cached summaries, one worker, wrk -t1 on loopback:\n\n",
            table(rows) if rows else "wrk is not installed (apt-get install wrk): skipped\n",
        ]
    if "edge" not in args.skip:
        rows = edge.edge_cost(catalogue.ids[0], args.cpu_seconds)
        out += [
            "\nThe edge guards' cost: the raw Starlette floor behind each HTTP protocol, wrk -t1 on loopback:\n\n",
            table(rows) if rows else "wrk is not installed (apt-get install wrk): skipped\n",
        ]
    if "workers" not in args.skip:
        with workers.bench_redis() as redis_url:
            redis_env = {"GATEWAY_REDIS_URL": redis_url}
            rows = [
                saturation(f"--workers {n}, Redis, cache off", ids, args.clients, args.seconds,
                           {**CACHE_OFF, **redis_env}, ["--workers", str(n)])
                for n in (1, 2)
            ]  # fmt: skip
            out += [
                f"\nWorkers at saturation ({workers.REDIS_NOTE}): {args.clients} clients x {args.seconds:g} s:\n\n",
                table(rows),
                "\nWorkers, cached summaries: a 10-ID list, wrk -t1 -c32 on loopback, in the same run:\n\n",
                table(workers.throughput(ids[:10], args.cpu_seconds, redis_env)),
            ]
    only = args.only if len(args.only) == 1 else []
    publish(
        "".join(out),
        {"edge": "edge.md", "workers": "workers.md"}.get(only[0], "latest.md") if only else "latest.md",
    )


def publish(text: str, name: str) -> None:
    """Print the tables and keep them in bench/results/``name``."""
    print(text)
    results = Path(__file__).parent / "results"
    results.mkdir(exist_ok=True)
    (results / name).write_text(text)


if __name__ == "__main__":
    main()
