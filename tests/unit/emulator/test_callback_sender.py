"""The emulator's callbacks on the manual clock: one StreamTranscodeComplete per job then one
TranscodeComplete, each signed as VOD signs; retries twice 1 s apart; the loss and duplicate knobs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx

from gateway.emulator.callbacks import CallbackConfig, CallbackSender
from gateway.emulator.catalogue import Catalogue
from gateway.vod.callbacks import CallbackAuth, Verdict, verify
from gateway.vod.credentials import Secret
from tests.support.clock import ManualClock

URL = "http://gateway.test/vod/callback"
WALL = 1_800_000_000.0


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(100_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def sender(
    answers: Callable[[int], int] = lambda n: 200, **knobs: float
) -> tuple[CallbackSender, list[httpx.Request], ManualClock]:
    clock = ManualClock()
    catalogue = Catalogue.generate(60, 1, clock)
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(answers(len(requests)))

    config = CallbackConfig(URL, "auth-key-1", **knobs)  # type: ignore[arg-type]
    return (
        CallbackSender(config, catalogue, clock, wall=lambda: WALL, transport=httpx.MockTransport(handler)),
        requests,
        clock,
    )


async def test_each_job_then_the_task_signed_as_vod_signs() -> None:
    s, requests, _ = sender()
    events = s.announce()
    assert events == []  # nothing ended since it started looking
    s._catalogue.advance(900)
    events = s.announce()
    assert events
    await until(lambda: s.deliveries.sent == len(events))
    auth = CallbackAuth(URL, (Secret("auth-key-1"),))
    for request in requests:
        headers = request.headers
        assert verify(auth, headers["x-vod-timestamp"], headers["x-vod-signature"], WALL, 300) is Verdict.OK
    by_video: dict[str, list[str]] = {}
    for event in events:
        by_video.setdefault(event["VideoId"], []).append(event["EventType"])
    for video_id, types in by_video.items():
        video = s._catalogue.video(video_id)
        assert video is not None
        streams = [t for t in types if t == "StreamTranscodeComplete"]
        # the jobs that ended since it started looking (some may have ended before)
        assert 1 <= len(streams) <= len(video.jobs)
        if video.status(s._catalogue.now()) in ("Processing", "Partial"):  # a long job is still running
            assert types == streams
        else:
            assert types == [*streams, "TranscodeComplete"]
    complete = next(e for e in events if e["EventType"] == "TranscodeComplete")
    assert complete["Status"] in ("success", "fail") and len(complete["StreamInfos"]) >= 1
    assert [json.loads(r.content) for r in requests] == events
    assert s.announce() == []  # each event once
    await s.aclose()


async def test_a_failed_delivery_is_retried_twice_one_second_apart_then_dropped() -> None:
    s, requests, clock = sender(answers=lambda n: 500)
    s._catalogue.advance(900)
    events = s.announce()
    first = len(events)
    await until(lambda: len(requests) == first)
    await until(lambda: clock.sleepers == first)
    await clock.advance(1.0)
    await until(lambda: len(requests) == 2 * first)
    await until(lambda: clock.sleepers == first)
    await clock.advance(1.0)
    await until(lambda: s.deliveries.lost == first)
    assert len(requests) == 3 * first and s.deliveries.sent == 0
    await s.aclose()


async def test_the_loss_and_duplicate_knobs() -> None:
    lossy, lost_requests, _ = sender(loss=1.0)
    lossy._catalogue.advance(900)
    events = lossy.announce()
    await until(lambda: lossy.deliveries.lost == len(events))
    assert lost_requests == []
    await lossy.aclose()

    twice, requests, _ = sender(duplicate=1.0)
    twice._catalogue.advance(900)
    events = twice.announce()
    await until(lambda: twice.deliveries.sent == 2 * len(events))
    assert twice.deliveries.duplicated == len(events) and len(requests) == 2 * len(events)
    await twice.aclose()
