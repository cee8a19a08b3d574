"""MemoryReturn: memory is given back once the live subscriptions are down to half their peak and
by at least ``least``, once per such drop, on its clock's schedule; the hooks run first, the trim
after, and a failing look doesn't stop the next."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.loading.memory import MemoryReturn
from tests.support.clock import ManualClock


class Counts:
    def __init__(self) -> None:
        self.live = 0
        self.calls: list[str] = []


def _memory(counts: Counts, clock: ManualClock, least: int = 100) -> MemoryReturn:
    memory = MemoryReturn(
        lambda: counts.live, clock, every=5.0, least=least, trim=lambda: counts.calls.append("trim")
    )
    memory.on_release.append(lambda: counts.calls.append("clear"))
    return memory


def test_what_must_stay_is_copied_after_the_first_trim_and_trimmed_again() -> None:
    counts, clock = Counts(), ManualClock()
    memory = _memory(counts, clock)
    memory.rehome.append(lambda: counts.calls.append("rehome"))
    counts.live = 1000
    memory.look()
    counts.live = 0
    assert memory.look()
    assert counts.calls == ["clear", "trim", "rehome", "trim"]


def test_it_gives_back_after_half_of_the_peak_is_gone_and_by_enough() -> None:
    counts, clock = Counts(), ManualClock()
    memory = _memory(counts, clock)
    looks = []
    for live in (1000, 1000, 600, 499, 499, 400, 0):
        counts.live = live
        looks.append(memory.look())
    # 600: not half gone; 499: half and 501 gone; then a new peak of 499: 400 isn't half, 0 is
    assert looks == [False, False, False, True, False, False, True]
    assert counts.calls == ["clear", "trim", "clear", "trim"]
    assert memory.releases == 2


def test_a_small_crowd_going_is_left_alone() -> None:
    counts, clock = Counts(), ManualClock()
    memory = _memory(counts, clock, least=500)
    counts.live = 300
    memory.look()
    counts.live = 0
    assert not memory.look() and counts.calls == []


def test_it_looks_every_few_seconds_of_its_clock_and_survives_a_failing_hook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def run() -> tuple[int, list[str]]:
        counts, clock = Counts(), ManualClock()
        memory = _memory(counts, clock)
        failing = [True]

        def hook() -> None:
            if failing.pop(0) if failing else False:
                raise RuntimeError("boom")

        memory.on_release.insert(0, hook)
        memory.start()
        counts.live = 1000
        await clock.advance(5.0)
        counts.live = 0
        await clock.advance(5.0)  # the hook fails: logged, nothing given back
        counts.live = 0
        await clock.advance(5.0)  # the next look gives back
        await memory.aclose()
        return memory.releases, counts.calls

    with caplog.at_level(logging.INFO, "gateway.memory"):
        releases, calls = asyncio.run(run())
    assert (releases, calls) == (1, ["clear", "trim"])
    messages = [r.getMessage() for r in caplog.records]
    assert any("giving memory back failed: RuntimeError: boom" in m for m in messages)
    assert sum("memory given back" in m for m in messages) == 1
