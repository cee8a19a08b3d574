"""Root query fields: validate input, call the loaders, nothing else."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from gateway.config.settings import DEFAULTS, Settings
from gateway.schema.context import Context
from gateway.schema.lookups import check_count, load_record, load_records
from gateway.schema.streaming import is_streamed, streamed_records, streamed_videos
from gateway.schema.types import TranscodeSummary, Video

_ID_FORMAT = "1 to 64 characters of A-Z, a-z, 0-9, '_' or '-' (anything else is BAD_USER_INPUT)"
_LIST_LIMIT = (
    f"at most GATEWAY_MAX_LIST_IDS (default {DEFAULTS.max_list_ids}) per list, and GATEWAY_MAX_IDS "
    f"(default {DEFAULTS.max_ids}) per operation, across all fields and aliases"
)


def list_limit(settings: Settings) -> int:
    return min(settings.max_list_ids, settings.max_ids)


VideoIdArg = Annotated[
    strawberry.ID, strawberry.argument(description=f"The video's ID in VOD: {_ID_FORMAT}.")
]
VideoIdsArg = Annotated[
    list[strawberry.ID],
    strawberry.argument(description=f"Video IDs, each {_ID_FORMAT}; {_LIST_LIMIT}."),
]


@strawberry.type(
    description="Transcoding summaries from ApsaraVideo VOD's GetTranscodeSummary, looked up in "
    "batches of at most 10 IDs within the account's calls per second. A failed lookup is null at "
    "its field or list item, with an error at that path whose extensions.code says why."
)
class Query:
    @strawberry.field(
        description="The latest transcoding summary of one video. Null, with an error at this path, "
        "when the video doesn't exist (VIDEO_NOT_FOUND) or its lookup failed."
    )
    async def transcode_summary(
        self, info: Info[Context, None], video_id: VideoIdArg
    ) -> TranscodeSummary | None:
        # the record itself: the executor completes it (schema/executor.py)
        return cast("TranscodeSummary", await load_record(info, str(video_id)))

    @strawberry.field(
        description="Summaries of several videos: one item per requested ID, in order. An item "
        "is null, with an error at its index, when that video doesn't exist or its lookup failed. "
        "With @stream, each item goes out as soon as its upstream batch is answered."
    )
    async def transcode_summaries(
        self, info: Info[Context, None], video_ids: VideoIdsArg
    ) -> list[TranscodeSummary | None]:
        check_count(video_ids, list_limit(info.context.settings), "videoIds")
        if is_streamed(info):  # each item as soon as its batch is answered (schema/streaming.py)
            streamed = streamed_records(
                info, [str(i) for i in video_ids], "videoIds", TranscodeSummary.from_record
            )
            return cast("list[TranscodeSummary | None]", streamed)
        items = await load_records(info, [str(i) for i in video_ids], "videoIds")
        # records, completed by the executor (schema/executor.py); graphql-core turns an exception
        # in a list into null plus an error at that index
        return cast("list[TranscodeSummary | None]", items)

    @strawberry.field(
        description="One Video per requested ID, in order, for per-field lookups and schema "
        "stitching; each video's transcodeSummary is looked up in batches. With @stream, each video "
        "goes out as soon as the fields it selects are answered."
    )
    def videos(self, info: Info[Context, None], ids: VideoIdsArg) -> list[Video]:
        check_count(ids, list_limit(info.context.settings), "ids")
        if is_streamed(info):  # each video as soon as its summary's batch is answered
            streamed = streamed_videos(info, [str(i) for i in ids], lambda i: Video(id=strawberry.ID(i)))
            if streamed is not None:
                return cast("list[Video]", streamed)
        return [Video(id=i) for i in ids]
