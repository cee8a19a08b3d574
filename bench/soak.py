"""``python -m bench.soak``: a long run against a faulty upstream; memory, connections, errors, recovery.

Starts the emulator (strict 15 calls/s, 20-60 ms latency, 10% 5xx, 2% hangs, 5% non-JSON bodies,
1% connection resets, and a 2-second burst of pure throttling every 20 s) and the gateway with its
default timeouts, as separate processes. Drives concurrent clients asking 1-3 random IDs for the
whole run, samples the gateway's resident memory and open file descriptors, then switches the faults
off and checks that the very next requests all succeed. Prints tables (bench/results/soak.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import procs
from bench.__main__ import catalogue_ids, machine, publish, table
from bench.load import QUERY, _Connection

FAULTS = "5xx:0.1,hang:0.02,garbage:0.05,reset:0.01"
TYPED = {"VIDEO_NOT_FOUND", "RATE_LIMITED", "UPSTREAM_THROTTLED", "UPSTREAM_ERROR", "UPSTREAM_UNAVAILABLE"}


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    items: int = 0
    failed_items: int = 0


def process_usage(pid: int) -> tuple[float, int, int]:
    """Resident memory (MB), open file descriptors, of which sockets."""
    rss_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    fds = os.listdir(f"/proc/{pid}/fd")
    sockets = 0
    for fd in fds:
        try:
            sockets += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return rss_kb / 1024, len(fds), sockets


async def soak(url: str, upstream: str, pid: int, ids: list[str], args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    windows: list[Window] = []
    samples: list[dict[str, Any]] = []
    stop_at = time.monotonic() + args.seconds
    untyped: Counter[str] = Counter()

    def current() -> Window:
        return windows[-1]

    async def client() -> None:
        connection = _Connection(url)
        try:
            while time.monotonic() < stop_at:
                wanted = rng.sample(ids, rng.randint(1, 3))
                body = json.dumps({"query": QUERY, "variables": {"ids": wanted}}).encode()
                started = time.monotonic()
                try:
                    status, payload = await connection.post(body)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    untyped[type(exc).__name__] += 1
                    connection.close()
                    connection = _Connection(url)
                    continue
                window = current()
                window.latencies.append(time.monotonic() - started)
                window.items += len(wanted)
                if status != 200:
                    untyped[f"HTTP {status}"] += 1
                for error in json.loads(payload).get("errors") or []:
                    code = error.get("extensions", {}).get("code", "none")
                    window.codes[code] += 1
                    window.failed_items += code != "VIDEO_NOT_FOUND"
                    if code not in TYPED:
                        untyped[code] += 1
        finally:
            connection.close()

    async def faults_and_samples() -> None:
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as http:
            while time.monotonic() < stop_at:
                elapsed = time.monotonic() - started
                throttling = int(elapsed) % 20 >= 18  # the last 2 s of every 20
                await http.post(
                    upstream + "/_emulator/faults", json={"faults": "throttle:1" if throttling else FAULTS}
                )
                if not windows or elapsed >= len(windows) * args.sample:
                    if windows:
                        samples.append(summarise(len(windows) * args.sample, windows[-1], pid))
                    windows.append(Window())
                await asyncio.sleep(0.25)
            # requests still out finish against the same faults, not a burst left switched on
            await http.post(upstream + "/_emulator/faults", json={"faults": FAULTS})

    windows.append(Window())
    await asyncio.gather(faults_and_samples(), *(client() for _ in range(args.clients)))
    samples.append(summarise(args.seconds, windows[-1], pid))  # the last window, its stragglers included

    # the faults stop: how do the next requests fare?
    async with httpx.AsyncClient(timeout=30) as http:
        await http.post(upstream + "/_emulator/faults", json={"faults": "none"})
        await asyncio.sleep(0.5)  # calls already out with a fault finish their retries
        after = Window()
        for _ in range(args.after):
            wanted = rng.sample(ids, 3)
            answer = (await http.post(url, json={"query": QUERY, "variables": {"ids": wanted}})).json()
            for error in answer.get("errors") or []:
                after.codes[error["extensions"]["code"]] += 1
            after.items += 3
    all_latencies = sorted(latency for w in windows for latency in w.latencies)
    codes: Counter[str] = Counter()
    for w in windows:
        codes.update(w.codes)
    return {
        "samples": samples,
        "after": after,
        "untyped": untyped,
        "codes": codes,
        "requests": len(all_latencies),
        "p50": all_latencies[len(all_latencies) // 2] * 1000,
        "p99": all_latencies[int(0.99 * (len(all_latencies) - 1))] * 1000,
        "max": all_latencies[-1] * 1000,
    }


def summarise(at: float, window: Window, pid: int) -> dict[str, Any]:
    rss, fds, sockets = process_usage(pid)
    ordered = sorted(window.latencies) or [float("nan")]
    return {
        "at s": int(at),
        "gateway RSS MB": rss,
        "open fds": fds,
        "sockets": sockets,
        "requests": len(window.latencies),
        "failed items %": 100 * window.failed_items / max(1, window.items),
        "p99 ms": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
        "errors": ", ".join(f"{k}: {v}" for k, v in sorted(window.codes.items()) if k != "VIDEO_NOT_FOUND")
        or "-",
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=120, help="length of the faulty run (default 120)")
    parser.add_argument("--clients", type=int, default=30, help="concurrent clients (default 30)")
    parser.add_argument("--sample", type=float, default=15, help="seconds per sample row (default 15)")
    parser.add_argument("--after", type=int, default=20, help="requests after the faults stop (default 20)")
    args = parser.parse_args()
    ids, _ = catalogue_ids()
    with (
        procs.emulator(latency="20-60", faults=FAULTS) as upstream,
        procs.gateway(upstream, GATEWAY_CACHE_TTL_ACTIVE="0", GATEWAY_CACHE_TTL_TERMINAL="0") as (url, pid),
    ):
        result = asyncio.run(soak(url, upstream, pid, ids, args))
        stats = httpx.get(upstream + "/_emulator/stats", timeout=30).json()
    timeout, max_wait = 5.0, 10.0  # the gateway's defaults, which this run uses
    after: Window = result["after"]
    out = [
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.\n\n",
        f"Soak: {args.clients} clients x {args.seconds:g} s against {FAULTS} plus a 2 s throttling burst "
        f"every 20 s; the emulator saw {stats['calls']} calls ({stats['faults']} with an injected fault or "
        f"throttle, {stats['throttled']} over its flow-control window), max {stats['max_calls_in_any_window']} "
        "in any 1 s window.\n\n",
        table(result["samples"]),
        f"\n{result['requests']} requests: p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, max "
        f"{result['max']:.0f} ms (bound: VOD_MAX_WAIT + 2 x VOD_TIMEOUT = {(max_wait + 2 * timeout) * 1000:.0f} ms).\n",
        f"Errors by code: {dict(result['codes'])}; untyped or transport failures: {dict(result['untyped']) or 'none'}.\n",
        f"After the faults stopped: {args.after} requests, {after.items} items, errors: {dict(after.codes) or 'none'}.\n",
    ]
    publish("".join(out), "soak.md")


if __name__ == "__main__":
    main()
