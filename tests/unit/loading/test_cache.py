"""The in-memory summary cache: TTLs by status, not-found briefly, errors never, bounded size."""

from __future__ import annotations

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
