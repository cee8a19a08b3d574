"""The records of ``gateway.vod.models`` are the one definition of a job and a summary: the cache's
array layout and the GraphQL types follow their fields, and drift between them fails here."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.types.base import get_object_definition

from gateway.loading import codec
from gateway.schema.types import (
    JOB_PROJECTION,
    SUMMARY_PROJECTION,
    Projection,
    TranscodeJob,
    TranscodeJobStatus,
    TranscodeStatus,
    TranscodeSummary,
    source,
)
from gateway.vod.models import JobStatus, SummaryStatus, TranscodeJobRecord, TranscodeSummaryRecord

JOB = TranscodeJobRecord(
    template_id="tpl",
    status=JobStatus.TRANSCODE_SUCCESS,
    progress=100,
    creation_time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    complete_time=None,
    error_code=None,
    error_message=None,
    format="mp4",
    definition="HD",
    width=1920,
    height=1080,
    bitrate=2500.5,
    duration=12.0,
    fps=29.97,
    file_size=2**33,
    watermark_ids=("w1", "w2"),
    encrypt_type="AliyunVoDEncryption",
)
RECORD = TranscodeSummaryRecord(
    video_id="vid",
    status=SummaryStatus.COMPLETE_ALL_SUCC,
    template_group_id="grp",
    creation_time=datetime(2026, 1, 2, 3, 0, tzinfo=UTC),
    complete_time=datetime(2026, 1, 2, 3, 10, tzinfo=UTC),
    jobs=(JOB,),
)
# What v1 stores for RECORD. If this changes, the layout did: bump codec.FORMAT (it is part of every
# Redis key, so old entries become misses instead of being read with the new layout).
V1 = (
    b'["S","vid","CompleteAllSucc","grp","2026-01-02T03:00:00+00:00","2026-01-02T03:10:00+00:00",'
    b'[["tpl","TranscodeSuccess",100,"2026-01-02T03:04:05+00:00",null,null,null,"mp4","HD",1920,1080,'
    b'2500.5,12.0,29.97,8589934592,["w1","w2"],"AliyunVoDEncryption"]]]'
)


def drift(projection: Projection[Any, Any]) -> list[str]:
    """Whatever keeps a GraphQL type and its record from matching field for field."""
    record_fields = [f.name for f in dataclasses.fields(projection.record)]
    graphql_fields = [
        f.python_name for f in get_object_definition(projection.graphql_type, strict=True).fields
    ]
    sources = projection.sources
    exposed = Counter(sources.values())
    problems = [f"{n} is exposed by {exposed[n]} GraphQL fields" for n in record_fields if exposed[n] != 1]
    problems += [f"{n} has no source on the record" for n in graphql_fields if n not in sources]
    problems += [
        f"{n} comes from {a}, neither a field nor a property of the record"
        for n, a in sources.items()
        if a not in record_fields and not isinstance(getattr(projection.record, a, None), property)
    ]
    return problems


@pytest.mark.parametrize("projection", [JOB_PROJECTION, SUMMARY_PROJECTION], ids=["job", "summary"])
def test_every_record_field_is_exposed_by_exactly_one_graphql_field(projection: Projection[Any, Any]) -> None:
    assert drift(projection) == []


@dataclasses.dataclass(frozen=True)
class Toy:
    a: int
    b: str
    extra: str | None

    @property
    def doubled(self) -> int:
        return self.a * 2


@strawberry.type
class ToyWithoutExtra:
    a: int
    renamed_b: str = strawberry.field(metadata=source("b"))
    doubled: int


@strawberry.type
class ToyTwice:
    a: int
    again: int = strawberry.field(metadata=source("a"))
    b: str
    extra: str | None


@strawberry.type
class ToyOfOne:
    doubled: int


@strawberry.type
class ToyWithUnknown:
    a: int
    nowhere: int


def test_drift_between_a_type_and_its_record_is_caught() -> None:
    assert drift(Projection(ToyWithoutExtra, Toy)) == ["extra is exposed by 0 GraphQL fields"]
    assert drift(Projection(ToyTwice, Toy)) == ["a is exposed by 2 GraphQL fields"]
    with pytest.raises(TypeError, match=r"ToyWithUnknown\.nowhere has no source"):
        Projection(ToyWithUnknown, Toy)
    assert Projection(ToyOfOne, Toy)(Toy(a=2, b="b", extra=None)) == ToyOfOne(doubled=4)


def test_from_record_renames_and_converts_what_the_types_declare() -> None:
    job = TranscodeJob.from_record(JOB)
    assert job.transcode_template_id == "tpl" and job.transcode_progress == 100
    assert job.transcode_job_status is TranscodeJobStatus.TRANSCODE_SUCCESS
    assert job.watermark_ids == ["w1", "w2"] and job.file_size == 2**33 and job.fps == 29.97
    summary = TranscodeSummary.from_record(RECORD)
    assert summary.transcode_status is TranscodeStatus.COMPLETE_ALL_SUCC
    assert summary.transcode_template_group_id == "grp" and summary.video_id == "vid"
    assert summary.progress == RECORD.progress == 100 and summary.jobs == [job]


def test_the_cache_layout_is_the_records_fields_in_order() -> None:
    assert codec.FORMAT == "v1" and codec.encode(RECORD) == V1
    assert codec.decode(V1) == RECORD
    assert codec.Layout(TranscodeJobRecord).fields == tuple(f.name for f in dataclasses.fields(JOB))


@pytest.mark.parametrize(
    "bad",
    [
        V1.replace(b',"AliyunVoDEncryption"]', b"]"),  # a job one value short
        V1.replace(b',"AliyunVoDEncryption"]', b',"AliyunVoDEncryption",1]'),  # one too many
        V1.replace(b',[["tpl"', b',null,[["tpl"'),  # a summary one too many
        V1.replace(b"1920", b'"1920"'),  # a width as a string
        V1.replace(b"1920", b"true"),  # a bool is no number
        V1.replace(b"1920", b"1920.5"),  # an int field holds no fraction
        V1.replace(b'["w1","w2"]', b'"w1"'),  # a tuple from something not an array
        V1.replace(b'"TranscodeSuccess"', b"3"),  # an enum from a number
        V1.replace(b'"TranscodeSuccess"', b'"Nope"'),  # an enum value that doesn't exist
        V1.replace(b'"2026-01-02T03:04:05+00:00"', b"20260102"),  # a time that is no string
        V1.replace(b'"2026-01-02T03:04:05+00:00"', b'"yesterday"'),  # a time that is no time
        V1[: V1.index(b",[[")] + b',{"tpl":1}]',  # jobs as an object
        V1.replace(b'"TranscodeSuccess",100', b'"TranscodeSuccess",null'),  # null where none may be
    ],
)
def test_decode_is_none_for_an_entry_it_cannot_read(bad: bytes) -> None:
    assert bad != V1
    assert codec.decode(bad) is None


def test_a_float_field_stored_as_an_integer_reads_as_a_float() -> None:
    decoded = codec.decode(V1.replace(b"12.0", b"12"))
    assert isinstance(decoded, TranscodeSummaryRecord)
    assert decoded == RECORD and isinstance(decoded.jobs[0].duration, float)


@dataclasses.dataclass(frozen=True)
class Unsupported:
    tags: set[str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class KeywordOnly:
    a: int


def test_a_record_the_codec_cannot_lay_out_fails_when_the_layout_is_made() -> None:
    with pytest.raises(TypeError, match="no conversion"):
        codec.Layout(Unsupported)
    with pytest.raises(TypeError, match="by position"):
        codec.Layout(KeywordOnly)
