"""What a subscriber sees of a summary: selections flattened, and views that change only when a
selected field does (or the stream ends)."""

from __future__ import annotations

from dataclasses import replace

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from gateway.loading.poller import Poller
from gateway.schema.selection import selected, view_of
from gateway.schema.subscription import _finished
from gateway.vod.errors import VideoNotFound
from gateway.vod.models import JobStatus, SummaryStatus, TranscodeJobRecord, TranscodeSummaryRecord
from tests.support.clock import ManualClock
from tests.unit.loading.test_poller import World, record


def field(name: str, *selections: Selection) -> SelectedField:
    return SelectedField(name=name, directives={}, arguments={}, selections=list(selections))


def summary(*job_progress: int, status: SummaryStatus = SummaryStatus.PROCESSING) -> TranscodeSummaryRecord:
    [template] = record("v1").jobs

    def job(progress: int) -> TranscodeJobRecord:
        done = progress == 100
        return replace(
            template, status=JobStatus.TRANSCODE_SUCCESS if done else JobStatus.TRANSCODING, progress=progress
        )

    return replace(record("v1", status), jobs=tuple(job(p) for p in job_progress))


def test_fragments_are_flattened_and_same_named_fields_merged() -> None:
    spread = FragmentSpread(
        name="F",
        type_condition="TranscodeSummary",
        directives={},
        selections=[field("jobs", field("format"))],
    )
    inline = InlineFragment(type_condition=None, directives={}, selections=[field("progress")])
    spec = selected(
        [field("__typename"), field("videoId"), field("jobs", field("transcodeProgress")), spread, inline]
    )
    assert spec == {"videoId": None, "jobs": {"transcodeProgress": None, "format": None}, "progress": None}


def test_a_view_changes_only_with_what_is_selected() -> None:
    overall = view_of([field("videoId"), field("progress")])
    per_job = view_of([field("videoId"), field("jobs", field("transcodeProgress"))])
    before, after = summary(10, 11, 12), summary(10, 12, 12)  # mean 11 both times
    assert before.progress == after.progress == 11
    assert overall(before) == overall(after)
    assert per_job(before) != per_job(after)
    assert overall(summary(10, 11, 12)) != overall(summary(40, 41, 42))


def test_the_final_answer_is_always_news() -> None:
    overall = view_of([field("progress")])
    nearly = summary(100, 100)  # every job done, the task not yet marked complete
    done = replace(nearly, status=SummaryStatus.COMPLETE_ALL_SUCC)
    assert nearly.progress == done.progress == 100
    assert overall(nearly) != overall(done)


def test_the_same_selection_shares_one_view_function() -> None:
    a = view_of([field("videoId"), field("progress")])
    b = view_of([field("progress"), field("videoId"), field("__typename")])
    assert a is b
    assert view_of([field("progress")]) is not a


def test_not_found_views_are_stable() -> None:
    view = view_of([field("progress")])
    assert view(VideoNotFound("v1")) == view(VideoNotFound("v1"))


async def test_each_subscriber_is_told_only_what_it_would_see_change() -> None:
    clock = ManualClock()
    world = World(clock)
    poller = Poller(world.lookup, clock, interval=1.0)
    overall = poller.watch(view_of([field("videoId"), field("progress")]))
    per_job = poller.watch(view_of([field("videoId"), field("jobs", field("transcodeProgress"))]))
    for watch in (overall, per_job):
        watch.seen("v1", summary(10, 11, 12))
        watch.add(["v1"])

    world.state["v1"] = summary(10, 12, 12)  # a job moved; the mean did not
    await poller.poll_round(["v1"])
    assert (await per_job.changes())["v1"] == world.state["v1"]
    assert not overall._mailbox

    world.state["v1"] = summary(40, 41, 42)
    await poller.poll_round(["v1"])
    assert (await overall.changes())["v1"] == world.state["v1"]
    assert (await per_job.changes())["v1"] == world.state["v1"]


def test_a_first_event_takes_only_finished_summaries_from_the_cache() -> None:
    """A cached Processing may be stale, and a cached not-found may be a video uploaded since."""
    done = replace(summary(100), status=SummaryStatus.COMPLETE_ALL_SUCC)
    assert _finished(done)
    assert not _finished(summary(40)) and not _finished(VideoNotFound("v1"))
