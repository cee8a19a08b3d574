"""A short-lived cache of whole responses to repeated, identical operations.

A page polling the same query many times a second costs the gateway a full parse-validate-execute
each time, though every summary in it comes from the summary cache. This cache answers such a
repeat from the encoded bytes of the first answer. It is keyed by the exact request body, holds only
answers without errors (or whose only errors are VIDEO_NOT_FOUND), and lives at most ``ttl`` seconds
and never longer than the shortest summary TTL behind the answer, so a repeat is at most that much
staler than the summary cache itself. Authentication and body limits run before it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from gateway.clock import Clock


@dataclass(frozen=True, slots=True)
class CachedResponse:
    expires: float
    body: bytes
    outcome: str
    codes: tuple[str, ...]


class ResponseCache:
    def __init__(self, ttl: float, clock: Clock, max_entries: int = 4096) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[bytes, CachedResponse] = OrderedDict()

    def get(self, key: bytes) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock.now():
            del self._entries[key]
            return None
        return entry

    def put(self, key: bytes, body: bytes, ttl: float, outcome: str, codes: tuple[str, ...]) -> None:
        ttl = min(ttl, self.ttl)
        if ttl <= 0:
            return
        self._entries[key] = CachedResponse(self._clock.now() + ttl, body, outcome, codes)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
