"""What every client's subscription must have seen: each video's progress moving forward, to a final
status, then the subscription's completion."""

from __future__ import annotations

from typing import Any

FINAL = {"COMPLETE_ALL_SUCC", "COMPLETE_ALL_FAIL", "COMPLETE_PARTIAL_SUCC"}


def assert_progress_to_the_end(seen: dict[str, list[list[Any]]], ids: list[str]) -> None:
    assert sorted(seen) == sorted(ids)
    for video_id, states in seen.items():
        statuses, progress = [s[0] for s in states], [s[1] for s in states]
        assert statuses[0] in ("PROCESSING", "PARTIAL"), (video_id, states)
        assert statuses[-1] in FINAL, (video_id, states)
        assert not FINAL & set(statuses[:-1]), (video_id, states)  # nothing after the final event
        assert len(states) >= 2, (video_id, states)  # real progress: at least one change seen
        assert progress == sorted(progress) or statuses[-1] != "COMPLETE_ALL_SUCC", (video_id, states)
