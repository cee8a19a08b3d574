"""``/``: the RPC endpoint. Latency, authentication, flow control, faults, then GetTranscodeSummary.

Latency is spent before admission, as network transit would be: a burst that leaves a client
spread out arrives bunched up. Flow control counts only admitted calls of authenticated callers.
"""

from __future__ import annotations

from typing import Any, Literal

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from gateway.emulator import errors
from gateway.emulator.auth import Incoming
from gateway.emulator.respond import send_error, send_json
from gateway.emulator.state import EmulatorState
from gateway.emulator.stats import CallRecord, Outcome

ACTION = "GetTranscodeSummary"
VERSION = "2017-03-21"
MAX_IDS = 10


def parse_video_ids(raw: str) -> list[str]:
    """Comma-separated IDs, trimmed, without empties or repeats, in request order."""
    ids: list[str] = []
    for part in raw.split(","):
        video_id = part.strip()
        if video_id and video_id not in ids:
            ids.append(video_id)
    return ids


class VodService:
    """The ASGI endpoint answering ``GET /`` and ``POST /``."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self._state
        body = await Request(scope, receive).body()
        req = Incoming.build(scope["method"], scope["query_string"], scope["headers"], body)
        request_id = errors.new_request_id()
        host_id = req.headers.get("host") or errors.DEFAULT_HOST_ID
        video_ids = tuple(parse_video_ids(req.params.get("VideoIds", "")))

        if (delay := state.latency()) > 0:
            await state.clock.sleep(delay)

        key_id = req.claimed_key
        signature: Literal["v1", "v3"] = "v3" if req.is_v3 else "v1"
        admitted = False

        def record(outcome: Outcome, status: int, code: str | None = None) -> None:
            state.stats.record(
                CallRecord(state.clock.now(), key_id, video_ids, outcome, code, status, admitted, signature)
            )

        try:
            caller = state.verifier.verify(req)
            if caller.action != ACTION:
                raise errors.action_not_found()
            if caller.version != VERSION:
                raise errors.version_invalid()
            if not state.limiter.try_acquire(caller.access_key_id):
                error = errors.throttled()
                record("throttled", error.status, error.code)
                await send_error(send, error, request_id, host_id)
                return
            admitted = True
            if fault := state.faults.pick():
                status = state.faults.status_for(fault)
                record("fault", status, fault)
                await state.faults.perform(fault, status, receive, send, request_id, host_id)
                return
            payload = self._summaries(req.params, request_id)
        except errors.ApiError as error:
            record("error", error.status, error.code)
            await send_error(send, error, request_id, host_id)
            return
        record("ok", 200)
        await send_json(send, 200, payload, request_id)

    def _summaries(self, params: dict[str, str], request_id: str) -> dict[str, Any]:
        if "VideoIds" not in params:
            raise errors.missing_parameter("VideoIds")
        video_ids = parse_video_ids(params["VideoIds"])
        if not video_ids:
            raise errors.missing_parameter("VideoIds")
        if len(video_ids) > MAX_IDS:
            raise errors.too_many_ids()
        found, missing = self._state.catalogue.summaries(video_ids)
        return {"RequestId": request_id, "NonExistVideoIds": missing, "TranscodeSummaryList": found}
