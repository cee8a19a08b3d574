from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.vod.models import (
    JobStatus,
    MalformedResponse,
    SummaryStatus,
    parse_job,
    parse_page,
    parse_summary,
)

SAMPLE: dict[str, Any] = {
    "RequestId": "req-1",
    "NonExistVideoIds": ["missing1"],
    "TranscodeSummaryList": [
        {
            "VideoId": "v1",
            "TranscodeStatus": "CompleteAllSucc",
            "TranscodeTemplateGroupId": "tg1",
            "CreationTime": "2026-01-02T03:04:05Z",
            "CompleteTime": "2026-01-02T03:06:05Z",
            "TranscodeJobInfoSummaryList": [
                {
                    "TranscodeTemplateId": "t1",
                    "TranscodeJobStatus": "TranscodeSuccess",
                    "TranscodeProgress": 100,
                    "Width": "960",
                    "Height": "540",
                    "Bitrate": "749.5",
                    "Duration": "12",
                    "Fps": "29.97",
                    "Filesize": 3000000000,
                    "Format": "mp4",
                    "Definition": "HD",
                    "Encryption": '{"EncryptType":"AliyunVoDEncryption"}',
                    "WatermarkIdList": ["w1", "w2"],
                },
                {
                    "TranscodeJobStatus": "TranscodeFail",
                    "TranscodeProgress": "40",
                    "FileSize": "9007199254740993",
                    "Encryption": "{}",
                    "ErrorCode": "InvalidInput",
                    "ErrorMessage": "broken source",
                },
            ],
        }
    ],
}


def test_full_record_is_normalised() -> None:
    page = parse_page(SAMPLE)
    assert page.request_id == "req-1"
    assert page.non_existent == frozenset({"missing1"})
    summary = page.summaries["v1"]
    assert summary.status is SummaryStatus.COMPLETE_ALL_SUCC
    assert summary.creation_time == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first, second = summary.jobs
    assert (first.width, first.height, first.bitrate, first.duration, first.fps) == (
        960,
        540,
        749.5,
        12.0,
        29.97,
    )
    assert first.file_size == 3_000_000_000  # above 2^31, from `Filesize`
    assert first.encrypt_type == "AliyunVoDEncryption"
    assert first.watermark_ids == ("w1", "w2")
    assert second.file_size == 9_007_199_254_740_993  # exact, from the `FileSize` spelling, as a string
    assert second.encrypt_type is None
    assert second.status is JobStatus.TRANSCODE_FAIL and second.progress == 40
    assert (second.error_code, second.error_message) == ("InvalidInput", "broken source")
    assert summary.progress == 100


def test_missing_optional_fields_are_null() -> None:
    job = parse_job({})
    assert job.status is JobStatus.UNKNOWN
    assert job.progress == 0
    assert all(
        getattr(job, f) is None
        for f in ("template_id", "width", "height", "bitrate", "duration", "fps", "file_size", "format")
    )
    assert job.watermark_ids == ()
    summary = parse_summary({"VideoId": "v"})
    assert summary is not None and summary.jobs == () and summary.complete_time is None


def test_unknown_status_is_unknown_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.vod"):
        for _ in range(3):
            record = parse_summary({"VideoId": "v", "TranscodeStatus": "Queued-New"})
            assert record is not None and record.status is SummaryStatus.UNKNOWN
    assert sum("Queued-New" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("960", 960), (960, 960), ("960.0", 960), ("", None), ("abc", None), (None, None), (True, None)],
)
def test_integer_coercion(raw: object, expected: int | None) -> None:
    assert parse_job({"Width": raw}).width == expected


def test_progress_derived_from_jobs() -> None:
    record = parse_summary(
        {
            "VideoId": "v",
            "TranscodeStatus": "Partial",
            "TranscodeJobInfoSummaryList": [
                {"TranscodeJobStatus": "TranscodeSuccess", "TranscodeProgress": 100},
                {"TranscodeJobStatus": "Transcoding", "TranscodeProgress": 50},
                {"TranscodeJobStatus": "Transcoding", "TranscodeProgress": 0},
            ],
        }
    )
    assert record is not None and record.progress == 50


@pytest.mark.parametrize("body", [[], "x", 3, None, {"TranscodeSummaryList": "nope"}])
def test_wrong_shape_raises_malformed(body: object) -> None:
    with pytest.raises(MalformedResponse):
        parse_page(body)


def test_items_without_video_id_are_skipped() -> None:
    page = parse_page({"TranscodeSummaryList": [{"TranscodeStatus": "Processing"}, 5, {"VideoId": "ok"}]})
    assert list(page.summaries) == ["ok"]
