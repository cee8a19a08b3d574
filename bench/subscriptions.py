"""``python -m bench.subscriptions``: what live subscriptions cost one gateway process.

For each count (1,000, 3,000 and 10,000 by default; ``--counts`` to choose): a fresh emulator (5,000
videos, strict 15 calls/s, 20-60 ms) and gateway; 20 subscriptions per WebSocket connection
(graphql-transport-ws, no compression), each on 5 of 100 videos still transcoding, selecting
``videoId transcodeStatus progress``. Measured:

- RSS per subscription: the gateway's resident memory once every subscription had its first events,
  minus the warm baseline, over the count. The warm baseline is the RSS after one subscription
  had its first events and closed (what any first traffic costs once: lazy imports, the first
  caches); "cold" is the RSS before any connection;
- poll round: the mean of ``gateway_poll_round_seconds`` over the measuring window (its /metrics);
- event latency: the emulator's clock jumps 30 s (every job moves on at that instant, none ends);
  each subscription's next event is timed from the jump (it includes the wait for the next round)
  and from the upstream answer that carried the change: the first call after the jump naming that
  event's video, as the emulator recorded it (its admission time, on the same CLOCK_MONOTONIC; the
  figure includes the emulated 20-60 ms of the call itself);
- gateway CPU: its user + system seconds over those 15 s (the figure least moved by other load);
  the bench client's own beside it (one Python process reading every event: near 15 s, its
  timestamps lag and the latencies are partly its own);
- RSS after close: 12 s after every connection closed (the gateway gives memory back within 5 s
  of a crowd of subscriptions going: ``gateway/loading/memory.py``), against the warm baseline and
  against the cold one. ``--malloc`` runs the gateway with ``PYTHONMALLOC=malloc`` (glibc's allocator for
  every object, which gives memory back page by page; CPython's own keeps 1 MiB arenas).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect

from bench import procs
from bench.__main__ import machine, publish, table

UPDATES = (
    "subscription($v: [ID!]!) { transcodeSummaryUpdates(videoIds: $v) { videoId transcodeStatus progress } }"
)
PER_CONNECTION = 20
IDS_PER_SUBSCRIPTION = 5
VIDEOS = 100


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rounds(url: str) -> tuple[float, float]:
    """(seconds, count) of the poller's rounds so far."""
    text = httpx.get(url.removesuffix("/graphql") + "/metrics", timeout=10).text

    def value(name: str) -> float:
        found = re.search(rf"^{name} ([\d.e+]+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    return value("gateway_poll_round_seconds_sum"), value("gateway_poll_round_seconds_count")


async def _open(url: str) -> ClientConnection:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], compression=None, max_queue=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    await ws.recv()
    return ws


class Client:
    """One connection's subscriptions: when each got its events."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: dict[str, list[tuple[float, str]]] = {}  # op -> (when, videoId) of each event

    async def subscribe(self, op: str, videos: list[str]) -> None:
        self.events[op] = []
        payload = {"query": UPDATES, "variables": {"v": videos}}
        await self.ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))

    async def read(self) -> None:
        async for raw in self.ws:
            message = orjson.loads(raw)
            if message.get("type") == "next":
                summary = message["payload"]["data"]["transcodeSummaryUpdates"]
                self.events[message["id"]].append((time.monotonic(), summary["videoId"]))


async def _warm_up(ws_url: str, videos: list[str]) -> None:
    """One subscription to its first events, then closed: what any first traffic costs once."""
    client = Client(await _open(ws_url))
    reader = asyncio.create_task(client.read())
    await client.subscribe("warm", videos[:IDS_PER_SUBSCRIPTION])
    deadline = time.monotonic() + 30
    while len(client.events["warm"]) < IDS_PER_SUBSCRIPTION and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await client.ws.close()
    reader.cancel()
    await asyncio.sleep(2)


async def _measure(
    ws_url: str, url: str, emulator: str, pid: int, count: int, videos: list[str]
) -> dict[str, Any]:
    cold = rss_kb(pid)
    await _warm_up(ws_url, videos)
    baseline = rss_kb(pid)
    clients = [Client(await _open(ws_url)) for _ in range(-(-count // PER_CONNECTION))]
    readers = [asyncio.create_task(c.read()) for c in clients]
    n = 0
    for client in clients:
        for k in range(min(PER_CONNECTION, count - n)):
            watched = [
                videos[(n * IDS_PER_SUBSCRIPTION + i) % len(videos)] for i in range(IDS_PER_SUBSCRIPTION)
            ]
            await client.subscribe(str(k), watched)
            n += 1
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # every subscription has its first events
        if all(len(e) >= IDS_PER_SUBSCRIPTION for c in clients for e in c.events.values()):
            break
        await asyncio.sleep(0.5)
    await asyncio.sleep(3)
    subscribed = rss_kb(pid)
    seconds_before, count_before = rounds(url)
    seen = {(id(c), op): len(e) for c in clients for op, e in c.events.items()}
    cpu_before, client_before = cpu_seconds(pid), time.process_time()
    jumped = time.monotonic()
    httpx.post(emulator + "/_emulator/clock", json={"advance": 30}, timeout=10)
    await asyncio.sleep(15)
    seconds_after, count_after = rounds(url)
    cpu, client_cpu = cpu_seconds(pid) - cpu_before, time.process_time() - client_before
    answered = first_answers(emulator, jumped)
    nexts = [
        e[seen[(id(c), op)]] for c in clients for op, e in c.events.items() if len(e) > seen[(id(c), op)]
    ]
    waits = [(at - jumped) * 1000 for at, _ in nexts]
    after_answer = [(at - answered[video]) * 1000 for at, video in nexts if video in answered]
    for client in clients:
        await client.ws.close()
    for reader in readers:
        reader.cancel()
    await asyncio.sleep(12)
    closed = rss_kb(pid)
    ordered = sorted(waits) or [float("nan")]
    from_answer = sorted(after_answer) or [float("nan")]
    return {
        "subscriptions": count,
        "RSS per subscription (KB)": (subscribed - baseline) / count,
        "gateway CPU over the 15 s (s)": cpu,
        "bench client CPU (s)": client_cpu,
        "poll round (s)": (seconds_after - seconds_before) / max(1.0, count_after - count_before),
        "event after the jump p50 / p95 (ms)": _pair(ordered),
        "event after the upstream answer p50 / p95 (ms)": _pair(from_answer),
        "subscriptions with an event": f"{len(waits)} of {count}",
        "RSS after close vs warm (%)": (closed - baseline) / baseline * 100,
        "vs cold (%)": (closed - cold) / cold * 100,
    }


def _pair(ordered: list[float]) -> str:
    return f"{statistics.median(ordered):,.0f} / {ordered[int(0.95 * (len(ordered) - 1))]:,.0f}"


def first_answers(emulator: str, since: float) -> dict[str, float]:
    """Each video's first successful call admitted after ``since``, by the emulator's record."""
    stats = httpx.get(emulator + "/_emulator/stats?detail=1", timeout=30).json()
    first: dict[str, float] = {}
    for record in stats["records"]:
        if record["outcome"] == "ok" and record["at"] > since:
            for video in record["video_ids"]:
                first.setdefault(video, record["at"])
    return first


def run(counts: list[int], malloc: bool = False) -> list[dict[str, Any]]:
    rows = []
    for count in counts:
        env = {
            **({"PYTHONMALLOC": "malloc"} if malloc else {}),
            "GATEWAY_SUBSCRIPTIONS_MAX": str(count + 100),
            "GATEWAY_SUBSCRIPTIONS_PER_KEY": str(count + 100),
            "GATEWAY_MAX_CONNECTIONS": str(count // PER_CONNECTION + 200),
        }
        with procs.emulator() as upstream, procs.gateway(upstream, **env) as (url, pid):
            samples = httpx.get(upstream + "/_emulator/catalogue?per_status=100", timeout=10).json()[
                "samples"
            ]
            videos = (samples["Processing"] + samples.get("Partial", []))[:VIDEOS]
            ws_url = url.replace("http://", "ws://")
            rows.append(asyncio.run(_measure(ws_url, url, upstream, pid, count, videos)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.subscriptions", description=__doc__)
    parser.add_argument("--counts", type=int, nargs="*", default=[1000, 3000, 10000])
    parser.add_argument("--malloc", action="store_true", help="the gateway with PYTHONMALLOC=malloc")
    args = parser.parse_args()
    allocator = "PYTHONMALLOC=malloc" if args.malloc else "CPython's allocator"
    text = f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, {allocator}.\n\n"
    publish(
        text + table(run(args.counts, args.malloc)),
        "subscriptions-malloc.md" if args.malloc else "subscriptions.md",
    )


if __name__ == "__main__":
    main()
