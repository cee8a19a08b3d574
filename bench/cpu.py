"""``python -m bench.cpu``: the gateway's own CPU cost per list size, next to the floor.

One gateway process on the emulator (latency 0), summaries cached (TTLs of an hour, warmed before
measuring), the response cache off; ``wrk -t1 -c16`` posts a ``transcodeSummaries`` query for 1, 10,
50 and 100 IDs. The floor is raw Starlette (bench/floor_app.py) answering each request body with the
very bytes the gateway answered it with, measured in the same run. CPU per request is the server
process's own CPU time (user + system, from /proc) over the requests wrk completed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench import load, procs
from bench.__main__ import catalogue_ids, machine, publish, table

SIZES = (1, 10, 50, 100)
LIST = (
    "query List($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus progress "
    "creationTime completeTime jobs { definition format transcodeJobStatus transcodeProgress width "
    "height bitrate fileSize encryptType } } }"
)
CACHED = {
    "GATEWAY_RESPONSE_CACHE_TTL": "0",
    "GATEWAY_CACHE_TTL_ACTIVE": "3600",
    "GATEWAY_CACHE_TTL_TERMINAL": "3600",
    "GATEWAY_CACHE_TTL_NOT_FOUND": "3600",
}
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime: fields 14 and 15 of stat(5)


def fields_in(value: Any) -> int:
    """Fields resolved to build ``value`` (a response's ``data``): one per key, in every item."""
    if isinstance(value, dict):
        return sum(1 + fields_in(v) for v in value.values())
    if isinstance(value, list):
        return sum(fields_in(v) for v in value)
    return 0


def measured(url: str, pid: int, body: str, seconds: int, connections: int) -> dict[str, float]:
    load.wrk(url, body, connections, 1)  # warm-up
    before, started = cpu_seconds(pid), time.monotonic()
    result = load.wrk(url, body, connections, seconds)
    spent, elapsed = cpu_seconds(pid) - before, time.monotonic() - started
    if result is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if result.non2xx:
        raise SystemExit(f"{url}: {result.non2xx} answers were not 2xx")
    requests = result.rps * seconds
    return {
        "req/s": result.rps,
        "cpu_us": spent / requests * 1e6 if requests else float("nan"),
        "busy": spent / elapsed,  # the share of one core the server used
        "p50": result.p50_ms,
    }


@contextmanager
def floor(bodies: dict[str, str]) -> Iterator[tuple[str, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bodies.json"
        path.write_text(json.dumps(bodies))
        port = procs.free_port()
        args = [str(procs.BIN / "uvicorn"), "bench.floor_app:app", "--port", str(port)]
        args += ["--loop", "asyncio", "--http", "httptools", "--log-level", "warning", "--no-access-log"]
        env = {"BENCH_FLOOR_BODIES": str(path)}
        with procs.process(args, f"http://127.0.0.1:{port}/healthz", env) as pid:
            yield f"http://127.0.0.1:{port}/graphql", pid


def list_ids(n: int) -> list[str]:
    ids, catalogue = catalogue_ids()
    return [i for i in ids if catalogue.summaries([i])[0]][:n]  # videos with a summary: no errors


def cpu_table(
    seconds: int, connections: int = 16, sizes: tuple[int, ...] = SIZES, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per list size: the gateway and the floor, measured one after the other."""
    requests = {n: json.dumps({"query": LIST, "variables": {"ids": list_ids(n)}}) for n in sizes}
    answers: dict[int, str] = {}
    rows: list[dict[str, Any]] = []
    with (
        procs.emulator(latency="0", qps=100) as upstream,
        procs.gateway(upstream, **{**CACHED, **(env or {})}) as (url, pid),
    ):
        for n, body in requests.items():  # fills the summary cache, and gives the floor its bytes
            answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=30)
            data = answer.json()
            if answer.status_code != 200 or data.get("errors"):
                raise SystemExit(f"{n} IDs: {answer.status_code} {data.get('errors')}")
            answers[n] = answer.text
        with floor({requests[n]: answers[n] for n in sizes}) as (floor_url, floor_pid):
            for n in sizes:
                gateway = measured(url, pid, requests[n], seconds, connections)
                raw = measured(floor_url, floor_pid, requests[n], seconds, connections)
                rows.append(
                    {
                        "list": f"{n} ID" if n == 1 else f"{n} IDs",
                        "fields": fields_in(json.loads(answers[n])["data"]),
                        "bytes": len(answers[n]),
                        "gateway req/s": gateway["req/s"],
                        "gateway CPU µs/request": gateway["cpu_us"],
                        "floor req/s": raw["req/s"],
                        "floor CPU µs/request": raw["cpu_us"],
                        "floor ÷ gateway (req/s)": raw["req/s"] / gateway["req/s"],
                        "floor ÷ gateway (CPU)": gateway["cpu_us"] / raw["cpu_us"],
                    }
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    parser.add_argument("--seconds", type=int, default=8, help="per cell (default 8)")
    parser.add_argument("--clients", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    rows = cpu_table(args.seconds, args.clients, tuple(args.sizes))
    head = (
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()} ({sys.executable}).\n\n"
        f"The gateway's CPU per list: one process, summaries cached, response cache off, "
        f"wrk -t1 -c{args.clients} x {args.seconds} s; the floor is raw Starlette answering the same bytes:\n\n"
    )
    publish(head + table(rows), "cpu.md")


if __name__ == "__main__":
    main()
