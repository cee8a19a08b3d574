"""Errors in incremental payloads (``@stream``, ``@defer``) through ``execute``, as the multipart
transport runs them: the same codes, paths and masking as in a whole result."""

from __future__ import annotations

from typing import Any

from aiodataloader import DataLoader

from gateway.config.settings import load_settings
from gateway.schema.build import build_schema
from gateway.schema.context import Context
from gateway.schema.errors import MASKED_MESSAGE
from gateway.vod.errors import VideoNotFound

SCHEMA = build_schema(load_settings({}))
STREAMED = 'query { transcodeSummaries(videoIds: ["v1", "v2"]) @stream(initialCount: 0) { videoId } }'
DEFERRED = 'query { videos(ids: ["v1"]) { id ... @defer(label: "s") { transcodeSummary { videoId } } } }'


def _context(outcome: Any) -> Context:
    async def batch(keys: list[str]) -> list[Any]:
        if isinstance(outcome, BaseException) and not isinstance(outcome, VideoNotFound):
            raise outcome  # the whole batch fails: a bug
        return [outcome for _ in keys]

    return Context(settings=load_settings({}), summaries=DataLoader(batch))


async def _later_errors(query: str, outcome: Any) -> list[tuple[str, dict[str, Any], list[Any]]]:
    result: Any = await SCHEMA.execute(query, context_value=_context(outcome))
    found = [(e.message, e.extensions, e.path) for e in result.initial_result.errors or ()]
    async for payload in result.subsequent_results:
        for part in (*(payload.incremental or ()), *(payload.completed or ())):
            found += [(e.message, e.extensions, e.path) for e in part.errors or ()]
    return found


async def test_a_bug_in_a_streamed_item_is_masked_and_coded() -> None:
    errors = await _later_errors(STREAMED, RuntimeError("secret detail from somewhere"))
    assert errors == [
        (MASKED_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"}, ["transcodeSummaries", 0]),
        (MASKED_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"}, ["transcodeSummaries", 1]),
    ]


async def test_a_missing_video_in_a_deferred_fragment_keeps_its_code_and_path() -> None:
    [(message, extensions, path)] = await _later_errors(DEFERRED, VideoNotFound("v1"))
    assert extensions == {"code": "VIDEO_NOT_FOUND", "videoId": "v1"}
    assert path == ["videos", 0, "transcodeSummary"] and "v1" in message
