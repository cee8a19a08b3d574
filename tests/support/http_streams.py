"""Reading GraphQL streamed over plain HTTP in tests: SSE events (graphql-sse's distinct connections
mode) and multipart/mixed parts (Apollo's multipart subscriptions, incremental delivery), from an
``httpx`` streaming response, as they arrive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

SSE = "text/event-stream"
MULTIPART_SUBSCRIPTION = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json'
MULTIPART_DEFER = "multipart/mixed;deferSpec=20220824,application/json"


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """``(event, data)`` pairs; ``data`` decoded from JSON (None when empty); comments skipped."""
    event, data = "message", ""
    async for line in response.aiter_lines():
        if line == "":
            if data or event != "message":
                yield event, json.loads(data) if data else None
            event, data = "message", ""
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


def boundary_of(response: httpx.Response) -> str:
    params = response.headers["content-type"].split(",", 1)[0].split(";")[1:]
    found = dict(p.strip().split("=", 1) for p in params if "=" in p)
    return found["boundary"].strip('"')


async def multipart_parts(response: httpx.Response) -> AsyncIterator[Any]:
    """Each part's JSON body, in order; ends at the closing boundary (or the end of the body)."""
    delimiter = ("--" + boundary_of(response)).encode()
    buffer, parts = b"", 0
    async for chunk in response.aiter_bytes():
        buffer += chunk
        while True:
            start = buffer.find(b"\r\n\r\n")
            end = buffer.find(delimiter, start + 4) if start >= 0 else -1
            if end < 0:
                break
            body = buffer[start + 4 : end].strip()
            buffer, parts = buffer[end + len(delimiter) :], parts + 1
            if body:
                yield json.loads(body)
        if (parts and buffer.startswith(b"--")) or delimiter + b"--" in buffer:
            return
