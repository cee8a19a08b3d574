"""GraphQL object types, built from the domain records of ``gateway.vod.models`` in one place.

Each field of ``TranscodeJob`` and ``TranscodeSummary`` comes from the same-named attribute of its
record, unless its ``metadata=source(...)`` names another attribute or a conversion; ``from_record``
is built from that once, at import, and fails there if a field has no source on the record.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar, cast

import strawberry
from strawberry.types import Info
from strawberry.types.base import get_object_definition

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


# built at import: a record status with no GraphQL value fails here, not in a request
_SUMMARY_STATUS = {s: TranscodeStatus(s.value) for s in SummaryStatus}
_JOB_STATUS = {s: TranscodeJobStatus(s.value) for s in JobStatus}

Convert = Callable[[Any], Any]
R = TypeVar("R")
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Source:
    attribute: str | None  # None: the record attribute of the field's own (Python) name
    convert: Convert | None


_SOURCE = "record_source"


def source(attribute: str | None = None, convert: Convert | None = None) -> dict[str, Source]:
    """``metadata=`` of a field that isn't the same-named record attribute as it is."""
    return {_SOURCE: Source(attribute, convert)}


class Projection(Generic[R, T]):
    """Fills a GraphQL type from a record, field by field, as the type's ``source``s say.

    ``strawberry.ID`` and ``Long`` are ``NewType``s, the record's ``str`` and ``int`` at run time:
    those fields need no conversion."""

    def __init__(self, graphql_type: type[T], record: type[R]) -> None:
        self.graphql_type, self.record = graphql_type, record
        record_fields = {f.name for f in dataclasses.fields(record)}  # type: ignore[arg-type]
        plan: list[tuple[str, str, Convert | None]] = []
        for field in get_object_definition(graphql_type, strict=True).fields:
            declared: Source = field.metadata.get(_SOURCE, Source(None, None))
            attribute = declared.attribute or field.python_name
            computed = isinstance(getattr(record, attribute, None), property)
            if field.base_resolver is not None or not (attribute in record_fields or computed):
                raise TypeError(f"{graphql_type.__name__}.{field.python_name} has no source on {record}")
            plan.append((field.python_name, attribute, declared.convert))
        self._plan = tuple(plan)
        self._names = tuple(name for name, _, _ in plan)
        # one C call for all the attributes; it returns a tuple only for two or more
        getter = operator.attrgetter(*(attribute for _, attribute, _ in plan))
        self._values = getter if len(plan) > 1 else lambda record: (getter(record),)
        self._converts = tuple((name, convert) for name, _, convert in plan if convert is not None)
        self._make: Callable[..., T] = graphql_type

    @property
    def sources(self) -> dict[str, str]:
        """Each GraphQL field's Python name -> the record attribute it comes from."""
        return {name: attribute for name, attribute, _ in self._plan}

    def __call__(self, record: R) -> T:
        values = dict(zip(self._names, self._values(record), strict=False))  # same length: one getter each
        for name, convert in self._converts:
            values[name] = convert(values[name])
        return self._make(**values)


@strawberry.type(description="One transcoding job of a video: a single output stream.")
class TranscodeJob:
    transcode_template_id: str | None = strawberry.field(
        description="ID of the transcoding template that defined this output.",
        metadata=source("template_id"),
    )
    transcode_job_status: TranscodeJobStatus = strawberry.field(
        description="State of the job.", metadata=source("status", _JOB_STATUS.__getitem__)
    )
    transcode_progress: int = strawberry.field(
        description="Progress of the job, 0 to 100 (percent).", metadata=source("progress")
    )
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
        description="IDs of the watermarks applied to this output (empty when none).",
        metadata=source(convert=list),
    )
    encrypt_type: str | None = strawberry.field(
        description="Encryption of the output, e.g. AliyunVoDEncryption; null when not encrypted."
    )

    @classmethod
    def from_record(cls, job: TranscodeJobRecord) -> TranscodeJob:
        return JOB_PROJECTION(job)


JOB_PROJECTION = Projection(TranscodeJob, TranscodeJobRecord)


def _jobs(jobs: tuple[TranscodeJobRecord, ...]) -> list[TranscodeJob]:
    return [JOB_PROJECTION(j) for j in jobs]


@strawberry.federation.type(
    keys=["videoId"],
    description="The latest transcoding summary of a video (tasks of the past year only).",
)
class TranscodeSummary:
    video_id: strawberry.ID = strawberry.field(description="ID of the video.")
    transcode_status: TranscodeStatus = strawberry.field(
        description="Overall state of the task.", metadata=source("status", _SUMMARY_STATUS.__getitem__)
    )
    transcode_template_group_id: str | None = strawberry.field(
        description="ID of the transcoding template group used.", metadata=source("template_group_id")
    )
    creation_time: datetime | None = strawberry.field(
        description="When the transcoding task was created (UTC)."
    )
    complete_time: datetime | None = strawberry.field(
        description="When the task finished (UTC); null while it runs."
    )
    jobs: list[TranscodeJob] = strawberry.field(
        description="One entry per output stream.", metadata=source(convert=_jobs)
    )
    progress: int = strawberry.field(  # a property of the record, computed from its jobs
        description="Overall progress 0..100: the mean of the jobs' progress, a finished job as 100."
    )

    @classmethod
    def from_record(cls, record: TranscodeSummaryRecord) -> TranscodeSummary:
        return SUMMARY_PROJECTION(record)

    @classmethod
    async def resolve_reference(
        cls, info: Info[Context, None], videoId: strawberry.ID
    ) -> TranscodeSummary | None:
        return cls.from_record(await load_record(info, str(videoId)))


SUMMARY_PROJECTION = Projection(TranscodeSummary, TranscodeSummaryRecord)


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
        # no argument to name: the ID came from videos(ids:) or from a supergraph's representation;
        # the record itself, completed by the executor (schema/executor.py)
        return cast("TranscodeSummary", await load_record(info, str(self.id), argument=None))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Video:
        return cls(id=id)
