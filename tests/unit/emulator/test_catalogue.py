from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from gateway.emulator.catalogue import Catalogue
from gateway.emulator.generate import GUARANTEED, RERUN_SHARE, WORK_MAX
from gateway.emulator.model import (
    ALL_FAILED,
    ALL_SUCCEEDED,
    ENCRYPTED,
    OLDER_THAN_A_YEAR,
    PARTLY_SUCCEEDED,
    PLAIN,
    STATUSES,
    YEAR_SECONDS,
    utc,
)
from tests.support.clock import ManualClock

ANCHOR = 1_780_000_000  # 2026-05-28
UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
HEX32 = re.compile(r"[0-9a-f]{32}")
ALL_DONE = (ALL_SUCCEEDED, ALL_FAILED, PARTLY_SUCCEEDED)


def catalogue(size: int = 5000, seed: int = 1, clock: ManualClock | None = None) -> Catalogue:
    return Catalogue.generate(size, seed, clock or ManualClock(), anchor=ANCHOR)


@pytest.fixture(scope="module")
def full() -> Catalogue:
    return catalogue()


def all_summaries(cat: Catalogue) -> list[dict[str, Any]]:
    return cat.summaries(cat.ids)[0]


def all_jobs(cat: Catalogue) -> list[dict[str, Any]]:
    return [job for s in all_summaries(cat) for job in s["TranscodeJobInfoSummaryList"]]


def test_same_seed_same_catalogue() -> None:
    a, b = catalogue(300, seed=7), catalogue(300, seed=7)
    assert a.ids == b.ids
    assert all_summaries(a) == all_summaries(b)
    assert a.nonexistent_id == b.nonexistent_id


def test_other_seed_other_catalogue() -> None:
    assert set(catalogue(50, seed=1).ids).isdisjoint(catalogue(50, seed=2).ids)


def test_ids_are_unique_32_hex_and_the_missing_one_is_missing(full: Catalogue) -> None:
    assert len(full) == len(set(full.ids)) == 5000
    assert all(HEX32.fullmatch(i) for i in full.ids)
    assert HEX32.fullmatch(full.nonexistent_id)
    assert full.nonexistent_id not in full
    assert full.status(full.nonexistent_id) is None


@pytest.mark.parametrize("size", [GUARANTEED, 5000])
def test_every_status_is_covered(size: int) -> None:
    cat = catalogue(size)
    samples = cat.sample_ids(per_status=2)
    assert set(samples) == {*STATUSES, OLDER_THAN_A_YEAR}
    for status, ids in samples.items():
        assert len(ids) == 2, status
        assert all(cat.status(i) == status for i in ids)


def test_every_job_status_and_shape(full: Catalogue) -> None:
    jobs = all_jobs(full)
    assert {j["TranscodeJobStatus"] for j in jobs} == {
        "Transcoding",
        "TranscodeSuccess",
        "TranscodeFail",
    }
    for job in jobs:
        assert isinstance(job["TranscodeProgress"], int)
        assert 0 <= job["TranscodeProgress"] <= 100
        assert UTC.fullmatch(job["CreationTime"])
        assert isinstance(job["Width"], str) and isinstance(job["Height"], str)
        assert job["Encryption"] in (PLAIN, ENCRYPTED)
        assert isinstance(json.loads(job["Encryption"]), dict)
        assert isinstance(job["WatermarkIdList"], list)
        if job["TranscodeJobStatus"] == "TranscodeSuccess":
            assert job["TranscodeProgress"] == 100
            assert {type(job[k]) for k in ("Bitrate", "Duration") if k in job} == {str}
            size = job.get("Filesize", job.get("FileSize"))
            assert isinstance(size, int) and size > 0
        if job["TranscodeJobStatus"] == "TranscodeFail":
            assert job["ErrorCode"] and job["ErrorMessage"]
        if job["TranscodeJobStatus"] == "Transcoding":
            assert "CompleteTime" not in job
        else:
            assert UTC.fullmatch(job["CompleteTime"])


def test_the_awkward_cases_are_present(full: Catalogue) -> None:
    jobs = all_jobs(full)
    done = [j for j in jobs if j["TranscodeJobStatus"] == "TranscodeSuccess"]
    assert any("Filesize" in j for j in done) and any("FileSize" in j for j in done)
    assert any(j.get("Filesize", j.get("FileSize", 0)) > 2**31 for j in done)
    assert {j["Encryption"] for j in jobs} == {PLAIN, ENCRYPTED}
    assert any(j["WatermarkIdList"] for j in jobs) and any(not j["WatermarkIdList"] for j in jobs)
    assert any("." in j["Fps"] for j in done if "Fps" in j)
    assert any("Fps" not in j for j in done)


def test_guaranteed_cases_do_not_depend_on_size() -> None:
    small, big = catalogue(GUARANTEED), catalogue(1000)
    assert small.ids == big.ids[:GUARANTEED]
    assert all_summaries(small) == big.summaries(small.ids)[0]


def test_summary_fields(full: Catalogue) -> None:
    for summary in all_summaries(full):
        assert HEX32.fullmatch(summary["VideoId"])
        assert summary["TranscodeStatus"] in STATUSES
        assert HEX32.fullmatch(summary["TranscodeTemplateGroupId"])
        assert UTC.fullmatch(summary["CreationTime"])
        unfinished = summary["TranscodeStatus"] in ("Processing", "Partial")
        assert ("CompleteTime" in summary) is not unfinished
        assert summary["TranscodeJobInfoSummaryList"]


def test_videos_older_than_a_year_exist_but_are_not_returned(full: Catalogue) -> None:
    old = full.sample_ids(per_status=5)[OLDER_THAN_A_YEAR]
    assert len(old) == 5
    found, missing = full.summaries(old)
    assert found == [] and missing == []


def test_videos_age_out_as_time_passes() -> None:
    cat = catalogue(GUARANTEED)
    video_id = cat.sample_ids()["CompleteAllSucc"][0]
    video = cat.video(video_id)
    assert video is not None
    cat.advance(video.created + YEAR_SECONDS - cat.now() + 1)
    assert cat.status(video_id) == OLDER_THAN_A_YEAR
    assert cat.summaries([video_id]) == ([], [])


async def test_progress_advances_with_the_clock_until_completion() -> None:
    clock = ManualClock()
    cat = catalogue(GUARANTEED, clock=clock)
    video_id = cat.sample_ids()["Processing"][0]

    def jobs() -> list[dict[str, Any]]:
        [summary], _ = cat.summaries([video_id])
        jobs: list[dict[str, Any]] = summary["TranscodeJobInfoSummaryList"]
        return jobs

    before = [j["TranscodeProgress"] for j in jobs()]
    assert all(j["TranscodeJobStatus"] == "Transcoding" for j in jobs())
    await clock.advance(10)
    after = [j["TranscodeProgress"] for j in jobs()]
    assert all(a > b for a, b in zip(after, before, strict=True))
    assert cat.status(video_id) == "Processing"
    await clock.advance(300)  # every job works at most 300 s
    [summary], _ = cat.summaries([video_id])
    assert summary["TranscodeStatus"] in ("CompleteAllSucc", "CompleteAllFail", "CompletePartialSucc")
    assert UTC.fullmatch(summary["CompleteTime"])
    assert all(j["TranscodeJobStatus"] != "Transcoding" for j in jobs())


def test_partial_videos_finish_after_a_manual_advance() -> None:
    cat = catalogue(GUARANTEED)
    video_id = cat.sample_ids()["Partial"][0]
    [summary], _ = cat.summaries([video_id])
    states = {j["TranscodeJobStatus"] for j in summary["TranscodeJobInfoSummaryList"]}
    assert "Transcoding" in states and len(states) > 1
    cat.advance(300)
    assert cat.status(video_id) in ("CompleteAllSucc", "CompleteAllFail", "CompletePartialSucc")


def test_time_cannot_go_back() -> None:
    with pytest.raises(ValueError):
        catalogue(1).advance(-1)


def test_summaries_keep_request_order(full: Catalogue) -> None:
    ids = [*full.sample_ids()["CompleteAllSucc"], full.nonexistent_id, "x"]
    found, missing = full.summaries(reversed(ids))
    assert [s["VideoId"] for s in found] == list(reversed(ids[:3]))
    assert missing == ["x", full.nonexistent_id]


def test_the_last_videos_are_transcoded_again_and_nothing_changes_until_then() -> None:
    cat = catalogue(1000)
    videos = [v for i in cat.ids if (v := cat.video(i)) is not None]
    rerun = [v for v in videos if v.rerun]
    assert rerun == videos[-(1000 // RERUN_SHARE) :] and cat.rerun_count == len(rerun)
    assert catalogue(GUARANTEED).rerun_count == 0  # the fixed cases are never re-transcoded
    # until every job of the anchor time has ended, each answers as if it never would be
    for now in (ANCHOR, ANCHOR + WORK_MAX):
        assert [v.render(now) for v in rerun] == [
            dataclasses.replace(v, rerun=None).render(now) for v in rerun
        ]


async def test_a_re_transcoded_video_shows_only_its_latest_task() -> None:
    clock = ManualClock()
    cat = catalogue(1000, clock=clock)
    video = next(
        v for i in reversed(cat.ids) if (v := cat.video(i)) and v.rerun and v.status(ANCHOR) in ALL_DONE
    )
    assert video.rerun is not None
    first, period = video.rerun
    [old], _ = cat.summaries([video.video_id])
    await clock.advance(first - cat.now())
    [new], _ = cat.summaries([video.video_id])
    assert new["TranscodeStatus"] == "Processing" and "CompleteTime" not in new
    assert new["CreationTime"] == utc(first)
    assert new["TranscodeTemplateGroupId"] == old["TranscodeTemplateGroupId"]
    assert {
        (j["TranscodeJobStatus"], j["TranscodeProgress"]) for j in new["TranscodeJobInfoSummaryList"]
    } == {("Transcoding", 0)}
    await clock.advance(WORK_MAX + 100)  # every job of the new task has ended
    [done], _ = cat.summaries([video.video_id])
    assert done["TranscodeStatus"] == old["TranscodeStatus"]
    assert done["CreationTime"] == utc(first) and done["CompleteTime"] > old["CompleteTime"]
    await clock.advance(period - WORK_MAX - 100)  # the next one starts
    [again], _ = cat.summaries([video.video_id])
    assert again["TranscodeStatus"] == "Processing" and again["CreationTime"] == utc(first + period)


def test_a_long_running_emulator_always_has_work_in_progress() -> None:
    cat = catalogue(5000)
    for hour in range(48):
        cat.advance(3600 if hour else 2 * WORK_MAX)
        samples = cat.sample_ids(1)
        assert samples["Processing"] or samples["Partial"], hour
        assert all(
            samples[status] for status in ("CompleteAllSucc", "CompleteAllFail", "CompletePartialSucc")
        )


def test_a_video_older_than_a_year_is_returned_again_once_re_transcoded() -> None:
    cat = catalogue(5000)
    old = next(
        v
        for i in reversed(cat.ids)
        if (v := cat.video(i)) and v.rerun and v.status(ANCHOR) == OLDER_THAN_A_YEAR
    )
    assert old.rerun is not None and cat.summaries([old.video_id]) == ([], [])
    cat.advance(old.rerun[0] - cat.now())
    [summary], missing = cat.summaries([old.video_id])
    assert summary["TranscodeStatus"] == "Processing" and missing == []
