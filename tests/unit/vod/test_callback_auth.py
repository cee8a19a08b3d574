"""VOD's callback signature (md5 of ``<URL>|<timestamp>|<AuthKey>``): the documented example, skew,
rotation, missing and malformed headers."""

from __future__ import annotations

import pytest

from gateway.config.settings import SettingsError, load_settings
from gateway.vod.callbacks import CallbackAuth, Verdict, callback_signature, parse_event, verify
from gateway.vod.credentials import Secret

URL = "https://www.example.com/your/callback"


def test_the_documented_example() -> None:
    # Alibaba's "HTTP callback authentication" page: this URL, 1519375990 and test123 sign as
    # c72b60894140fa98920f1279219b**** (the page masks the last four hex digits)
    signature = callback_signature(URL, "1519375990", "test123")
    assert signature.startswith("c72b60894140fa98920f1279219b")
    assert signature == "c72b60894140fa98920f1279219b7ed4"
    assert len(signature) == 32 and signature == signature.lower()


def auth(*keys: str) -> CallbackAuth:
    return CallbackAuth(URL, tuple(Secret(k) for k in keys))


@pytest.mark.parametrize(
    ("timestamp", "signature", "now", "verdict"),
    [
        ("1519375990", callback_signature(URL, "1519375990", "current"), 1519375990, Verdict.OK),
        ("1519375990", callback_signature(URL, "1519375990", "current").upper(), 1519376290, Verdict.OK),
        ("1519375990", callback_signature(URL, "1519375990", "old"), 1519375990, Verdict.OK),  # rotation
        ("1519375990", callback_signature(URL, "1519375990", "other"), 1519375990, Verdict.FORGED),
        ("1519375990", callback_signature(URL + "/", "1519375990", "current"), 1519375990, Verdict.FORGED),
        ("1519375991", callback_signature(URL, "1519375990", "current"), 1519375990, Verdict.FORGED),
        ("1519375990", callback_signature(URL, "1519375990", "current"), 1519376291, Verdict.STALE),
        ("1519376291", callback_signature(URL, "1519376291", "current"), 1519375990, Verdict.STALE),  # future
        (None, "x", 0, Verdict.MISSING),
        ("1519375990", None, 0, Verdict.MISSING),
        ("", "", 0, Verdict.MISSING),
        ("15193759.9", "x", 0, Verdict.MALFORMED),
        ("-1519375990", "x", 0, Verdict.MALFORMED),
    ],
)
def test_verify(timestamp: str | None, signature: str | None, now: float, verdict: Verdict) -> None:
    assert verify(auth("current", "old"), timestamp, signature, now, max_skew=300) is verdict


def test_without_the_previous_key_only_the_current_signs() -> None:
    old = callback_signature(URL, "100", "old")
    assert verify(auth("current"), "100", old, 100, 300) is Verdict.FORGED


def test_events_are_read_by_type_and_video() -> None:
    event = parse_event({"EventType": "TranscodeComplete", "VideoId": "abc", "Status": "success"})
    assert event is not None and event.transcoding and event.video_id == "abc"
    stream = parse_event({"EventType": "StreamTranscodeComplete", "VideoId": "abc", "Definition": "HD"})
    assert stream is not None and stream.transcoding
    other = parse_event({"EventType": "FileUploadComplete", "VideoId": "abc"})
    assert other is not None and not other.transcoding
    assert parse_event({"EventType": "TranscodeComplete"}) is not None  # no video: nothing to refetch
    assert not parse_event({"EventType": "TranscodeComplete", "VideoId": 5}).transcoding  # type: ignore[union-attr]
    assert parse_event([1]) is None and parse_event({"VideoId": "abc"}) is None


def test_settings_need_the_url_with_the_key_and_never_show_the_key() -> None:
    on = load_settings(
        {
            "VOD_CALLBACK_AUTH_KEY": "k-9f3a",
            "VOD_CALLBACK_URL": URL,
            "VOD_CALLBACK_AUTH_KEY_PREVIOUS": "k-old",
        }
    )
    assert on.callbacks is not None and on.callbacks.url == URL
    assert [k.reveal() for k in on.callbacks.keys] == ["k-9f3a", "k-old"]
    assert "k-9f3a" not in repr(on) and "k-9f3a" not in repr(on.callbacks)
    assert load_settings({}).callbacks is None and load_settings({}).callback_max_skew == 300
    with pytest.raises(SettingsError, match="VOD_CALLBACK_URL") as missing:
        load_settings({"VOD_CALLBACK_AUTH_KEY": "k-9f3a"})
    assert "k-9f3a" not in str(missing.value)
    with pytest.raises(SettingsError, match="without VOD_CALLBACK_AUTH_KEY"):
        load_settings({"VOD_CALLBACK_URL": URL})
