"""``python -m bench.callbacks``: VOD callbacks against polling alone.

The emulator (500 videos, strict 15 calls/s, 20-60 ms) calls back to the gateway as VOD would;
"polling only" is the same run with every callback lost (``--callback-loss 1``). The gateway polls
every ``GATEWAY_POLL_INTERVAL`` = 10 s in both. Two measures:

- completion to event: 20 subscribers on videos still transcoding; the emulator's clock jumps 400 s
  (every job ends at that instant) and each subscriber's final event is timed from the jump;
- upstream calls per minute that 1,000 subscriptions (100 connections x 10, on 100 videos still
  transcoding) cost over the run.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench import procs

KEY = "bench-callback-auth-key"
POLL = "10"
UPDATES = "subscription($v: [ID!]!) { transcodeSummaryUpdates(videoIds: $v) { videoId transcodeStatus } }"
FINAL = {"COMPLETE_ALL_SUCC", "COMPLETE_ALL_FAIL", "COMPLETE_PARTIAL_SUCC"}


async def _open(url: str) -> ClientConnection:
    ws = await connect(url, subprotocols=["graphql-transport-ws"], compression=None, max_queue=None)  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    await ws.recv()
    return ws


async def _subscribe(ws: ClientConnection, op: str, video: str) -> None:
    payload = {"query": UPDATES, "variables": {"v": [video]}}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))


async def _final(ws: ClientConnection) -> float:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        data = (message.get("payload") or {}).get("data") or {}
        if (data.get("transcodeSummaryUpdates") or {}).get("transcodeStatus") in FINAL:
            return time.monotonic()


async def _latency(ws_url: str, emulator: str, videos: list[str]) -> list[float]:
    sockets = [await _open(ws_url) for _ in videos]
    for ws, video in zip(sockets, videos, strict=True):
        await _subscribe(ws, "1", video)
        await ws.recv()  # the first event: still transcoding
    await asyncio.sleep(float(POLL) / 2)  # midway between two poll rounds
    jumped = time.monotonic()
    httpx.post(emulator + "/_emulator/clock", json={"advance": 400})
    arrivals = await asyncio.gather(*(_final(ws) for ws in sockets))
    for ws in sockets:
        await ws.close()
    return [(t - jumped) * 1000 for t in arrivals]


async def _calls(ws_url: str, emulator: str, videos: list[str], seconds: float) -> float:
    sockets = [await _open(ws_url) for _ in range(100)]
    for n, ws in enumerate(sockets):
        for k in range(10):
            await _subscribe(ws, str(k), videos[(n * 10 + k) % len(videos)])
    drain = [asyncio.create_task(_drain(ws)) for ws in sockets]
    await asyncio.sleep(2)
    before = httpx.get(emulator + "/_emulator/stats").json()["calls"]
    await asyncio.sleep(seconds)
    after = httpx.get(emulator + "/_emulator/stats").json()["calls"]
    for task in drain:
        task.cancel()
    for ws in sockets:
        await ws.close()
    return (after - before) * 60 / seconds


async def _drain(ws: ClientConnection) -> None:
    while True:
        await ws.recv()


def run(seconds: float = 20) -> list[dict[str, Any]]:
    rows = []
    for mode, loss in (("callbacks", "0"), ("polling only (every callback lost)", "1")):
        port = procs.free_port()
        callback = f"http://127.0.0.1:{port}/vod/callback"
        extra = ["--callback-url", callback, "--callback-key", KEY, "--callback-loss", loss]
        env = {"VOD_CALLBACK_AUTH_KEY": KEY, "VOD_CALLBACK_URL": callback, "GATEWAY_POLL_INTERVAL": POLL}
        with procs.emulator(catalogue=500, extra=extra) as upstream:
            with procs.gateway(upstream, port=port, **env) as (url, _):
                ws_url = url.replace("http://", "ws://")
                samples = httpx.get(upstream + "/_emulator/catalogue?per_status=100").json()["samples"]
                processing = samples["Processing"] + samples.get("Partial", [])
                waits = asyncio.run(_latency(ws_url, upstream, processing[:20]))
            # a fresh pair, so the 1,000 subscriptions watch videos still transcoding
        with procs.emulator(catalogue=500, extra=extra) as upstream:
            with procs.gateway(upstream, port=port, **env) as (url, _):
                samples = httpx.get(upstream + "/_emulator/catalogue?per_status=100").json()["samples"]
                processing = samples["Processing"] + samples.get("Partial", [])
                per_minute = asyncio.run(
                    _calls(url.replace("http://", "ws://"), upstream, processing[:100], seconds)
                )
        rows.append(
            {
                "mode": mode,
                "completion to event p50 (ms)": round(statistics.median(waits)),
                "p95 (ms)": round(sorted(waits)[int(0.95 * (len(waits) - 1))]),
                "max (ms)": round(max(waits)),
                "upstream calls/min, 1,000 subscriptions": round(per_minute),
            }
        )
    return rows


if __name__ == "__main__":
    from bench.__main__ import machine, publish, table

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    text = f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.\n\n" + table(run(seconds))
    publish(text, "callbacks.md")
