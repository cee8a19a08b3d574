"""The emulated account's videos, looked up at emulated UTC time.

Emulated time starts at an anchor (the real time at start-up unless given), runs with the injected
:class:`~gateway.clock.Clock`, and can be pushed forward with :meth:`Catalogue.advance` (in process)
or ``POST /_emulator/clock`` (from another process).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.clock import Clock
from gateway.emulator.generate import generate_videos
from gateway.emulator.model import OLDER_THAN_A_YEAR, STATUSES, Video


class Timeline:
    """Emulated UTC epoch seconds: anchor + clock time elapsed + manual advances."""

    def __init__(self, clock: Clock, anchor: float) -> None:
        self._clock = clock
        self._start = clock.now()
        self._anchor = anchor
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def anchor(self) -> float:
        return self._anchor

    def now(self) -> float:
        return self._anchor + (self._clock.now() - self._start) + self._offset

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError("emulated time only moves forward")
        with self._lock:
            self._offset += seconds


class Catalogue:
    def __init__(self, videos: Sequence[Video], timeline: Timeline, nonexistent_id: str) -> None:
        self._videos = {video.video_id: video for video in videos}
        self._timeline = timeline
        self._nonexistent_id = nonexistent_id

    @classmethod
    def generate(cls, size: int, seed: int, clock: Clock, anchor: float | None = None) -> Catalogue:
        """The seeded catalogue; ``anchor`` (epoch seconds) defaults to the current real time."""
        start = int(time.time() if anchor is None else anchor)
        videos, missing = generate_videos(size, seed, start)
        return cls(videos, Timeline(clock, start), missing)

    def __len__(self) -> int:
        return len(self._videos)

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._videos

    @property
    def ids(self) -> list[str]:
        return list(self._videos)

    @property
    def rerun_count(self) -> int:
        """How many videos are transcoded again and again (see :mod:`gateway.emulator.generate`)."""
        return sum(1 for video in self._videos.values() if video.rerun)

    @property
    def nonexistent_id(self) -> str:
        """An ID of the right shape that is not in the catalogue."""
        return self._nonexistent_id

    def video(self, video_id: str) -> Video | None:
        return self._videos.get(video_id)

    def now(self) -> float:
        """Emulated UTC epoch seconds."""
        return self._timeline.now()

    def advance(self, seconds: float) -> None:
        """Move emulated time forward (jobs progress and finish; limiter windows are untouched)."""
        self._timeline.advance(seconds)

    def status(self, video_id: str) -> str | None:
        """The video's current TranscodeStatus, ``OlderThanAYear``, or None when unknown."""
        video = self._videos.get(video_id)
        return video.status(self.now()) if video else None

    def summaries(self, video_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[str]]:
        """(latest summaries of the known, returnable IDs, unknown IDs), both in request order."""
        now = self.now()
        found: list[dict[str, Any]] = []
        missing: list[str] = []
        for video_id in video_ids:
            video = self._videos.get(video_id)
            if video is None:
                missing.append(video_id)
            elif (summary := video.render(now)) is not None:
                found.append(summary)
        return found, missing

    def sample_ids(self, per_status: int = 3) -> dict[str, list[str]]:
        """A few IDs per current status (and ``OlderThanAYear``), for banners, demos and tests."""
        now = self.now()
        samples: dict[str, list[str]] = {status: [] for status in (*STATUSES, OLDER_THAN_A_YEAR)}
        for video in self._videos.values():
            bucket = samples.setdefault(video.status(now), [])
            if len(bucket) < per_status:
                bucket.append(video.video_id)
        return samples
