"""Summary records for cache tests: a mixed batch, or one of a given status."""

from __future__ import annotations

import random

from gateway.emulator.app import create_emulator_app
from gateway.emulator.config import EmulatorConfig
from gateway.vod.models import SummaryStatus, TranscodeSummaryRecord, parse_summary


def records(n: int = 80) -> list[TranscodeSummaryRecord]:
    """Real parsed records from the emulator's catalogue: the fixed edge cases and a random few."""
    catalogue = create_emulator_app(EmulatorConfig(catalogue_size=400)).state.emulator.catalogue
    ids = catalogue.ids[:21] + random.Random(7).sample(catalogue.ids[21:], n - 21)
    raw, _ = catalogue.summaries(ids)
    parsed = [parse_summary(r) for r in raw]
    return [r for r in parsed if r is not None]


def rec(video_id: str, status: SummaryStatus) -> TranscodeSummaryRecord:
    return TranscodeSummaryRecord(video_id, status, None, None, None, ())
