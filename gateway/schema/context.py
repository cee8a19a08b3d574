"""The per-request context: one set of DataLoaders per operation, sharing the gateway's parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiodataloader import DataLoader
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from gateway.loading.cache import CacheTTLs, Outcome
from gateway.settings import Settings


@dataclass
class Context:
    request: Request | WebSocket | None
    response: Response | WebSocket | None
    settings: Settings
    summaries: DataLoader[str, Any]
    ttls: CacheTTLs = field(default_factory=CacheTTLs)
    # the shortest cache TTL of the outcomes this operation used: how long its answer stays valid
    shortest_ttl: float = float("inf")

    def used(self, outcome: Outcome) -> None:
        ttl = self.ttls.ttl_for(outcome)
        if ttl < self.shortest_ttl:
            self.shortest_ttl = ttl
