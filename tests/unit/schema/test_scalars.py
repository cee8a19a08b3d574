"""DateTime and Long as clients see them: schema execution without HTTP, then the JSON encoder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from aiodataloader import DataLoader

from gateway.config.settings import load_settings
from gateway.schema.build import build_schema
from gateway.schema.context import Context
from gateway.schema.scalars import _parse_long, _serialize_datetime
from gateway.vod.models import parse_summary

QUERY = "query($v: ID!) { transcodeSummary(videoId: $v) { creationTime jobs { fileSize completeTime } } }"


async def run(raw_job: dict[str, Any]) -> bytes:
    record = parse_summary(
        {
            "VideoId": "v1",
            "TranscodeStatus": "CompleteAllSucc",
            "CreationTime": "2026-01-02T03:04:05Z",
            "TranscodeJobInfoSummaryList": [raw_job],
        }
    )

    async def batch(keys: list[str]) -> list[Any]:
        return [record for _ in keys]

    settings = load_settings({})
    context = Context(request=None, response=None, settings=settings, summaries=DataLoader(batch))
    result = await build_schema(settings).execute(QUERY, variable_values={"v": "v1"}, context_value=context)
    assert result.errors is None
    return orjson.dumps({"data": result.data})  # the encoder the HTTP view uses


@pytest.mark.parametrize(
    "size",
    [0, 2**31, 3_000_000_000, 2**53 + 1, 2**63 - 1],
    ids=["zero", "2^31", "3GB", "2^53+1", "int64-max"],
)
async def test_long_is_an_exact_json_number(size: int) -> None:
    body = await run({"FileSize": str(size), "CompleteTime": "2026-01-02T03:06:05Z"})
    assert f'"fileSize":{size}'.encode() in body  # a number, not a string, with every digit
    assert orjson.loads(body)["data"]["transcodeSummary"]["jobs"][0]["fileSize"] == size


async def test_datetime_is_iso_8601_utc_with_z() -> None:
    body = orjson.loads(await run({"CompleteTime": "2026-01-02T11:06:05+08:00"}))
    summary = body["data"]["transcodeSummary"]
    assert summary["creationTime"] == "2026-01-02T03:04:05Z"
    assert summary["jobs"][0]["completeTime"] == "2026-01-02T03:06:05Z"  # shifted to UTC


def test_datetime_serialises_any_offset_as_utc() -> None:
    east = timezone(timedelta(hours=8))
    assert _serialize_datetime(datetime(2026, 1, 2, 11, 4, 5, tzinfo=east)) == "2026-01-02T03:04:05Z"
    assert _serialize_datetime(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 1.5, "12", True])
def test_long_input_outside_64_bits_or_not_an_integer_is_refused(value: object) -> None:
    with pytest.raises(ValueError):
        _parse_long(value)
