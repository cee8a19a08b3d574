"""``POST /vod/callback``: VOD's event callbacks, authenticated by their own signature (not by API
keys), answered at once, each transcoding event a trigger to look its video up again
(``loading/refetch.py``). See docs/callbacks.md."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.config.settings import Settings
from gateway.http.view import parts_of
from gateway.schema.lookups import id_error
from gateway.vod.callbacks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    CallbackAuth,
    Verdict,
    parse_event,
    verify,
)

log = logging.getLogger("gateway.callbacks")

PATH = "/vod/callback"
MAX_CALLBACK_BYTES = 32 * 1024
"""An event is a few KiB (a TranscodeComplete lists its streams): more is refused (before
GATEWAY_MAX_BODY_BYTES, which applies too)."""

_STATUS = {Verdict.MISSING: 401, Verdict.MALFORMED: 401, Verdict.STALE: 403, Verdict.FORGED: 403}
_REASON = {
    Verdict.MISSING: "missing X-VOD-TIMESTAMP or X-VOD-SIGNATURE",
    Verdict.MALFORMED: "X-VOD-TIMESTAMP is not Unix seconds",
    Verdict.STALE: "X-VOD-TIMESTAMP is outside the allowed clock skew",
    Verdict.FORGED: "the signature does not match",
}


def _answer(status: int, message: str, counted: Callable[[str], None], result: str) -> Response:
    counted(result)
    return JSONResponse({"status": "ok" if status == 200 else "refused", "message": message}, status)


def callback_route(
    settings: Settings,
    auth: CallbackAuth,
    counted: Callable[[str], None],
    wall: Callable[[], float] = time.time,
) -> Route:
    """The endpoint for ``auth``; ``counted(result)`` for the metric; ``wall``: Unix time now."""

    async def endpoint(request: Request) -> Response:
        headers = request.headers
        verdict = verify(
            auth,
            headers.get(TIMESTAMP_HEADER),
            headers.get(SIGNATURE_HEADER),
            wall(),
            settings.callback_max_skew,
        )
        if verdict is not Verdict.OK:  # before the body is read: an unsigned sender costs nothing more
            log.warning("vod callback refused", extra={"fields": {"reason": verdict.value}})
            return _answer(_STATUS[verdict], _REASON[verdict], counted, verdict.value)
        body = bytearray()
        try:
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_CALLBACK_BYTES:
                    log.warning("vod callback refused", extra={"fields": {"reason": "too_large"}})
                    return _answer(413, f"the body is over {MAX_CALLBACK_BYTES} bytes", counted, "too_large")
        except ClientDisconnect:
            counted("disconnected")
            return Response(status_code=400)
        try:
            event = parse_event(orjson.loads(body))
        except orjson.JSONDecodeError:
            event = None
        if event is None:
            log.warning("vod callback refused", extra={"fields": {"reason": "not_an_event"}})
            return _answer(400, "the body is not a JSON event with an EventType", counted, "not_an_event")
        fields = {"event": event.event_type[:64], "video_id": (event.video_id or "")[:64]}
        if not event.transcoding:
            log.info("vod callback ignored", extra={"fields": fields})
            return _answer(200, "ignored: not a transcoding event", counted, "ignored")
        if event.video_id is None or id_error(event.video_id, None) is not None:
            log.warning("vod callback refused", extra={"fields": {**fields, "reason": "bad_video_id"}})
            return _answer(400, "VideoId is not a valid video ID", counted, "bad_video_id")
        parts_of(request).refetcher.trigger(event.video_id)
        log.info("vod callback", extra={"fields": fields})
        return _answer(200, "accepted", counted, "accepted")

    return Route(PATH, endpoint, methods=["POST"])
