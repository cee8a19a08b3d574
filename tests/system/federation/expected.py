"""What the JS gateways must answer for the catalog's videos, read from the emulator's own records
(not from this gateway), so the tests compare against the source of truth."""

from __future__ import annotations

import re
from typing import Any

from tests.support.harness import Emulator
from tests.system.federation.jsprocs import MISSING_AT

FINISHED_JOB = ("TranscodeSuccess", "TranscodeFail")


def expected_summary(raw: dict[str, Any]) -> dict[str, Any]:
    """``transcodeSummary { videoId transcodeStatus progress jobs { format definition fileSize } }``
    as it must come out for one upstream record (read straight from the emulator, not the gateway)."""
    jobs = raw["TranscodeJobInfoSummaryList"]
    assert all(j["TranscodeJobStatus"] in FINISHED_JOB for j in jobs)  # terminal: progress is 100
    size = [j.get("FileSize", j.get("Filesize")) for j in jobs]  # the upstream spells it both ways
    return {
        "videoId": raw["VideoId"],
        "transcodeStatus": re.sub(r"(?<!^)(?=[A-Z])", "_", raw["TranscodeStatus"]).upper(),
        "progress": 100,
        "jobs": [
            {
                "format": j.get("Format"),
                "definition": j.get("Definition"),
                "fileSize": None if s is None else int(s),
            }
            for j, s in zip(jobs, size, strict=True)
        ],
    }


def expected_videos(emulator: Emulator, ids: list[str]) -> list[dict[str, Any]]:
    """The 30 catalog videos with their summaries, exactly: titles from the catalog, summaries from
    the emulator's records, null for the IDs it doesn't know."""
    found, missing = emulator.state.catalogue.summaries(ids)
    by_id = {raw["VideoId"]: expected_summary(raw) for raw in found}
    assert sorted(missing) == sorted(ids[i] for i in MISSING_AT)
    return [
        {"id": video_id, "title": f"Video #{n}", "transcodeSummary": by_id.get(video_id)}
        for n, video_id in enumerate(ids, start=1)
    ]
