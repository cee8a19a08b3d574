"""What the VOD client reports: a video's absence, no answer at all, or an answer that is an error.

    VodError
    ├── VideoNotFound          the ID is in NonExistVideoIds, or absent from the answer
    ├── NoResponse             no answer: timeout, connection error, a body that can't be decoded
    └── ServiceError           the service answered, with an error (HTTP status, Code, RequestId)
        ├── ServiceThrottled   Throttling* after retries within the wait budget
        └── ServiceUnavailable 5xx or a non-JSON body, after a retry

As in httpx (``TransportError`` apart from ``HTTPStatusError``), a caller can tell "nothing came
back" from "the service said no". ``NoResponse`` and ``ServiceUnavailable`` are the retryable ones.
This module knows nothing of GraphQL: ``gateway/schema/errors.py`` maps these types to codes.
``outcome`` is the value of the ``vod_upstream_calls`` metric's label for an attempt that ended so.

Messages never carry an upstream body, a secret or a token: only codes, request IDs and statuses.
"""

from __future__ import annotations

from typing import ClassVar


class VodError(Exception):
    outcome: ClassVar[str] = "UPSTREAM_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class VideoNotFound(VodError):
    def __init__(self, video_id: str) -> None:
        super().__init__(f"Video {video_id!r} does not exist or has no transcoding in the past year")
        self.video_id = video_id


class NoResponse(VodError):
    outcome = "UPSTREAM_UNAVAILABLE"


class ServiceError(VodError):
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


class ServiceThrottled(ServiceError):
    outcome = "UPSTREAM_THROTTLED"


class ServiceUnavailable(ServiceError):
    outcome = "UPSTREAM_UNAVAILABLE"


RETRYABLE: tuple[type[VodError], ...] = (NoResponse, ServiceUnavailable)
