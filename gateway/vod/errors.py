"""Errors raised by the VOD client: one hierarchy, one stable ``code`` each.

    VodError
    ├── VideoNotFound            the ID is in NonExistVideoIds, or absent from the answer
    ├── RateLimited              the local limiter's wait budget ran out; no call was sent
    └── UpstreamError            the service answered with an error body
        ├── UpstreamThrottled    Throttling* after retries within the wait budget
        └── UpstreamUnavailable  timeout, connection error, 5xx or a non-JSON body, after a retry

Messages never carry an upstream body, a secret or a token: only codes, request IDs and statuses.
"""

from __future__ import annotations


class VodError(Exception):
    code = "UPSTREAM_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def extensions(self) -> dict[str, object]:
        return {"code": self.code}


class VideoNotFound(VodError):
    code = "VIDEO_NOT_FOUND"

    def __init__(self, video_id: str) -> None:
        super().__init__(f"Video {video_id!r} does not exist or has no transcoding in the past year")
        self.video_id = video_id

    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "videoId": self.video_id}


class RateLimited(VodError):
    code = "RATE_LIMITED"

    def __init__(self, waited: float) -> None:
        # no duration in the message: the limiter gives up as soon as it knows the next free call
        # comes after the deadline, so what was waited says nothing useful to the client
        super().__init__(
            "The account's upstream calls per second are used up for longer than this lookup may "
            "wait (VOD_MAX_WAIT); try again shortly"
        )
        self.waited = waited


class UpstreamError(VodError):
    code = "UPSTREAM_ERROR"

    def __init__(
        self,
        message: str,
        *,
        upstream_code: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.upstream_code = upstream_code
        self.request_id = request_id
        self.status = status

    def extensions(self) -> dict[str, object]:
        ext: dict[str, object] = {"code": self.code}
        if self.upstream_code:
            ext["upstreamCode"] = self.upstream_code
        if self.request_id:
            ext["requestId"] = self.request_id
        return ext


class UpstreamThrottled(UpstreamError):
    code = "UPSTREAM_THROTTLED"


class UpstreamUnavailable(UpstreamError):
    code = "UPSTREAM_UNAVAILABLE"
