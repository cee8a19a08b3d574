from __future__ import annotations

import json
import re
from typing import Any

import pytest

from gateway.clock import ManualClock
from gateway.emulator.catalogue import Catalogue
from gateway.emulator.generate import GUARANTEED
from gateway.emulator.model import (
    ENCRYPTED,
    OLDER_THAN_A_YEAR,
    PLAIN,
    STATUSES,
    YEAR_SECONDS,
)

ANCHOR = 1_780_000_000  # 2026-05-28
UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
HEX32 = re.compile(r"[0-9a-f]{32}")


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
