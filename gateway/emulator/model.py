"""A video's latest transcode task and its jobs, rendered as GetTranscodeSummary JSON at a given time.

Records hold fixed facts (start time, how long each job works, whether it will fail); status,
progress and CompleteTime are derived from the emulated UTC time, so videos still transcoding
advance and finish as that time moves on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

YEAR_SECONDS = 365 * 86400

PROCESSING = "Processing"
PARTIAL = "Partial"
ALL_SUCCEEDED = "CompleteAllSucc"
ALL_FAILED = "CompleteAllFail"
PARTLY_SUCCEEDED = "CompletePartialSucc"
OLDER_THAN_A_YEAR = "OlderThanAYear"  # not a service status: such videos are simply not returned
STATUSES = (PROCESSING, PARTIAL, ALL_SUCCEEDED, ALL_FAILED, PARTLY_SUCCEEDED)

TRANSCODING = "Transcoding"
SUCCEEDED = "TranscodeSuccess"
FAILED = "TranscodeFail"

PLAIN = "{}"
ENCRYPTED = '{"EncryptType":"AliyunVoDEncryption"}'


def utc(epoch: float) -> str:
    """UTC ``yyyy-MM-ddTHH:mm:ssZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


@dataclass(frozen=True)
class Job:
    template_id: str
    definition: str
    fmt: str
    width: int
    height: int
    bitrate: int  # Kbit/s
    duration: int  # seconds of media
    fps: str
    filesize: int
    size_key: str  # "Filesize" (sample, SDK model) or "FileSize" (reference table)
    encrypted: bool
    watermarks: tuple[str, ...]
    start: int  # epoch seconds
    work: int  # seconds of transcoding until the job ends
    error: tuple[str, str] | None = None  # (ErrorCode, ErrorMessage): the job ends failed
    fail_progress: int = 0
    omit: frozenset[str] = field(default_factory=frozenset)

    @property
    def end(self) -> int:
        return self.start + self.work

    def status(self, now: float) -> str:
        if now < self.end:
            return TRANSCODING
        return FAILED if self.error else SUCCEEDED

    def render(self, now: float) -> dict[str, Any]:
        status = self.status(now)
        if status == TRANSCODING:
            progress = max(0, min(99, int(100 * (now - self.start) / self.work)))
        else:
            progress = self.fail_progress if status == FAILED else 100
        out: dict[str, Any] = {
            "TranscodeTemplateId": self.template_id,
            "TranscodeJobStatus": status,
            "TranscodeProgress": progress,
            "CreationTime": utc(self.start),
        }
        if status != TRANSCODING:
            out["CompleteTime"] = utc(self.end)
        out["Width"] = str(self.width)
        out["Height"] = str(self.height)
        if status == SUCCEEDED:
            out["Bitrate"] = str(self.bitrate)
            out["Duration"] = str(self.duration)
            out["Fps"] = self.fps
            out[self.size_key] = self.filesize
        out["Format"] = self.fmt
        out["Definition"] = self.definition
        out["Encryption"] = ENCRYPTED if self.encrypted else PLAIN
        out["WatermarkIdList"] = list(self.watermarks)
        if status == FAILED and self.error:
            out["ErrorCode"], out["ErrorMessage"] = self.error
        for name in self.omit:
            out.pop(name, None)
        return out


@dataclass(frozen=True)
class Video:
    video_id: str
    group_id: str
    created: int  # epoch seconds the latest transcode task was created
    jobs: tuple[Job, ...]

    def status(self, now: float) -> str:
        if now - self.created > YEAR_SECONDS:
            return OLDER_THAN_A_YEAR
        states = [job.status(now) for job in self.jobs]
        if TRANSCODING in states:
            return PARTIAL if len(set(states)) > 1 else PROCESSING
        if FAILED not in states:
            return ALL_SUCCEEDED
        return ALL_FAILED if SUCCEEDED not in states else PARTLY_SUCCEEDED

    def render(self, now: float) -> dict[str, Any] | None:
        """The summary, or None when the latest task is older than a year (not returned)."""
        status = self.status(now)
        if status == OLDER_THAN_A_YEAR:
            return None
        out: dict[str, Any] = {
            "VideoId": self.video_id,
            "TranscodeStatus": status,
            "TranscodeTemplateGroupId": self.group_id,
            "CreationTime": utc(self.created),
        }
        if status not in (PROCESSING, PARTIAL):
            out["CompleteTime"] = utc(max(job.end for job in self.jobs))
        out["TranscodeJobInfoSummaryList"] = [job.render(now) for job in self.jobs]
        return out
