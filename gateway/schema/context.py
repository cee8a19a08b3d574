"""The per-operation context: the operation's own DataLoader, and the gateway's running parts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiodataloader import DataLoader
from graphql import ExecutionResult as GraphQLExecutionResult
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import ExecutionResult

from gateway.config.settings import Settings
from gateway.loading.cache import CacheTTLs, Outcome, version_of
from gateway.loading.fair import OPEN_TENANT, Flow
from gateway.loading.parts import Parts


@dataclass
class Context:
    settings: Settings
    summaries: DataLoader[str, Any]
    parts: Parts | None = None  # None where a schema runs without the app (schema-level tests)
    ttls: CacheTTLs = field(default_factory=CacheTTLs)
    request: Request | WebSocket | None = None
    response: Response | WebSocket | None = None
    # the shortest cache TTL of the outcomes this operation used: how long its answer stays valid
    shortest_ttl: float = float("inf")
    # a WebSocket's connection_init payload (API keys may travel there: browsers can't set headers)
    connection_params: dict[str, object] | None = None
    # who the operation's lookups are queued for: the API key's tenant (``open`` when keys are off)
    tenant: str = OPEN_TENANT
    # the operation's flow in the fair queue (its span context rides on it: schema/tracing.py)
    flow: Flow | None = None
    # an HTTP operation's result, for the response cache
    result: ExecutionResult | GraphQLExecutionResult | None = field(default=None, repr=False)
    # called with the document and the request's extensions once it parsed and validated
    # (``schema/guards.py``): persisted queries register it then
    on_valid_document: Callable[[str, Mapping[str, Any] | None], Awaitable[None]] | None = field(
        default=None, repr=False
    )

    # the videos whose outcomes this operation used: a callback about one drops the cached answer
    videos: set[str] = field(default_factory=set)
    # their versions (summaries and not-found answers): the response cache reuses the answer while
    # every one is unchanged (``http/response_cache.py``)
    versions: dict[str, int] = field(default_factory=dict)

    def used(self, outcome: Outcome) -> None:
        video_id = getattr(outcome, "video_id", None)
        if isinstance(video_id, str):
            self.videos.add(video_id)
            version = version_of(outcome)
            if version is not None:
                self.versions[video_id] = version
        ttl = self.ttls.ttl_for(outcome)
        if ttl < self.shortest_ttl:
            self.shortest_ttl = ttl
