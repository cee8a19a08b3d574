"""A video's latest transcode task and its jobs, rendered as GetTranscodeSummary JSON at a given time.

Records hold fixed facts (start time, how long each job works, whether it will fail); status,
progress and CompleteTime are derived from the emulated UTC time, so videos still transcoding
advance and finish as that time moves on.

A video may be transcoded again and again (``Video.rerun``); the service answers with the latest
task only, so each new task replaces the last one in the summary: same template group and jobs,
new times, the same outcome.
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

    def render(self, now: float, shift: int = 0) -> dict[str, Any]:
        """The job as of ``now``, run ``shift`` seconds later than recorded (a re-transcode)."""
        status = self.status(now - shift)
        if status == TRANSCODING:
            progress = max(0, min(99, int(100 * (now - shift - self.start) / self.work)))
        else:
            progress = self.fail_progress if status == FAILED else 100
        out: dict[str, Any] = {
            "TranscodeTemplateId": self.template_id,
            "TranscodeJobStatus": status,
            "TranscodeProgress": progress,
            "CreationTime": utc(self.start + shift),
        }
        if status != TRANSCODING:
            out["CompleteTime"] = utc(self.end + shift)
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
    created: int  # epoch seconds the first recorded transcode task was created
    jobs: tuple[Job, ...]
    # (first, period): transcoded again at first, first + period, ... (period > any job's work)
    rerun: tuple[int, int] | None = None

    def shift(self, now: float) -> int:
        """How much later than ``created`` the latest task as of ``now`` was created."""
        if self.rerun is None or now < self.rerun[0]:
            return 0
        first, period = self.rerun
        return first + int((now - first) // period) * period - self.created

    def status(self, now: float) -> str:
        shift = self.shift(now)
        if now - (self.created + shift) > YEAR_SECONDS:
            return OLDER_THAN_A_YEAR
        states = [job.status(now - shift) for job in self.jobs]
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
        shift = self.shift(now)
        out: dict[str, Any] = {
            "VideoId": self.video_id,
            "TranscodeStatus": status,
            "TranscodeTemplateGroupId": self.group_id,
            "CreationTime": utc(self.created + shift),
        }
        if status not in (PROCESSING, PARTIAL):
            out["CompleteTime"] = utc(max(job.end for job in self.jobs) + shift)
        out["TranscodeJobInfoSummaryList"] = [job.render(now, shift) for job in self.jobs]
        return out
