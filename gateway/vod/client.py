"""The VOD client: one signed GetTranscodeSummary call, with retries, mapped to typed errors.

Each attempt first passes ``admit`` (the per-account limiter), so retries spend the same budget as
first calls, and releases its permit when its answer (or its failure) is in. The caller's
``deadline`` bounds how long throttling retries may go on.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx
import orjson

from gateway.clock import Clock, MonotonicClock
from gateway.vod import redaction
from gateway.vod.auth import SignatureVersion, VodAuth
from gateway.vod.credentials import Credentials
from gateway.vod.errors import (
    NoResponse,
    ServiceError,
    ServiceThrottled,
    ServiceUnavailable,
    VodError,
)
from gateway.vod.models import MalformedResponse, SummaryPage, parse_page

log = logging.getLogger("gateway.upstream")

MAX_IDS_PER_CALL = 10


class Permit(Protocol):
    """The limiter's leave for one attempt; released as soon as the attempt's answer is in."""

    async def release(self) -> None: ...


Admit = Callable[[float], Awaitable[Permit | None]]
"""deadline -> a permit for one attempt (None: no limiter), or an exception (the limiter's RateLimited)."""


async def _admit_always(deadline: float) -> None:
    return None


@dataclass(frozen=True)
class RetryPolicy:
    unavailable_retries: int = 1  # timeouts, connection errors, 5xx, non-JSON bodies
    throttle_base: float = 0.1  # first backoff after Throttling*, seconds; doubles each time
    throttle_cap: float = 1.0


class _Retryable(Exception):
    def __init__(self, error: NoResponse | ServiceError) -> None:
        self.error = error


class VodClient:
    """Calls GetTranscodeSummary for at most 10 IDs and returns a :class:`SummaryPage`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        credentials: Credentials,
        *,
        signature: SignatureVersion = "v3",
        timeout: float = 5.0,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        on_attempt: Callable[[str, int, float], None] | None = None,
    ) -> None:
        redaction.install()  # a V1-signed URL carries the STS token: keep it out of httpx's logs
        self._http = http
        self._url = endpoint.rstrip("/") + "/"
        self._auth = VodAuth(credentials, "GetTranscodeSummary", signature)
        self._method = "POST" if signature == "v3" else "GET"
        self._timeout = timeout
        self._clock = clock or MonotonicClock()
        self._retry = retry or RetryPolicy()
        self._rng = rng or random.Random()
        self._on_attempt = on_attempt
        self.access_key_id = credentials.access_key_id

    async def get_transcode_summary(
        self,
        video_ids: Sequence[str],
        *,
        deadline: float | None = None,
        admit: Admit = _admit_always,
    ) -> SummaryPage:
        if not 1 <= len(video_ids) <= MAX_IDS_PER_CALL:
            raise ValueError(f"between 1 and {MAX_IDS_PER_CALL} video IDs per call")
        deadline = self._clock.now() + 30.0 if deadline is None else deadline
        unavailable_left = self._retry.unavailable_retries
        throttles = 0
        while True:
            permit = await admit(deadline)
            try:
                return await self._attempt(video_ids)
            except _Retryable as retryable:
                error = retryable.error
            finally:  # the upstream has counted this attempt by now, whatever became of it
                if permit is not None:
                    await permit.release()
            now = self._clock.now()
            if isinstance(error, ServiceThrottled):
                backoff = min(self._retry.throttle_cap, self._retry.throttle_base * 2**throttles)
                backoff = backoff / 2 + self._rng.uniform(0, backoff / 2)
                throttles += 1
                if now + backoff >= deadline:
                    raise error
                log.info("upstream throttled; retrying in %.3fs", backoff)
                await self._clock.sleep(backoff)
            elif unavailable_left > 0 and now < deadline:
                unavailable_left -= 1
                log.info("upstream unavailable (%s); retrying once", error.message)
            else:
                raise error

    async def _attempt(self, video_ids: Sequence[str]) -> SummaryPage:
        started = self._clock.now()
        outcome = "ok"
        try:
            try:
                response = await self._http.request(
                    self._method,
                    self._url,
                    params={"VideoIds": ",".join(video_ids)},
                    auth=self._auth,
                    timeout=self._timeout,
                )
            except httpx.TransportError as exc:
                raise _Retryable(NoResponse(_describe_transport_error(exc))) from None
            except httpx.HTTPError:  # e.g. DecodingError: a Content-Encoding the body doesn't match
                raise _Retryable(NoResponse("the VOD service sent an undecodable body")) from None
            return self._interpret(response)
        except VodError as exc:
            outcome = exc.outcome
            raise
        except _Retryable as exc:
            outcome = exc.error.outcome
            raise
        finally:
            if self._on_attempt is not None:
                self._on_attempt(outcome, len(video_ids), self._clock.now() - started)

    def _interpret(self, response: httpx.Response) -> SummaryPage:
        status = response.status_code
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise _Retryable(
                ServiceUnavailable(f"upstream answered HTTP {status} with a non-JSON body", status=status)
            ) from None
        if status == 200:
            try:
                return parse_page(body)
            except MalformedResponse as exc:
                raise ServiceError(f"unexpected upstream response: {exc}", status=status) from None
        code = _token(body.get("Code")) if isinstance(body, dict) else None
        request_id = _token(body.get("RequestId")) if isinstance(body, dict) else None
        if code is not None and code.startswith("Throttling"):
            raise _Retryable(
                ServiceThrottled(
                    "the VOD service throttled the account's calls",
                    upstream_code=code,
                    request_id=request_id,
                    status=status,
                )
            )
        if status >= 500:
            raise _Retryable(
                ServiceUnavailable(
                    f"the VOD service is unavailable (HTTP {status})",
                    upstream_code=code,
                    request_id=request_id,
                    status=status,
                )
            )
        raise ServiceError(
            f"the VOD service rejected the call (HTTP {status}, {code or 'no error code'})",
            upstream_code=code,
            request_id=request_id,
            status=status,
        )


_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def _token(value: object) -> str | None:
    """An error code or request ID as the service writes them; anything else is not passed on to
    clients (a proxy's or a broken upstream's body must not reach them through these fields)."""
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def _describe_transport_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "the VOD service did not answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect to the VOD service"
    return "the connection to the VOD service failed"
