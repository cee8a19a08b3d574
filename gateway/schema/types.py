"""GraphQL object types, built from the domain records of ``gateway.vod.models`` in one place."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.lookups import load_record
from gateway.schema.scalars import Long
from gateway.vod.models import (
    JobStatus,
    SummaryStatus,
    TranscodeJobRecord,
    TranscodeSummaryRecord,
)


@strawberry.enum(description="Overall state of a video's latest transcoding task.")
class TranscodeStatus(Enum):
    PROCESSING = strawberry.enum_value("Processing", description="Jobs are still transcoding.")
    PARTIAL = strawberry.enum_value(
        "Partial", description="Some jobs have finished, others are still transcoding."
    )
    COMPLETE_ALL_SUCC = strawberry.enum_value("CompleteAllSucc", description="Every job succeeded.")
    COMPLETE_ALL_FAIL = strawberry.enum_value("CompleteAllFail", description="Every job failed.")
    COMPLETE_PARTIAL_SUCC = strawberry.enum_value(
        "CompletePartialSucc", description="All jobs finished; some succeeded and some failed."
    )
    UNKNOWN = strawberry.enum_value(
        "Unknown", description="A status value this gateway does not know yet (logged)."
    )


@strawberry.enum(description="State of one transcoding job (one output definition/format).")
class TranscodeJobStatus(Enum):
    TRANSCODING = strawberry.enum_value("Transcoding", description="The job is running.")
    TRANSCODE_SUCCESS = strawberry.enum_value("TranscodeSuccess", description="The job succeeded.")
    TRANSCODE_FAIL = strawberry.enum_value(
        "TranscodeFail", description="The job failed; see errorCode and errorMessage."
    )
    UNKNOWN = strawberry.enum_value(
        "Unknown", description="A status value this gateway does not know yet (logged)."
    )


_SUMMARY_STATUS = {s.value: TranscodeStatus(s.value) for s in SummaryStatus}
_JOB_STATUS = {s.value: TranscodeJobStatus(s.value) for s in JobStatus}


@strawberry.type(description="One transcoding job of a video: a single output stream.")
class TranscodeJob:
    transcode_template_id: str | None = strawberry.field(
        description="ID of the transcoding template that defined this output."
    )
    transcode_job_status: TranscodeJobStatus = strawberry.field(description="State of the job.")
    transcode_progress: int = strawberry.field(description="Progress of the job, 0 to 100 (percent).")
    creation_time: datetime | None = strawberry.field(description="When the job was created (UTC).")
    complete_time: datetime | None = strawberry.field(
        description="When the job finished (UTC); null while it runs."
    )
    error_code: str | None = strawberry.field(
        description="Error code of a failed job, as VOD reports it; null unless the job failed."
    )
    error_message: str | None = strawberry.field(
        description="Error message of a failed job, as VOD reports it; null unless the job failed."
    )
    format: str | None = strawberry.field(description="Container format: mp4, m3u8, flv, mp3, ...")
    definition: str | None = strawberry.field(
        description="Definition of the output: LD, SD, HD, FHD, OD, 2K, 4K, AUTO, ..."
    )
    width: int | None = strawberry.field(description="Width of the output, in pixels.")
    height: int | None = strawberry.field(description="Height of the output, in pixels.")
    bitrate: float | None = strawberry.field(description="Bitrate of the output, in Kbit/s.")
    duration: float | None = strawberry.field(description="Duration of the output, in seconds.")
    fps: float | None = strawberry.field(
        description="Frame rate of the output, in frames per second (may be fractional, e.g. 29.97)."
    )
    file_size: Long | None = strawberry.field(
        description="Size of the output file, in bytes (may exceed 2^31).",
    )
    watermark_ids: list[str] = strawberry.field(
        description="IDs of the watermarks applied to this output (empty when none)."
    )
    encrypt_type: str | None = strawberry.field(
        description="Encryption of the output, e.g. AliyunVoDEncryption; null when not encrypted."
    )

    @classmethod
    def from_record(cls, job: TranscodeJobRecord) -> TranscodeJob:
        return cls(
            transcode_template_id=job.template_id,
            transcode_job_status=_JOB_STATUS[job.status.value],
            transcode_progress=job.progress,
            creation_time=job.creation_time,
            complete_time=job.complete_time,
            error_code=job.error_code,
            error_message=job.error_message,
            format=job.format,
            definition=job.definition,
            width=job.width,
            height=job.height,
            bitrate=job.bitrate,
            duration=job.duration,
            fps=job.fps,
            file_size=None if job.file_size is None else Long(job.file_size),
            watermark_ids=list(job.watermark_ids),
            encrypt_type=job.encrypt_type,
        )


@strawberry.federation.type(
    keys=["videoId"],
    description="The latest transcoding summary of a video (tasks of the past year only).",
)
class TranscodeSummary:
    video_id: strawberry.ID = strawberry.field(description="ID of the video.")
    transcode_status: TranscodeStatus = strawberry.field(description="Overall state of the task.")
    transcode_template_group_id: str | None = strawberry.field(
        description="ID of the transcoding template group used."
    )
    creation_time: datetime | None = strawberry.field(
        description="When the transcoding task was created (UTC)."
    )
    complete_time: datetime | None = strawberry.field(
        description="When the task finished (UTC); null while it runs."
    )
    jobs: list[TranscodeJob] = strawberry.field(description="One entry per output stream.")
    progress: int = strawberry.field(
        description="Overall progress 0..100: the mean of the jobs' progress, a finished job as 100."
    )

    @classmethod
    def from_record(cls, record: TranscodeSummaryRecord) -> TranscodeSummary:
        return cls(
            video_id=strawberry.ID(record.video_id),
            transcode_status=_SUMMARY_STATUS[record.status.value],
            transcode_template_group_id=record.template_group_id,
            creation_time=record.creation_time,
            complete_time=record.complete_time,
            jobs=[TranscodeJob.from_record(j) for j in record.jobs],
            progress=record.progress,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info[Context, None], videoId: strawberry.ID
    ) -> TranscodeSummary | None:
        return cls.from_record(await load_record(info, str(videoId)))


@strawberry.federation.type(
    keys=["id"], description="A VOD video; this service contributes its transcoding summary."
)
class Video:
    id: strawberry.ID = strawberry.field(description="ID of the video.")

    @strawberry.field(
        description="The latest transcoding summary. Null, with an error at this path, when the "
        "video doesn't exist (VIDEO_NOT_FOUND), its ID is invalid or its lookup failed."
    )
    async def transcode_summary(self, info: Info[Context, None]) -> TranscodeSummary | None:
        # no argument to name: the ID came from videos(ids:) or from a supergraph's representation
        return TranscodeSummary.from_record(await load_record(info, str(self.id), argument=None))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Video:
        return cls(id=id)
