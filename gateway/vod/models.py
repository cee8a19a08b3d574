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
        return self not in (SummaryStatus.PROCESSING, SummaryStatus.PARTIAL)


class JobStatus(StrEnum):
    TRANSCODING = "Transcoding"
    TRANSCODE_SUCCESS = "TranscodeSuccess"
    TRANSCODE_FAIL = "TranscodeFail"
    UNKNOWN = "Unknown"


class MalformedResponse(ValueError):
    """The body is JSON, but not the shape of a GetTranscodeSummary answer."""


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
        if not self.jobs:
            return 100 if self.status.terminal and self.status is not SummaryStatus.UNKNOWN else 0
        done = (JobStatus.TRANSCODE_SUCCESS, JobStatus.TRANSCODE_FAIL)
        total = sum(100 if j.status in done else j.progress for j in self.jobs)
        return total // len(self.jobs)


@dataclass(frozen=True, slots=True)
class SummaryPage:
    """One upstream answer: the summaries found, by video ID, and the IDs it says do not exist."""

    request_id: str | None
    summaries: Mapping[str, TranscodeSummaryRecord]
    non_existent: frozenset[str]


# ---- parsing --------------------------------------------------------------------------------

_warned_statuses: set[str] = set()
_E = TypeVar("_E", SummaryStatus, JobStatus)


def _status(enum: type[_E], value: object) -> _E:
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    key = f"{enum.__name__}:{value!r}"[:200]
    if key not in _warned_statuses:
        _warned_statuses.add(key)
        log.warning("unknown %s value %r mapped to UNKNOWN", enum.__name__, str(value)[:100])
    return enum("Unknown")


def _str(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)
    return text if text != "" else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _int(value: object) -> int | None:
    """Exact for integers of any size (file sizes above 2^31), also when sent as strings."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            return int(text)
    number = _float(value)
    return int(number) if number is not None and number.is_integer() else None


def _progress(value: object) -> int:
    number = _float(value)
    return 0 if number is None else max(0, min(100, int(number)))


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _encrypt_type(value: object) -> str | None:
    data: object = value
    if isinstance(value, str):
        try:
            data = json.loads(value) if value.strip() else {}
        except ValueError:
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
        width=_int(raw.get("Width")),
        height=_int(raw.get("Height")),
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
