"""In-repo baselines for the gateway's CPU cost, serving the same data from memory:
``plain:app`` is Strawberry with no caches (the gateway's types, a resolver returning a fixed
record), ``raw:app`` is Starlette answering the same JSON without GraphQL (the floor)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig

from bench.load import ONE
from gateway.schema.scalars import SCALAR_MAP
from gateway.schema.types import TranscodeSummary
from gateway.vod.models import JobStatus, SummaryStatus, TranscodeJobRecord, TranscodeSummaryRecord

_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
_JOB = TranscodeJobRecord(
    "t1", JobStatus.TRANSCODE_SUCCESS, 100, _NOW, _NOW, None, None, "m3u8", "FHD",
    1920, 1080, 2000.0, 12.0, 30.0, 123456789, (), None,
)  # fmt: skip
RECORD = TranscodeSummaryRecord("v", SummaryStatus.COMPLETE_ALL_SUCC, "g", _NOW, _NOW, (_JOB, _JOB))


@strawberry.type
class Query:
    @strawberry.field
    async def transcode_summary(self, video_id: strawberry.ID) -> TranscodeSummary | None:
        return TranscodeSummary.from_record(RECORD)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


_schema = strawberry.Schema(Query, config=StrawberryConfig(scalar_map=SCALAR_MAP))
plain = Starlette(routes=[Route("/healthz", healthz), Route("/graphql", GraphQL(_schema), methods=["POST"])])

_BODY: dict[str, object] | None = None


async def _raw_graphql(request: Request) -> Response:
    global _BODY
    await request.body()
    if _BODY is None:
        _BODY = (await _schema.execute(ONE, variable_values={"v": "v"})).data
    return JSONResponse({"data": _BODY})


raw = Starlette(routes=[Route("/healthz", healthz), Route("/graphql", _raw_graphql, methods=["POST"])])
