"""A short-lived cache of whole responses to repeated, identical operations.

A page polling the same query many times a second costs the gateway a full parse-validate-execute
each time, though every summary in it comes from the summary cache. This cache answers such a
repeat from the encoded bytes of the first answer. It is keyed by the exact request body, holds only
answers without errors (or whose only errors are VIDEO_NOT_FOUND), and lives at most ``ttl`` seconds
and never longer than the shortest summary TTL behind the answer, so a repeat is at most that much
staler than the summary cache itself. Authentication and body limits run before it. A VOD
callback about a video drops every answer built from it at once (:meth:`ResponseCache.invalidate`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.clock import Clock


@dataclass(frozen=True, slots=True)
class CachedResponse:
    expires: float
    body: bytes
    outcome: str
    codes: tuple[str, ...]
    videos: frozenset[str] = frozenset()


class ResponseCache:
    def __init__(self, ttl: float, clock: Clock, max_entries: int = 4096) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[bytes, CachedResponse] = OrderedDict()
        self._by_video: dict[str, set[bytes]] = {}  # video -> keys of the answers built from it

    def get(self, key: bytes) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock.now():
            self._drop(key)
            return None
        return entry

    def put(
        self,
        key: bytes,
        body: bytes,
        ttl: float,
        outcome: str,
        codes: tuple[str, ...],
        videos: Iterable[str] = (),
    ) -> None:
        ttl = min(ttl, self.ttl)
        if ttl <= 0:
            return
        if key in self._entries:
            self._drop(key)
        entry = CachedResponse(self._clock.now() + ttl, body, outcome, codes, frozenset(videos))
        self._entries[key] = entry
        for video_id in entry.videos:
            self._by_video.setdefault(video_id, set()).add(key)
        while len(self._entries) > self._max:
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

    def _drop(self, key: bytes) -> None:
        entry = self._entries.pop(key)
        for video_id in entry.videos:
            keys = self._by_video.get(video_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_video[video_id]
