"""The response cache on a manual clock: entries live at most ``ttl``, within max_entries and
max_bytes, hold the versions they were built from, and are dropped by video."""

from __future__ import annotations

from gateway.http.response_cache import ResponseCache
from tests.support.clock import ManualClock


def test_entries_live_at_most_the_ttl_within_max_entries() -> None:
    clock = ManualClock()
    cache = ResponseCache(ttl=1.0, clock=clock, max_entries=2)
    cache.put(b"a", b"A", outcome="ok", codes=(), versions={"v1": 1})
    clock._now += 0.6
    cache.put(b"b", b"B", outcome="ok", codes=(), versions={})
    entry = cache.get(b"a")
    assert entry is not None and entry.versions == {"v1": 1} and list(entry.videos) == ["v1"]
    clock._now += 0.5
    assert cache.get(b"a") is None and cache.get(b"b") is not None
    for key in (b"1", b"2", b"3"):
        cache.put(key, key, outcome="ok", codes=(), versions={})
    assert cache.get(b"1") is None and cache.get(b"3") is not None
    assert len(cache) == 2


def test_bodies_are_bounded_in_bytes() -> None:
    cache = ResponseCache(ttl=60.0, clock=ManualClock(), max_bytes=10)
    cache.put(b"big", b"x" * 11, outcome="ok", codes=(), versions={})
    assert cache.get(b"big") is None and cache.size_bytes == 0
    for key in (b"a", b"b", b"c"):
        cache.put(key, b"x" * 4, outcome="ok", codes=(), versions={})
    assert cache.get(b"a") is None and cache.get(b"b") is not None and cache.size_bytes == 8


def test_a_video_drops_every_answer_built_from_it() -> None:
    cache = ResponseCache(ttl=60.0, clock=ManualClock())
    cache.put(b"a", b"A", outcome="ok", codes=(), versions={"v1": 1, "v2": 2})
    cache.put(b"b", b"B", outcome="ok", codes=(), versions={"v2": 2})
    cache.put(b"c", b"C", outcome="ok", codes=(), versions={"v3": 3})
    assert cache.invalidate(["v2"]) == 2
    assert cache.get(b"a") is None and cache.get(b"b") is None and cache.get(b"c") is not None
    cache.drop(b"c")
    cache.drop(b"c")  # already gone: nothing to do
    assert len(cache) == 0 and cache.size_bytes == 0
