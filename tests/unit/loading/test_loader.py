"""The per-operation loader: a list asks the source once, for the keys not asked yet."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gateway.loading.cache import Outcome, Usable
from gateway.loading.loader import SummaryLoader
from gateway.vod.errors import NoResponse, VideoNotFound
from gateway.vod.models import SummaryStatus
from tests.support.records import rec


class Source:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    async def load_many(self, ids: Sequence[str], usable: Usable | None = None) -> list[Outcome]:
        self.calls.append(list(ids))
        await asyncio.sleep(0)
        if self.fail:
            raise NoResponse("down")
        return [VideoNotFound(i) if i.startswith("x") else rec(i, SummaryStatus.PROCESSING) for i in ids]


async def test_a_list_asks_the_source_once_and_later_loads_reuse_its_outcomes() -> None:
    source = Source()
    loader = SummaryLoader(source)
    outcomes = await loader.outcomes(["a", "x1", "a", "b"])
    assert [getattr(o, "video_id", None) for o in outcomes] == ["a", "x1", "a", "b"]
    assert isinstance(outcomes[1], VideoNotFound)
    assert source.calls == [["a", "x1", "b"]]
    assert (await loader.load("b")).video_id == "b"
    again = await asyncio.gather(loader.load("x1"), return_exceptions=True)
    assert isinstance(again[0], VideoNotFound)
    assert source.calls == [["a", "x1", "b"]]
    await loader.outcomes(["a", "c"])
    assert source.calls == [["a", "x1", "b"], ["c"]]


async def test_a_list_waits_for_a_load_already_under_way() -> None:
    source = Source()
    loader = SummaryLoader(source)
    single = loader.load("a")
    outcomes = await loader.outcomes(["a", "b"])
    assert (await single).video_id == "a" and outcomes[0].video_id == "a"
    assert sorted(map(sorted, source.calls)) == [["a"], ["b"]]


async def test_a_load_during_a_list_call_waits_for_that_call() -> None:
    source = Source()
    loader = SummaryLoader(source)
    listed = asyncio.ensure_future(loader.outcomes(["a", "b"]))
    await asyncio.sleep(0)  # the list's call is under way
    single = await loader.load("b")
    assert single.video_id == "b" and (await listed)[1] is single
    assert source.calls == [["a", "b"]]


async def test_a_failed_call_fails_each_of_its_keys() -> None:
    loader = SummaryLoader(Source(fail=True))
    outcomes = await loader.outcomes(["a", "b"])
    assert all(isinstance(o, NoResponse) for o in outcomes)
