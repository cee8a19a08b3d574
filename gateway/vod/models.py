"""Domain records for what GetTranscodeSummary returns, normalised once.

The upstream's quirks stop here: numbers that arrive as strings, ``Filesize`` next to ``FileSize``,
``Encryption`` as a JSON string, times as strings, status values this code has never seen. Parsing
never raises for a field: a value that can't be read becomes ``None`` (or ``UNKNOWN`` for a status).
Only a body whose overall shape is wrong raises :class:`MalformedResponse`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

log = logging.getLogger("gateway.vod")


class SummaryStatus(StrEnum):
    PROCESSING = "Processing"
    PARTIAL = "Partial"
    COMPLETE_ALL_SUCC = "CompleteAllSucc"
    COMPLETE_ALL_FAIL = "CompleteAllFail"
    COMPLETE_PARTIAL_SUCC = "CompletePartialSucc"
    UNKNOWN = "Unknown"

    @property
    def terminal(self) -> bool:
        """The task has finished. UNKNOWN (a value this gateway doesn't know yet) may be a new
        in-progress state, so it isn't."""
        return self not in _UNFINISHED


_UNFINISHED = frozenset({SummaryStatus.PROCESSING, SummaryStatus.PARTIAL, SummaryStatus.UNKNOWN})


class JobStatus(StrEnum):
    TRANSCODING = "Transcoding"
    TRANSCODE_SUCCESS = "TranscodeSuccess"
    TRANSCODE_FAIL = "TranscodeFail"
    UNKNOWN = "Unknown"


_FINISHED_JOB = frozenset({JobStatus.TRANSCODE_SUCCESS, JobStatus.TRANSCODE_FAIL})


class MalformedResponse(ValueError):
    """The body is JSON, but not the shape of a GetTranscodeSummary answer."""


# The two records below are the one definition of a job and a summary: the cache stores their
# fields as arrays in this order (gateway.loading.codec; a change of fields needs a new codec.FORMAT),
# and the GraphQL types are filled from them field for field (gateway.schema.types).
@dataclass(frozen=True, slots=True)
class TranscodeJobRecord:
    template_id: str | None
    status: JobStatus
    progress: int
    creation_time: datetime | None
    complete_time: datetime | None
    error_code: str | None
    error_message: str | None
    format: str | None
    definition: str | None
    width: int | None
    height: int | None
    bitrate: float | None
    duration: float | None
    fps: float | None
    file_size: int | None
    watermark_ids: tuple[str, ...]
    encrypt_type: str | None


@dataclass(frozen=True, slots=True)
class TranscodeSummaryRecord:
    video_id: str
    status: SummaryStatus
    template_group_id: str | None
    creation_time: datetime | None
    complete_time: datetime | None
    jobs: tuple[TranscodeJobRecord, ...]

    @property
    def progress(self) -> int:
        """Overall 0..100: the mean of the jobs' progress, a finished job counting as 100."""
        jobs = self.jobs
        if not jobs:
            return 100 if self.status.terminal else 0
        total = 0
        for job in jobs:  # a loop, not sum() over a generator: every answer reads this, per video
            total += 100 if job.status in _FINISHED_JOB else job.progress
        return total // len(jobs)


@dataclass(frozen=True, slots=True)
class SummaryPage:
    """One upstream answer: the summaries found, by video ID, and the IDs it says do not exist."""

    request_id: str | None
    summaries: Mapping[str, TranscodeSummaryRecord]
    non_existent: frozenset[str]


# ---- parsing --------------------------------------------------------------------------------

_warned_statuses: set[str] = set()
_MAX_WARNED = 1000  # a misbehaving upstream can't grow this set without bound
_E = TypeVar("_E", SummaryStatus, JobStatus)


def _status(enum: type[_E], value: object) -> _E:
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    # only short scalars are shown: a repr of a huge or deeply nested value could itself fail
    if value is None:
        shown = "(missing)"
    elif isinstance(value, str | int | float):
        shown = (_str(value) or "")[:100]
    else:
        shown = type(value).__name__
    key = f"{enum.__name__}:{shown}"
    if key not in _warned_statuses and len(_warned_statuses) < _MAX_WARNED:
        _warned_statuses.add(key)
        log.warning("unknown %s value %r mapped to UNKNOWN", enum.__name__, shown)
    return enum("Unknown")


INT32_MAX = 2**31 - 1  # GraphQL Int: widths and heights
INT64_MAX = 2**63 - 1  # the Long scalar: file sizes


def _str(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    try:
        text = str(value)
    except ValueError:  # an integer too long to print (Python's int-to-str digit limit)
        return None
    return text if text != "" else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):  # not a number, or an integer beyond any float
        return None
    return number if math.isfinite(number) else None


def _int(value: object, maximum: int = INT64_MAX) -> int | None:
    """Exact for integers up to ``maximum`` (file sizes above 2^31), also when sent as strings.

    Values outside ``0..maximum`` can't be a size, and couldn't be sent as GraphQL ``Int``/``Long``.
    """
    if isinstance(value, bool) or value is None:
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        text = value.strip()
        number = int(text) if len(text) <= 40 else None  # longer can't be in range anyway
    else:
        real = _float(value)
        number = int(real) if real is not None and real.is_integer() else None
    return number if number is not None and 0 <= number <= maximum else None


def _progress(value: object) -> int:
    number = _float(value)
    return 0 if number is None else max(0, min(100, int(number)))


MIN_YEAR = 1970


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO 8601, or shifted past year 1 or 9999
        return None
    # a service timestamp is recent: years like 0001 are placeholders, and print badly
    return parsed if MIN_YEAR <= parsed.year <= 9999 else None


def _encrypt_type(value: object) -> str | None:
    data: object = value
    if isinstance(value, str):
        if len(value) > 4096:  # a real one is '{"EncryptType":"AliyunVoDEncryption"}'
            return None
        try:
            data = json.loads(value) if value.strip() else {}
        except (ValueError, RecursionError):
            return None
    if isinstance(data, dict):
        return _str(data.get("EncryptType"))
    return None


def _watermarks(value: object) -> tuple[str, ...]:
    if isinstance(value, dict):  # an XML-to-JSON rendering wraps lists: {"WatermarkId": [...]}
        value = next(iter(value.values()), [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(s for s in (_str(v) for v in value) if s)


def _list(value: object) -> list[Any]:
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    return value if isinstance(value, list) else []


def parse_job(raw: Mapping[str, Any]) -> TranscodeJobRecord:
    size = raw.get("FileSize")
    if size is None:
        size = raw.get("Filesize")
    return TranscodeJobRecord(
        template_id=_str(raw.get("TranscodeTemplateId")),
        status=_status(JobStatus, raw.get("TranscodeJobStatus")),
        progress=_progress(raw.get("TranscodeProgress")),
        creation_time=parse_time(raw.get("CreationTime")),
        complete_time=parse_time(raw.get("CompleteTime")),
        error_code=_str(raw.get("ErrorCode")),
        error_message=_str(raw.get("ErrorMessage")),
        format=_str(raw.get("Format")),
        definition=_str(raw.get("Definition")),
        width=_int(raw.get("Width"), INT32_MAX),
        height=_int(raw.get("Height"), INT32_MAX),
        bitrate=_float(raw.get("Bitrate")),
        duration=_float(raw.get("Duration")),
        fps=_float(raw.get("Fps")),
        file_size=_int(size),
        watermark_ids=_watermarks(raw.get("WatermarkIdList")),
        encrypt_type=_encrypt_type(raw.get("Encryption")),
    )


def parse_summary(raw: Mapping[str, Any]) -> TranscodeSummaryRecord | None:
    video_id = _str(raw.get("VideoId"))
    if video_id is None:
        return None
    jobs = tuple(parse_job(j) for j in _list(raw.get("TranscodeJobInfoSummaryList")) if isinstance(j, dict))
    return TranscodeSummaryRecord(
        video_id=video_id,
        status=_status(SummaryStatus, raw.get("TranscodeStatus")),
        template_group_id=_str(raw.get("TranscodeTemplateGroupId")),
        creation_time=parse_time(raw.get("CreationTime")),
        complete_time=parse_time(raw.get("CompleteTime")),
        jobs=jobs,
    )


def parse_page(body: object) -> SummaryPage:
    """Parse a decoded GetTranscodeSummary body; raise MalformedResponse if its shape is wrong."""
    if not isinstance(body, dict):
        raise MalformedResponse("the response body is not a JSON object")
    raw_list = body.get("TranscodeSummaryList", [])
    raw_missing = body.get("NonExistVideoIds", [])
    if raw_list is None:
        raw_list = []
    if raw_missing is None:
        raw_missing = []
    if not isinstance(raw_list, list | dict) or not isinstance(raw_missing, list | dict):
        raise MalformedResponse("TranscodeSummaryList or NonExistVideoIds is not a list")
    summaries: dict[str, TranscodeSummaryRecord] = {}
    for item in _list(raw_list):
        record = parse_summary(item) if isinstance(item, dict) else None
        if record is not None:
            summaries[record.video_id] = record
    missing = frozenset(s for s in (_str(v) for v in _list(raw_missing)) if s)
    return SummaryPage(_str(body.get("RequestId")), summaries, missing)
