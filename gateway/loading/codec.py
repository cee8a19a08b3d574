"""Cached outcomes as compact JSON: a summary record or a not-found answer, never an error.

Positional arrays keep an entry small (about 700 bytes for a summary of three jobs); datetimes
travel as ISO 8601 strings. ``FORMAT`` is part of every cache key, so a change of layout only
turns old entries into misses. :func:`decode` returns ``None`` for anything it can't read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from gateway.loading.cache import Outcome
from gateway.vod.errors import VideoNotFound
from gateway.vod.models import JobStatus, SummaryStatus, TranscodeJobRecord, TranscodeSummaryRecord

FORMAT = "v1"


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a time is not a string")
    return datetime.fromisoformat(value)


def _job(job: TranscodeJobRecord) -> list[Any]:
    return [
        job.template_id,
        job.status.value,
        job.progress,
        _time(job.creation_time),
        _time(job.complete_time),
        job.error_code,
        job.error_message,
        job.format,
        job.definition,
        job.width,
        job.height,
        job.bitrate,
        job.duration,
        job.fps,
        job.file_size,
        list(job.watermark_ids),
        job.encrypt_type,
    ]


def _parse_job(raw: list[Any]) -> TranscodeJobRecord:
    (tid, status, progress, created, completed, err_code, err_msg, fmt, definition) = raw[:9]
    (width, height, bitrate, duration, fps, size, watermarks, encrypt) = raw[9:]
    return TranscodeJobRecord(
        template_id=tid,
        status=JobStatus(status),
        progress=int(progress),
        creation_time=_parse_time(created),
        complete_time=_parse_time(completed),
        error_code=err_code,
        error_message=err_msg,
        format=fmt,
        definition=definition,
        width=width,
        height=height,
        bitrate=bitrate,
        duration=duration,
        fps=fps,
        file_size=size,
        watermark_ids=tuple(watermarks),
        encrypt_type=encrypt,
    )


def encode(outcome: Outcome) -> bytes | None:
    """JSON bytes for a record or a VideoNotFound; ``None`` for anything that must not be cached."""
    if isinstance(outcome, TranscodeSummaryRecord):
        return orjson.dumps(
            [
                "S",
                outcome.video_id,
                outcome.status.value,
                outcome.template_group_id,
                _time(outcome.creation_time),
                _time(outcome.complete_time),
                [_job(j) for j in outcome.jobs],
            ]
        )
    if isinstance(outcome, VideoNotFound):
        return orjson.dumps(["N", outcome.video_id])
    return None


def decode(data: bytes | str) -> Outcome | None:
    """The outcome stored by :func:`encode`, or ``None`` if ``data`` is not one."""
    try:
        raw = orjson.loads(data)
        if raw[0] == "N":
            return VideoNotFound(str(raw[1]))
        if raw[0] != "S":
            return None
        _, video_id, status, group, created, completed, jobs = raw
        return TranscodeSummaryRecord(
            video_id=video_id,
            status=SummaryStatus(status),
            template_group_id=group,
            creation_time=_parse_time(created),
            complete_time=_parse_time(completed),
            jobs=tuple(_parse_job(j) for j in jobs),
        )
    except (ValueError, TypeError, IndexError, KeyError):
        return None
