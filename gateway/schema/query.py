"""Root query fields: validate input, call the loaders, nothing else."""

from __future__ import annotations

from typing import cast

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from gateway.schema.context import Context
from gateway.schema.lookups import check_count, load_record, load_records
from gateway.schema.types import TranscodeSummary, Video


@strawberry.type
class Query:
    @strawberry.field(
        description="The latest transcoding summary of one video. Null, with a VIDEO_NOT_FOUND "
        "error at this path, when the video doesn't exist."
    )
    async def transcode_summary(
        self, info: Info[Context, None], video_id: strawberry.ID
    ) -> TranscodeSummary | None:
        return TranscodeSummary.from_record(await load_record(info, str(video_id)))

    @strawberry.field(
        description="Summaries of several videos: one item per requested ID, in order. An item "
        "is null, with an error at its index, when that video doesn't exist or its lookup failed."
    )
    async def transcode_summaries(
        self, info: Info[Context, None], video_ids: list[strawberry.ID]
    ) -> list[TranscodeSummary | None]:
        check_count(video_ids, info.context.settings.max_ids, "videoIds")
        items = await load_records(info, [str(i) for i in video_ids], "videoIds")
        # graphql-core turns an exception in a list into null plus an error at that index
        return cast(
            "list[TranscodeSummary | None]",
            [i if isinstance(i, GraphQLError) else TranscodeSummary.from_record(i) for i in items],
        )

    @strawberry.field(
        description="One Video per requested ID, in order, for per-field lookups and schema "
        "stitching; each video's transcodeSummary is looked up in batches."
    )
    def videos(self, info: Info[Context, None], ids: list[strawberry.ID]) -> list[Video]:
        check_count(ids, info.context.settings.max_ids, "ids")
        return [Video(id=i) for i in ids]
