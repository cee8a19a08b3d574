"""Whole answers to repeated, identical operations, valid while the summaries behind them are
unchanged.

A page polling the same query costs the gateway a full parse-validate-execute each time, though
every summary in it comes from the summary cache. This cache keeps the encoded bytes of the first
answer, keyed by the exact request body, with the *version* of every summary it was built from
(:func:`~gateway.loading.cache.version_of`: equal content, equal version). A repeat looks those
videos up again, through the summary cache and, where its entries have expired, the scheduler,
exactly as executing the operation would; if every one is unchanged the bytes are the answer,
however often and on whatever schedule the page polls, and any change is seen at once. If one has
changed, the operation runs on the outcomes just looked up (no second lookup) and its answer
replaces the entry.

Only answers without errors (or whose only errors are VIDEO_NOT_FOUND) are kept, at most ``ttl``
seconds (``GATEWAY_RESPONSE_CACHE_TTL``) and within ``max_entries`` and ``max_bytes``, least
recently stored first out. Authentication and body limits run before it. With Redis the summary
cache is shared, so a replica's entries are checked against what every replica has seen; the
entries themselves stay in each process. A VOD callback about a video drops every answer built
from it at once (:meth:`ResponseCache.invalidate`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable, KeysView, Mapping
from dataclasses import dataclass
from typing import Any, cast

from aiodataloader import DataLoader
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions.tracing.apollo_federation import FTV1_HEADER
from strawberry.types import ExecutionResult

from gateway.clock import Clock
from gateway.http.csrf import is_json
from gateway.http.graphql_response import accepts_json
from gateway.http.rejections import error_codes, outcome_of
from gateway.loading.cache import version_of
from gateway.schema.context import Context
from gateway.schema.errors import ErrorCode

MAX_BYTES = 64 * 1024 * 1024  # the bodies held at once, in bytes


@dataclass(frozen=True, slots=True)
class CachedResponse:
    expires: float
    body: bytes
    outcome: str
    codes: tuple[str, ...]
    versions: Mapping[str, int]  # video -> the version of the outcome the answer was built from

    @property
    def videos(self) -> KeysView[str]:
        return self.versions.keys()


class ResponseCache:
    def __init__(
        self,
        ttl: float,
        clock: Clock,
        max_entries: int = 4096,
        max_bytes: int = MAX_BYTES,
        on_result: Callable[[str], None] | None = None,
    ) -> None:
        self.ttl = ttl
        self._on_result = on_result  # "hit" or "changed", for each entry found
        self._clock = clock
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[bytes, CachedResponse] = OrderedDict()
        self._by_video: dict[str, set[bytes]] = {}  # video -> keys of the answers built from it

    def get(self, key: bytes) -> CachedResponse | None:
        """The entry, if it is younger than ``ttl``: the caller checks its versions."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock.now():
            self._drop(key)
            return None
        return entry

    async def fresh(self, key: bytes, loader: DataLoader[str, Any]) -> CachedResponse | None:
        """The entry for ``key`` if every summary behind it is unchanged, looked up on ``loader``
        (the operation's own: the summary cache, else the scheduler), so that a run after a
        change reuses those outcomes instead of looking them up again. A changed entry is dropped:
        its replacement comes with the new answer, if that is kept."""
        entry = self.get(key)
        if entry is None:
            return None
        ids = list(entry.versions)
        outcomes = await asyncio.gather(*(loader.load(i) for i in ids), return_exceptions=True)
        unchanged = all(version_of(o) == entry.versions[i] for i, o in zip(ids, outcomes, strict=True))
        if self._on_result is not None:
            self._on_result("hit" if unchanged else "changed")
        if not unchanged:
            self._drop(key)
            return None
        return entry

    def put(
        self, key: bytes, body: bytes, outcome: str, codes: tuple[str, ...], versions: Mapping[str, int]
    ) -> None:
        if self.ttl <= 0 or len(body) > self._max_bytes:
            return
        if key in self._entries:
            self._drop(key)
        entry = CachedResponse(self._clock.now() + self.ttl, body, outcome, codes, dict(versions))
        self._entries[key] = entry
        self._bytes += len(body)
        for video_id in entry.versions:
            self._by_video.setdefault(video_id, set()).add(key)
        while len(self._entries) > self._max or self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def invalidate(self, video_ids: Iterable[str]) -> int:
        """Drop every answer built from any of ``video_ids``; how many were dropped."""
        keys = {k for v in video_ids for k in self._by_video.get(v, ())}
        for key in keys:
            self._drop(key)
        return len(keys)

    def forget(self, video_ids: Iterable[str]) -> None:
        """:meth:`invalidate`, for listeners that want no answer."""
        self.invalidate(video_ids)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def _drop(self, key: bytes) -> None:
        entry = self._entries.pop(key)
        self._bytes -= len(entry.body)
        for video_id in entry.versions:
            keys = self._by_video.get(video_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_video[video_id]


async def cache_key(request: Request) -> bytes | None:
    """The raw body of a JSON POST: identical bytes ask the identical operation."""
    if request.method != "POST":
        return None
    headers = request.headers
    if FTV1_HEADER in headers or not is_json(headers.get("content-type", "")):
        return None  # a router asking for its trace wants this run's timings
    if not accepts_json(headers.get("accept")):
        return None  # a stream-only client gets its stream, never a cached JSON answer
    return await request.body()  # Starlette keeps it: the view reads the same bytes again


def remember(cache: ResponseCache, key: bytes | None, context: Context, response: Response) -> None:
    """Keep ``response`` (the answer to the body ``key``) if it may answer repeats."""
    result = context.result
    if key is None or result is None or response.status_code != 200 or result.extensions:
        return
    codes = error_codes(cast("ExecutionResult", result))
    if set(codes) <= {ErrorCode.VIDEO_NOT_FOUND.value} and context.videos <= context.versions.keys():
        cache.put(key, bytes(response.body), outcome_of(codes, result.data), codes, context.versions)
