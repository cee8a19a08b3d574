"""What the Redis cache stores, without Redis: the compact codec round-trips every record; URLs are shown
without their password."""

from __future__ import annotations

from gateway.loading import codec
from gateway.loading.redis_link import redacted
from gateway.vod.errors import NoResponse, VideoNotFound
from tests.support.records import records


def test_codec_round_trips_every_record_and_not_found() -> None:
    found = records()
    assert any(j.file_size and j.file_size > 2**31 for r in found for j in r.jobs)
    assert any(r.creation_time is not None for r in found)
    for record in found:
        assert codec.decode(codec.encode(record) or b"") == record
    missing = codec.decode(codec.encode(VideoNotFound("gone")) or b"")
    assert isinstance(missing, VideoNotFound) and missing.video_id == "gone"
    assert codec.encode(NoResponse("down")) is None  # errors are never cached
    for junk in (
        b"",
        b"{}",
        b"[]",
        b'["S", 1]',
        b'["X", "a"]',
        b"not json",
        b'["S","v","Nope",null,null,null,[]]',
    ):
        assert codec.decode(junk) is None


def test_redacted_drops_the_user_and_password() -> None:
    assert redacted("rediss://user:pw@[::1]:6380/3") == "rediss://[::1]:6380/3"
    assert redacted("redis://:pw@redis/0") == "redis://redis/0"
