"""Load generators: many async GraphQL clients in-process, and wrk for raw request rates."""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ONE = (
    "query One($v: ID!) { transcodeSummary(videoId: $v) { videoId transcodeStatus progress creationTime completeTime "
    "jobs { definition format transcodeJobStatus transcodeProgress width height bitrate fileSize encryptType } } }"
)
QUERY = "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId transcodeStatus progress } }"


@dataclass
class LoadResult:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


class _Connection:
    """A minimal HTTP/1.1 keep-alive client: httpx costs too much CPU to drive 100 clients."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port, self._path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        head = (
            f"POST {self._path} HTTP/1.1\r\nHost: {self._host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self._writer.write(head.encode() + body)
        status_line = await self._reader.readline()
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self._reader.readexactly(length)
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def drive(url: str, ids: list[str], clients: int, seconds: float, seed: int = 1) -> LoadResult:
    """``clients`` concurrent loops, each asking 1-3 random IDs per operation, for ``seconds``."""
    rng = random.Random(seed)
    result = LoadResult(seconds)
    stop = time.monotonic() + seconds

    async def one_client() -> None:
        connection = _Connection(url)
        try:
            while time.monotonic() < stop:
                wanted = rng.sample(ids, rng.randint(1, 3))
                body = json.dumps({"query": QUERY, "variables": {"ids": wanted}}).encode()
                started = time.monotonic()
                try:
                    status, payload = await connection.post(body)
                    answer: dict[str, Any] = json.loads(payload)
                except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                    result.errors[type(exc).__name__] += 1
                    connection.close()
                    connection = _Connection(url)
                    continue
                result.latencies.append(time.monotonic() - started)
                result.requests += 1
                if status >= 500:
                    result.errors[f"HTTP {status}"] += 1
                for error in answer.get("errors") or []:
                    code = error.get("extensions", {}).get("code", "?")
                    if code != "VIDEO_NOT_FOUND":
                        result.errors[code] += 1
        finally:
            connection.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return result


def run_drive(url: str, ids: list[str], clients: int, seconds: float) -> LoadResult:
    return asyncio.run(drive(url, ids, clients, seconds))


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int


_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{body}", "r")
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  io.write(string.format("non2xx=%d\\n", summary.errors.status))
end
"""


def wrk(url: str, body: str, connections: int, seconds: int) -> WrkResult | None:
    """One wrk thread (the other core serves); None when wrk is not installed."""
    if shutil.which("wrk") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body.json"
        body_path.write_text(body)
        script = Path(tmp) / "post.lua"
        script.write_text(_LUA.replace("{body}", str(body_path)))
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"non2xx=(\d+)", out)
    return WrkResult(
        float(rps.group(1)) if rps else float("nan"),
        ms("50%"),
        ms("99%"),
        int(non2xx.group(1)) if non2xx else -1,
    )
