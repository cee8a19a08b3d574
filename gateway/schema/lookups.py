"""Validated lookups through the request's DataLoader: the one path every summary field takes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from graphql import GraphQLError
from strawberry.types import Info

from gateway.loading.errors import LookupFailed
from gateway.loading.loader import SummaryLoader
from gateway.schema.context import Context
from gateway.schema.errors import bad_user_input
from gateway.vod.errors import VodError
from gateway.vod.models import TranscodeSummaryRecord

VALID_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def id_error(video_id: str, argument: str | None = "videoId") -> GraphQLError | None:
    """Why ``video_id`` can't be sent upstream, or None if it can: 1-64 of ``[A-Za-z0-9_-]``.

    ``argument`` names the argument that held it; None where the ID came from elsewhere (a Video).
    """
    if VALID_ID.fullmatch(video_id):
        return None
    shown = video_id if len(video_id) <= 80 else video_id[:80] + "…"
    message = f"Invalid video ID {shown!r}: expected 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'"
    return bad_user_input(message, argument=argument) if argument else bad_user_input(message)


def check_count(ids: Sequence[str], limit: int, argument: str) -> None:
    if len(ids) > limit:
        raise bad_user_input(
            f"Too many IDs in {argument}: {len(ids)} given, at most {limit} allowed",
            argument=argument,
            limit=limit,
        )


async def load_record(
    info: Info[Context, None], video_id: str, argument: str | None = "videoId"
) -> TranscodeSummaryRecord:
    """The record for ``video_id``, or raise why there is none (coded in ``schema/errors.py``)."""
    invalid = id_error(video_id, argument)
    if invalid is not None:
        raise invalid
    try:
        record: TranscodeSummaryRecord = await info.context.summaries.load(video_id)
    except (VodError, LookupFailed) as exc:
        info.context.used(exc)
        raise
    info.context.used(record)
    return record


async def load_records(
    info: Info[Context, None], video_ids: Sequence[str], argument: str
) -> list[TranscodeSummaryRecord | Exception]:
    """One item per ID, in order: a record, or the error for that list item. The valid IDs go to
    the loader at once (one call to the source for those not asked yet; no task per ID)."""
    checked = [(video_id, id_error(video_id, argument)) for video_id in video_ids]
    loader = info.context.summaries
    valid = [video_id for video_id, invalid in checked if invalid is None]
    if not valid:
        found: list[Any] = []
    elif isinstance(loader, SummaryLoader):
        found = await loader.outcomes(valid)
    else:  # a plain DataLoader (schema tests)
        found = await asyncio.gather(*(loader.load(v) for v in valid), return_exceptions=True)
    outcomes = iter(found)
    used = info.context.used
    items: list[TranscodeSummaryRecord | Exception] = []
    for _, invalid in checked:
        if invalid is not None:
            items.append(invalid)  # graphql-core nulls an exception item, with its error at its index
            continue
        outcome = next(outcomes)
        if not isinstance(outcome, TranscodeSummaryRecord | VodError | LookupFailed):
            raise outcome  # a bug, or a cancellation: not this item's to report
        used(outcome)
        items.append(outcome)
    return items
