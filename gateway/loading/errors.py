"""Why a lookup failed on the gateway's side of the wire (the VOD client's own reasons are in
``gateway/vod/errors.py``).

    LookupFailed
    ├── RateLimited     the account's calls are used up for longer than the lookup may wait
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


class ShuttingDown(LookupFailed):
    def __init__(self) -> None:
        super().__init__("the gateway is shutting down")


class InternalFailure(LookupFailed):
    def __init__(self) -> None:
        super().__init__("the lookup failed unexpectedly")


FAILURES: tuple[type[Exception], ...] = (VodError, LookupFailed)
"""What an outcome may be besides a record."""
