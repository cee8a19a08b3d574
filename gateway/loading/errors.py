"""Why a lookup failed on the gateway's side of the wire (the VOD client's own reasons are in
``gateway/vod/errors.py``).

    LookupFailed
    ├── RateLimited     the account's calls are used up for longer than the lookup may wait
    │   └── FairShareExceeded  refused at once: its flow's fair share can't serve it in time
    ├── ShuttingDown    the gateway stopped before the lookup's call could be answered
    └── InternalFailure a bug below the schema; the client sees a masked message

An outcome is a record or one of :data:`FAILURES`: the batcher resolves every waiter to one, never
raises at it, so one waiter's failure can't poison another's.
"""

from __future__ import annotations

from gateway.vod.errors import VodError


class LookupFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RateLimited(LookupFailed):
    def __init__(self, waited: float) -> None:
        # no duration in the message: the limiter gives up as soon as it knows the next free call
        # comes after the deadline, so what was waited says nothing useful to the client
        super().__init__(
            "The account's upstream calls per second are used up for longer than this lookup may "
            "wait (VOD_MAX_WAIT); try again shortly"
        )
        self.waited = waited
        self.retry_after: float | None = None  # the expected wait, when known (extensions.retryAfter)


class FairShareExceeded(RateLimited):
    """Refused as it joined: at its flow's fair share of the account, the lookup's IDs (with the
    flow's others queued) would take ``expected_wait`` seconds, more than VOD_MAX_WAIT."""

    def __init__(self, expected_wait: float) -> None:
        super().__init__(0.0)
        self.message = (
            f"At this operation's fair share of the account's upstream calls, its IDs would wait "
            f"about {expected_wait:.1f} s, longer than a lookup may (VOD_MAX_WAIT); ask for fewer "
            "IDs or retry after extensions.retryAfter seconds"
        )
        self.args = (self.message,)
        self.retry_after = expected_wait


class ShuttingDown(LookupFailed):
    def __init__(self) -> None:
        super().__init__("the gateway is shutting down")


class InternalFailure(LookupFailed):
    def __init__(self) -> None:
        super().__init__("the lookup failed unexpectedly")


FAILURES: tuple[type[Exception], ...] = (VodError, LookupFailed)
"""What an outcome may be besides a record."""
