"""The in-memory summary cache: TTLs by status, not-found briefly, errors never, bounded size."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.loading.cache import CacheTTLs, MemoryCache
from gateway.vod.errors import NoResponse, VideoNotFound
from gateway.vod.models import SummaryStatus, TranscodeSummaryRecord
from tests.support.clock import ManualClock


def rec(video_id: str, status: SummaryStatus) -> TranscodeSummaryRecord:
    return TranscodeSummaryRecord(video_id, status, None, None, None, ())


async def test_ttls_follow_the_status() -> None:
    clock = ManualClock()
    cache = MemoryCache(CacheTTLs(active=2, terminal=30, not_found=5), clock)
    await cache.put_many(
        {
            "p": rec("p", SummaryStatus.PROCESSING),
            "q": rec("q", SummaryStatus.PARTIAL),
            "u": rec("u", SummaryStatus.UNKNOWN),
            "t": rec("t", SummaryStatus.COMPLETE_PARTIAL_SUCC),
            "n": VideoNotFound("n"),
            "e": NoResponse("down"),
        }
    )
    ids = ["p", "q", "u", "t", "n", "e"]
    assert set(await cache.get_many(ids)) == {"p", "q", "u", "t", "n"}  # errors are never cached
    await clock.advance(2.5)
    assert set(await cache.get_many(ids)) == {"t", "n"}
    await clock.advance(3)
    assert set(await cache.get_many(ids)) == {"t"}
    await clock.advance(25)
    assert await cache.get_many(ids) == {}


async def test_zero_ttl_disables_that_kind() -> None:
    clock = ManualClock()
    ttls = CacheTTLs(active=0, terminal=30, not_found=0)
    cache = MemoryCache(ttls, clock)
    await cache.put_many({"p": rec("p", SummaryStatus.PROCESSING), "n": VideoNotFound("n")})
    assert await cache.get_many(["p", "n"]) == {}
    assert ttls.enabled and not CacheTTLs(0, 0, 0).enabled


async def test_size_is_bounded_oldest_written_first_out() -> None:
    cache = MemoryCache(CacheTTLs(), ManualClock(), max_entries=3)
    for i in range(5):
        await cache.put_many({f"v{i}": rec(f"v{i}", SummaryStatus.COMPLETE_ALL_SUCC)})
    assert set(await cache.get_many([f"v{i}" for i in range(5)])) == {"v2", "v3", "v4"}
    assert len(cache) == 3


async def test_rehome_copies_the_newest_entries_in_order_and_equal() -> None:
    clock = ManualClock()
    cache = MemoryCache(CacheTTLs(active=60, terminal=60, not_found=60), clock, max_entries=3)
    await cache.put_many({"a": rec("a", SummaryStatus.PROCESSING)})
    await clock.advance(1)
    await cache.put_many({"b": rec("b", SummaryStatus.COMPLETE_ALL_SUCC), "c": VideoNotFound("c")})
    before = dict(cache._entries)
    assert cache.rehome(newest=2) == 2
    after = cache._entries

    def contents(entries: Mapping[str, tuple[float, object]]) -> list[tuple[str, float, object]]:
        return [
            (k, t, getattr(v, "video_id", None) if isinstance(v, VideoNotFound) else v)
            for k, (t, v) in entries.items()
        ]

    assert contents(after) == contents(before)  # same order, equal keys, expiries and outcomes
    assert after["a"][1] is before["a"][1]  # older than the newest two: left as it was
    for key in ("b", "c"):
        assert after[key][1] is not before[key][1] and after[key][0] is not before[key][0]
        assert next(k for k in after if k == key) is not next(k for k in before if k == key)
    assert (await cache.get_many(["b"]))["b"] == rec("b", SummaryStatus.COMPLETE_ALL_SUCC)
    await cache.put_many({"d": rec("d", SummaryStatus.PROCESSING)})  # the bound still holds, oldest out
    assert list(cache._entries) == ["b", "c", "d"]
