"""Incremental delivery (``@defer``, ``@stream``; graphql-core's experimental executor, which
Strawberry turns on with ``enable_experimental_incremental_execution``).

A list field under ``@stream`` returns an async generator instead of a list: every lookup starts at
once (in calls of 10, through the gateway-wide batcher), and each item is handed on as soon as its
own call is answered, in order. A page asking for 100 videos shows the first ones after one
upstream call instead of after ten. Without ``@stream`` the field returns its list as before.

Streamed items and deferred fragments are executed early (``errors.execute_early``): they start with
the initial payload instead of after it, so their lookups share calls with everyone else's instead
of going out one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, TypeVar, cast

from graphql import GraphQLError
from strawberry.types import Info

from gateway.loading.cache import Outcome
from gateway.schema.context import Context
from gateway.schema.lookups import id_error
from gateway.vod.client import MAX_IDS_PER_CALL
from gateway.vod.models import TranscodeSummaryRecord

T = TypeVar("T")


def is_streamed(info: Info[Context, None]) -> bool:
    """The field carries ``@stream`` (its ``if`` is left to the executor)."""
    return any(
        directive.name.value == "stream"
        for node in info._raw_info.field_nodes
        for directive in node.directives or ()
    )


def streamed_records(
    info: Info[Context, None],
    video_ids: Sequence[str],
    argument: str,
    item: Callable[[TranscodeSummaryRecord], T],
) -> AsyncGenerator[T | Exception, None]:
    """One item per ID, in order, each as soon as the call holding it is answered (an error item
    for a failed one)."""
    context = info.context

    async def items() -> AsyncGenerator[T | Exception, None]:
        async with _Lookups(context, video_ids, argument) as lookups:
            for video_id in video_ids:
                outcome = await lookups.outcome(video_id)
                yield outcome if isinstance(outcome, Exception) else item(outcome)

    return items()


def streamed_videos(
    info: Info[Context, None], video_ids: Sequence[str], video: Callable[[str], T]
) -> AsyncGenerator[T, None] | None:
    """``videos`` under ``@stream`` when it selects ``transcodeSummary``: each video as soon as the
    call holding its summary is answered (primed into the operation's loader, where the field finds
    it); None when there is nothing to wait for (the plain list streams as it is)."""
    if not _selects(info.selected_fields, "transcodeSummary"):
        return None
    context = info.context

    async def items() -> AsyncGenerator[T, None]:
        async with _Lookups(context, video_ids, None) as lookups:
            for video_id in video_ids:
                outcome = await lookups.outcome(video_id)
                if not isinstance(outcome, GraphQLError):  # an invalid ID is the field's to report
                    _prime(context, video_id, outcome)
                yield video(video_id)

    return items()


def _prime(context: Context, video_id: str, outcome: Outcome) -> None:
    """The operation's loader answers ``video_id`` with ``outcome`` (a failure too, raised where
    the field loads it; marked retrieved, so a video whose summary isn't asked for logs nothing)."""
    context.summaries.prime(video_id, outcome)
    context.summaries.load(video_id).add_done_callback(lambda f: f.cancelled() or f.exception())


def _selects(selections: Sequence[Any], name: str) -> bool:
    for selection in selections:
        if getattr(selection, "name", None) == name:
            return True
        if _selects(getattr(selection, "selections", None) or (), name):
            return True
    return False


class _Lookups:
    """The IDs' lookups, started at once through the batcher in chunks of a call's size, in the
    operation's flow (the per-operation DataLoader would hand them over only once the last call is
    answered); cancelled if the stream ends first."""

    def __init__(self, context: Context, video_ids: Sequence[str], argument: str | None) -> None:
        self._context = context
        self._invalid = {i: e for i in video_ids if (e := id_error(i, argument)) is not None}
        valid = [i for i in dict.fromkeys(video_ids) if i not in self._invalid]
        self._chunks = [valid[k : k + MAX_IDS_PER_CALL] for k in range(0, len(valid), MAX_IDS_PER_CALL)]
        self._tasks: list[asyncio.Future[dict[str, Outcome]]] = []
        self._of: dict[str, asyncio.Future[dict[str, Outcome]]] = {}

    async def __aenter__(self) -> _Lookups:
        for chunk in self._chunks:
            task = asyncio.ensure_future(_outcomes(self._context, chunk))
            self._tasks.append(task)
            self._of.update(dict.fromkeys(chunk, task))
        return self

    async def outcome(self, video_id: str) -> Outcome | GraphQLError:
        invalid = self._invalid.get(video_id)
        if invalid is not None:
            return invalid
        outcome = (await self._of[video_id])[video_id]
        self._context.used(outcome)
        return outcome

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def _outcomes(context: Context, ids: list[str]) -> dict[str, Outcome]:
    if context.parts is None:  # a schema without the app (schema-level tests): through the loader
        loaded = await asyncio.gather(*(context.summaries.load(i) for i in ids), return_exceptions=True)
        return dict(zip(ids, cast("list[Outcome]", loaded), strict=True))
    outcomes = await context.parts.source.load_many(ids, None, context.flow)
    return dict(zip(ids, outcomes, strict=True))
