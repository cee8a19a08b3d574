"""``python -m bench --only edge``: what the edge's byte-level guards cost (gateway/http/protocol.py:
header and URL caps counted as bytes arrive, header and body deadlines). The same floor app (raw
Starlette JSON, bench/baseline_app.py) behind uvicorn's stock httptools protocol, behind the
gateway's EdgeProtocol (httptools plus the guards, default limits), and behind h11 (which has a
limit of its own, ``h11_max_incomplete_event_size``, and no deadlines) for comparison."""

from __future__ import annotations

import json
from typing import Any

from bench import load, procs

PROTOCOLS = (
    ("httptools (uvicorn's, no guards)", "httptools"),
    ("httptools + edge guards (the gateway's)", "gateway.http.protocol:EdgeProtocol"),
    ("h11", "h11"),
)


def edge_cost(video_id: str, seconds: int) -> list[dict[str, Any]]:
    body = json.dumps({"query": load.ONE, "variables": {"v": video_id}})
    rows: list[dict[str, Any]] = []
    for name, http in PROTOCOLS:
        with procs.asgi_app("bench.baseline_app:raw", http=http) as url:
            for connections in (16, 64):
                load.wrk(url, body, connections, 2)  # warm-up
                result = load.wrk(url, body, connections, seconds)
                if result is not None:
                    row = {"protocol": name, "clients": connections, "req/s": result.rps}
                    row.update({"p50 ms": result.p50_ms, "p99 ms": result.p99_ms, "non-2xx": result.non2xx})
                    rows.append(row)
    return rows
