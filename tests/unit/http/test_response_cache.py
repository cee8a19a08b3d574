"""The response cache on a manual clock: an entry lives no longer than its shortest TTL, within max_entries."""

from __future__ import annotations

from gateway.http.response_cache import ResponseCache
from tests.support.clock import ManualClock


def test_entries_live_no_longer_than_the_shortest_ttl() -> None:
    clock = ManualClock()
    cache = ResponseCache(ttl=1.0, clock=clock, max_entries=2)
    cache.put(b"a", b"A", ttl=0.5, outcome="ok", codes=())
    cache.put(b"b", b"B", ttl=float("inf"), outcome="ok", codes=())
    cache.put(b"z", b"Z", ttl=0.0, outcome="ok", codes=())
    assert cache.get(b"z") is None
    clock._now += 0.6
    assert cache.get(b"a") is None and cache.get(b"b") is not None
    clock._now += 0.5
    assert cache.get(b"b") is None
    for key in (b"1", b"2", b"3"):
        cache.put(key, key, ttl=1.0, outcome="ok", codes=())
    assert cache.get(b"1") is None and cache.get(b"3") is not None
