"""VOD's HTTP event callbacks: how they are signed, and the events the gateway acts on.

With ``AuthSwitch=on``, VOD sends ``X-VOD-TIMESTAMP`` (Unix seconds) and ``X-VOD-SIGNATURE``, the
MD5 hex of ``<callback URL>|<timestamp>|<AuthKey>`` with the URL exactly as configured in
``SetMessageCallback``. The body is not signed, so an event is a trigger to look the video up
again, never data to believe. Delivery is neither guaranteed nor ordered (two retries, 1 s apart),
duplicates happen, and there is no event ID.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from gateway.vod.credentials import Secret

TIMESTAMP_HEADER = "x-vod-timestamp"
SIGNATURE_HEADER = "x-vod-signature"
TRANSCODE_EVENTS = frozenset({"TranscodeComplete", "StreamTranscodeComplete"})
"""The events that mean a video's transcoding summary changed."""


@dataclass(frozen=True)
class CallbackAuth:
    """The callback URL exactly as configured in VOD, and the AuthKeys that may sign it (the
    current one first; the previous one too while a rotation settles)."""

    url: str
    keys: tuple[Secret, ...]


def callback_signature(url: str, timestamp: str, auth_key: str) -> str:
    """``md5("<url>|<timestamp>|<auth_key>")`` in lower-case hex, as VOD signs a callback."""
    return hashlib.md5(f"{url}|{timestamp}|{auth_key}".encode(), usedforsecurity=False).hexdigest()


class Verdict(Enum):
    OK = "ok"
    MISSING = "missing"  # no timestamp or signature header: 401
    MALFORMED = "malformed"  # a timestamp that isn't Unix seconds: 401
    STALE = "stale"  # outside the allowed skew: 403
    FORGED = "forged"  # no key signs it: 403


def verify(
    auth: CallbackAuth, timestamp: str | None, signature: str | None, now: float, max_skew: float
) -> Verdict:
    """Is this callback VOD's? ``keys``: the current AuthKey, then the previous one during a rotation.
    Each comparison takes constant time."""
    if not timestamp or not signature:
        return Verdict.MISSING
    if not timestamp.isdigit() or len(timestamp) > 12:
        return Verdict.MALFORMED
    if abs(now - int(timestamp)) > max_skew:
        return Verdict.STALE
    given = signature.strip().lower().encode()
    matched = False
    for key in auth.keys:  # every key is tried: the time taken doesn't say which one matched
        matched |= hmac.compare_digest(callback_signature(auth.url, timestamp, key.reveal()).encode(), given)
    return Verdict.OK if matched else Verdict.FORGED


@dataclass(frozen=True, slots=True)
class CallbackEvent:
    """What the gateway reads of an event: its type and video (the rest is unsigned detail)."""

    event_type: str
    video_id: str | None
    status: str | None

    @property
    def transcoding(self) -> bool:
        """A transcoding event about one video: worth a refetch."""
        return self.event_type in TRANSCODE_EVENTS and bool(self.video_id)


def parse_event(body: object) -> CallbackEvent | None:
    """The event in a decoded JSON body, or None if it is not an event object at all."""
    if not isinstance(body, dict):
        return None
    event_type, video_id, status = body.get("EventType"), body.get("VideoId"), body.get("Status")
    if not isinstance(event_type, str):
        return None
    return CallbackEvent(
        event_type,
        video_id if isinstance(video_id, str) else None,
        status if isinstance(status, str) else None,
    )
