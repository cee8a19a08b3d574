"""The response cache on a manual clock: entries live at most ``ttl``, within max_entries and
max_bytes, hold the versions they were built from, and are dropped by video."""

from __future__ import annotations

from aiodataloader import DataLoader

from gateway.http.response_cache import ResponseCache
from gateway.loading.cache import version_of
from gateway.vod.errors import VideoNotFound
from gateway.vod.models import JobStatus, SummaryStatus, TranscodeJobRecord, TranscodeSummaryRecord
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
    assert cache.invalidate(["v3"]) == 1 and cache.invalidate(["v3"]) == 0
    assert len(cache) == 0 and cache.size_bytes == 0


async def test_an_entry_is_fresh_while_its_summaries_are_unchanged() -> None:
    """``fresh`` looks the videos up on the operation's loader; a changed one drops the entry."""
    current: dict[str, object] = {"v1": record("v1", 40), "v2": VideoNotFound("v2")}
    asked: list[list[str]] = []

    async def batch(keys: list[str]) -> list[object]:
        asked.append(keys)
        return [current[k] for k in keys]

    results: list[str] = []
    cache = ResponseCache(ttl=60.0, clock=ManualClock(), on_result=results.append)
    versions = {k: version_of(v) for k, v in current.items()}  # type: ignore[arg-type]
    cache.put(b"q", b"Q", outcome="partial", codes=("VIDEO_NOT_FOUND",), versions=versions)  # type: ignore[arg-type]
    assert (await cache.fresh(b"q", DataLoader(batch))) is not None  # equal content, new objects
    current["v1"] = record("v1", 40)
    assert (await cache.fresh(b"q", DataLoader(batch))) is not None
    current["v1"] = record("v1", 80)
    assert (await cache.fresh(b"q", DataLoader(batch))) is None
    assert cache.get(b"q") is None and results == ["hit", "hit", "changed"]
    assert asked == [["v1", "v2"]] * 3  # one batch each time


def record(video_id: str, progress: int) -> TranscodeSummaryRecord:
    job = TranscodeJobRecord(None, JobStatus.TRANSCODING, progress, None, None, None, None, "mp4", "HD",
                             None, None, None, None, None, None, (), None)  # fmt: skip
    return TranscodeSummaryRecord(video_id, SummaryStatus.PROCESSING, None, None, None, (job,))
