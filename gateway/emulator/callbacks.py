"""The emulator's event callbacks, sent as VOD sends them: a signed POST of
``StreamTranscodeComplete`` for each job as it ends and ``TranscodeComplete`` once all have,
counted delivered on HTTP 200, otherwise retried twice 1 s apart and then dropped.

Knobs (``--callback-loss``, ``--callback-duplicate``, ``--callback-delay``) lose, repeat and delay
deliveries, seeded like the rest of the emulator. Events follow the catalogue's own time, so
``POST /_emulator/clock {"advance": 60}`` sends what those 60 s finished.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.clock import Clock
from gateway.emulator.catalogue import Catalogue
from gateway.emulator.model import ALL_FAILED, SUCCEEDED, Job, Video, utc
from gateway.vod.callbacks import callback_signature

log = logging.getLogger("gateway.emulator.callbacks")
RETRIES, RETRY_PAUSE, DELIVERY_TIMEOUT = 2, 1.0, 5.0
TICK = 0.1  # seconds between looks at the catalogue (its time may also jump: advance)
CONCURRENT = 8  # deliveries in flight at once: a jump in time sends its events in a queue, not a flood


@dataclass(frozen=True)
class CallbackConfig:
    url: str
    auth_key: str = field(repr=False)
    loss: float = 0.0  # probability that an event is never delivered (every attempt fails)
    duplicate: float = 0.0  # probability that a delivered event is delivered once more
    delay: float = 0.0  # seconds between an event and its first attempt
    signed_url: str | None = None  # the URL as configured, if it differs from where events go

    @property
    def signed(self) -> str:
        return self.signed_url or self.url


@dataclass
class Deliveries:
    sent: int = 0  # events delivered (HTTP 200)
    attempts: int = 0
    lost: int = 0  # events dropped: by the loss knob, or after the retries
    duplicated: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # the bodies delivered, in order


def _stream(video: Video, job: Job, shift: int, at: float) -> dict[str, Any]:
    ok = job.status(at - shift) == SUCCEEDED
    event: dict[str, Any] = {
        "EventTime": utc(job.end + shift),
        "EventType": "StreamTranscodeComplete",
        "VideoId": video.video_id,
        "Status": "success" if ok else "fail",
        "Definition": job.definition,
        "Format": job.fmt,
        "Width": job.width,
        "Height": job.height,
        "JobId": f"{video.video_id[:16]}{job.template_id[:16]}",
    }
    if ok:
        event |= {"Bitrate": job.bitrate, "Duration": str(job.duration), "Fps": job.fps, "Size": job.filesize}
        event["FileUrl"] = f"https://emulator.invalid/{video.video_id}/{job.definition}.{job.fmt.lower()}"
    elif job.error:
        event["ErrorCode"], event["ErrorMessage"] = job.error
    return event


class CallbackSender:
    """Watches the catalogue's time and delivers each event to ``config.url``."""

    def __init__(
        self,
        config: CallbackConfig,
        catalogue: Catalogue,
        clock: Clock,
        seed: int = 1,
        wall: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self._catalogue = catalogue
        self._clock = clock
        self._rng = random.Random(f"callbacks:{seed}")
        self._wall = wall
        limits = httpx.Limits(max_connections=CONCURRENT)
        self._http = httpx.AsyncClient(transport=transport, timeout=DELIVERY_TIMEOUT, limits=limits)
        self._slots = asyncio.Semaphore(CONCURRENT)
        self._seen = catalogue.now()  # events up to here are announced (or were before we started)
        self._due: list[tuple[float, str]] = []  # (when something of the video ends, video)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self.deliveries = Deliveries()
        for video_id in catalogue.ids:
            self._schedule(video_id, self._seen)

    def _schedule(self, video_id: str, after: float) -> None:
        video = self._catalogue.video(video_id)
        if video is None:
            return
        ends = [job.end + video.shift(after) for job in video.jobs]
        upcoming = [end for end in ends if end > after]
        if not upcoming and video.rerun is not None:  # the next re-transcode's jobs
            first, period = video.rerun
            start = first if after < first else first + (int((after - first) // period) + 1) * period
            upcoming = [job.end + start - video.created for job in video.jobs]
        if upcoming:
            heapq.heappush(self._due, (min(upcoming), video_id))

    def start(self) -> None:
        self._loop = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        for task in [self._loop, *self._tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *[t for t in [self._loop, *self._tasks] if t is not None], return_exceptions=True
        )
        await self._http.aclose()

    async def _run(self) -> None:
        while True:
            try:
                self.announce()
            except Exception as exc:  # a bug: say so, and keep sending what comes next
                log.error("callback announcement failed: %s: %s", type(exc).__name__, exc)
            await self._clock.sleep(TICK)

    def announce(self) -> list[dict[str, Any]]:
        """Queue the deliveries of every event since the last look; the events, in order."""
        now = self._catalogue.now()
        events: list[dict[str, Any]] = []
        while self._due and self._due[0][0] <= now:
            _, video_id = heapq.heappop(self._due)
            events += self._events_of(video_id, now)
            self._schedule(video_id, now)
        self._seen = now
        for event in events:
            task = asyncio.get_running_loop().create_task(self._deliver(event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return events

    def _events_of(self, video_id: str, now: float) -> list[dict[str, Any]]:
        video = self._catalogue.video(video_id)
        if video is None:
            return []
        shift = video.shift(now)
        ended = sorted((j for j in video.jobs if self._seen < j.end + shift <= now), key=lambda j: j.end)
        events = [_stream(video, job, shift, now) for job in ended]
        last = max(job.end for job in video.jobs) + shift
        if ended and self._seen < last <= now:  # the task's last job ended: all are done
            status = video.status(now)
            events.append(
                {
                    "EventTime": utc(last),
                    "EventType": "TranscodeComplete",
                    "VideoId": video_id,
                    "Status": "fail" if status == ALL_FAILED else "success",
                    "Extend": "",
                    "StreamInfos": [_stream(video, job, shift, now) for job in video.jobs],
                }
            )
        return events

    async def _deliver(self, event: dict[str, Any]) -> None:
        if self.config.delay > 0:
            await self._clock.sleep(self.config.delay)
        if self._rng.random() < self.config.loss:
            self.deliveries.lost += 1  # as if every attempt failed: VOD drops it
            return
        times = 2 if self._rng.random() < self.config.duplicate else 1
        self.deliveries.duplicated += times - 1
        for _ in range(times):
            await self._attempts(event)

    async def _attempts(self, event: dict[str, Any]) -> None:
        for attempt in range(1 + RETRIES):
            if attempt:
                await self._clock.sleep(RETRY_PAUSE)
            self.deliveries.attempts += 1
            timestamp = str(int(self._wall()))
            signature = callback_signature(self.config.signed, timestamp, self.config.auth_key)
            headers = {"X-VOD-TIMESTAMP": timestamp, "X-VOD-SIGNATURE": signature}
            try:
                async with self._slots:
                    response = await self._http.post(self.config.url, json=event, headers=headers)
            except httpx.HTTPError as exc:
                log.info("callback attempt failed: %s", type(exc).__name__)
                continue
            if response.status_code == 200:
                self.deliveries.sent += 1
                self.deliveries.events.append(event)
                return
        self.deliveries.lost += 1
