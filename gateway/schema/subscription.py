"""Root subscription fields: live transcoding progress, fed by the gateway's one shared poller.

``transcodeSummaryUpdates(videoIds)`` sends each video's current summary at once (looked up like a
query, except that only a final answer is taken from the cache), then the summary again whenever it
changes, and completes when every video has finished (or turned out not to exist). A video that
doesn't exist, or whose first lookup failed, gets an event with a null ``data`` and an error naming
it; the others go on.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncGenerator, Sequence
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from gateway.config.settings import DEFAULTS, Settings
from gateway.loading.cache import Outcome
from gateway.loading.errors import InternalFailure
from gateway.loading.loader import SummarySource
from gateway.loading.poller import Poller, View, is_final, whole
from gateway.schema.context import Context
from gateway.schema.errors import bad_user_input
from gateway.schema.lookups import id_error
from gateway.schema.selection import view_of
from gateway.schema.types import TranscodeSummary
from gateway.vod.models import TranscodeSummaryRecord

log = logging.getLogger("gateway.subscriptions")


async def first_outcomes(source: SummarySource, ids: Sequence[str]) -> list[Outcome]:
    """The state now. Only finished summaries are taken from the cache as they are: a cached
    ``Processing`` may be seconds old, and a video that completed meanwhile must start with its
    final state; a cached not-found may be a video uploaded since."""
    return await source.load_many(ids, usable=_finished)


def _finished(outcome: Outcome) -> bool:
    return isinstance(outcome, TranscodeSummaryRecord) and is_final(outcome)


def checked_ids(video_ids: Sequence[str], settings: Settings) -> list[str]:
    """The distinct IDs, in order; raise BAD_USER_INPUT (before any upstream call) if unusable."""
    limit = settings.subscription_max_ids
    if not video_ids:
        raise bad_user_input("videoIds is empty: name at least one video", argument="videoIds")
    if len(video_ids) > limit:
        raise bad_user_input(
            f"Too many IDs in videoIds: {len(video_ids)} given, at most {limit} per subscription "
            "(GATEWAY_SUBSCRIPTION_MAX_IDS)",
            argument="videoIds",
            limit=limit,
        )
    for video_id in video_ids:
        invalid = id_error(video_id)
        if invalid is not None:
            raise invalid
    # interned: the subscribers of a video (hundreds, on a busy page) hold one string, not one each
    return list(dict.fromkeys(sys.intern(video_id) for video_id in video_ids))


def _event(outcome: Outcome) -> TranscodeSummary:
    # a record is completed by the executor's projection (schema/executor.py); graphql-core turns a
    # yielded error into this event's error (data: null), and the stream goes on
    return cast("TranscodeSummary", outcome)


async def summary_updates(
    source: SummarySource, poller: Poller, ids: Sequence[str], view: View = whole
) -> AsyncGenerator[TranscodeSummary, None]:
    """First events, then changes (as ``view`` sees them) until every video is final. Its
    ``finally`` (run on complete, unsubscribe or a dropped socket alike) releases the IDs it watched."""
    watch = poller.watch(view)
    try:
        first = await first_outcomes(source, ids)
        del source  # its flow served the first lookup; the poller's rounds are the poller's flow
        unfinished: list[str] = []
        for video_id, outcome in zip(ids, first, strict=True):
            watch.seen(video_id, outcome)
            yield _event(outcome)
            if not is_final(outcome):
                unfinished.append(video_id)
        watch.add(unfinished)
        while watch.ids:
            for video_id, outcome in (await watch.changes()).items():
                if is_final(outcome):
                    watch.release([video_id])
                yield _event(outcome)
    finally:
        watch.close()


@strawberry.type(
    description="Live updates over WebSocket (graphql-transport-ws or graphql-ws, on /graphql) or HTTP "
    "streams (multipart/mixed with subscriptionSpec=1.0, or text/event-stream), fed by one shared "
    "poller that spends the account's calls like queries do, at lower priority."
)
class Subscription:
    @strawberry.subscription(
        description="Live transcoding summaries: each video's current summary at once, then again "
        "whenever a field this operation selects changes (status, progress, a job's progress, ...); "
        "completes when every video has finished. An "
        "event for a video that doesn't exist (or whose lookup failed) has a null summary and an "
        "error naming it, and the others go on."
    )
    async def transcode_summary_updates(
        self,
        info: Info[Context, None],
        video_ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Video IDs, each 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'; at most "
                f"GATEWAY_SUBSCRIPTION_MAX_IDS (default {DEFAULTS.subscription_max_ids}). "
                "Repeats are watched once."
            ),
        ],
    ) -> AsyncGenerator[TranscodeSummary, None]:
        ids = checked_ids([str(i) for i in video_ids], info.context.settings)
        view = view_of(info.selected_fields[0].selections)
        parts = info.context.parts
        if parts is None:
            raise InternalFailure()
        # its first lookup is a flow of its own; the poller's rounds are the poller's flow
        source = parts.source.flow(info.context.tenant)
        if info.context.flow is not None:  # the operation's span: its first call links to it
            source.flow.trace = info.context.flow.trace
        return summary_updates(source, parts.poller, ids, view)
