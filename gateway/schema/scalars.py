"""Custom scalars: ``DateTime`` (ISO 8601 in UTC, ``Z`` suffix) and ``Long`` (64-bit integer),
registered through ``StrawberryConfig.scalar_map`` (:data:`SCALAR_MAP`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition


def _serialize_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


DATETIME = strawberry.scalar(
    name="DateTime",
    description="A point in time, ISO 8601 in UTC, e.g. `2026-01-02T03:04:05Z`.",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError("Long must be a 64-bit integer")
    return value


Long = NewType("Long", int)

LONG = strawberry.scalar(
    name="Long",
    # the JSON text is exact; it's JavaScript's JSON.parse that rounds past 2^53, so say so
    description="A 64-bit signed integer, serialised as a JSON number whose digits are exact over "
    "the whole 64-bit range (above 2^31 included). JavaScript's JSON.parse keeps integers exact only "
    "up to 2^53; parse with a big-integer-aware reader where larger values matter.",
    serialize=int,
    parse_value=_parse_long,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {datetime: DATETIME, Long: LONG}
