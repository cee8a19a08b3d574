"""A pytest plugin: no secret may appear in anything the suite captures.

Every gateway the tests start (``tests.support.harness.gateway_settings``) signs with the canary key pair
and STS token below, and every emulator accepts it. While the suite runs, this plugin watches:

- every log record of the gateway (at DEBUG), uvicorn, Strawberry, httpx and everything that
  reaches the root logger, formatted with its traceback;
- every HTTP response any httpx client in the tests receives (bodies and headers: GraphQL answers,
  ``/metrics``, ``/readyz``, the emulator's answers);
- every WebSocket message a test client receives;
- what each test printed or logged (pytest's captured sections).

A test during which a canary appears fails, naming where it appeared (never the value itself).
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection

from tests.support.harness import CANARY

SECRETS = (CANARY.secret, CANARY.security_token or "")
WATCHED_LOGGERS = ("", "gateway", "uvicorn", "uvicorn.error", "uvicorn.access", "strawberry", "httpx")

_leaks: list[str] = []


def find(text: str | bytes, where: str) -> None:
    """Record a leak if ``text`` holds a canary."""
    haystack = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    for secret in SECRETS:
        if secret and secret in haystack:
            _leaks.append(where)


class _LeakWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        where = f"a log record of {record.name!r}"
        try:
            text = self.format(record)
        except Exception:  # a record that can't be formatted: look at what it was given
            text = f"{record.msg!r} {record.args!r} {record.exc_info!r}"
        find(text, where)
        fields = getattr(record, "fields", None)
        if fields is not None:
            find(repr(fields), f"the fields of {where}")


_WATCH = _LeakWatch()


def _watch_logging() -> None:
    # re-attached before each test: the CLI's configure_logging replaces the gateway's handlers
    for name in WATCHED_LOGGERS:
        logger = logging.getLogger(name)
        if _WATCH not in logger.handlers:
            logger.addHandler(_WATCH)
    logging.getLogger("gateway").setLevel(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.INFO)


def _check_response(response: httpx.Response, streamed: bool) -> None:
    where = f"an HTTP response from {response.request.method} {response.request.url.path}"
    find(repr(response.headers.multi_items()), where + " (headers)")
    if not streamed:  # a streamed body is the test's to read
        find(response.content, where)


@pytest.fixture(scope="session", autouse=True)
def _watch_http() -> Iterator[None]:
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send
    recv = ClientConnection.recv

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, request, **kwargs)
        _check_response(response, bool(kwargs.get("stream")))
        return response

    async def asend(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await async_send(self, request, **kwargs)
        _check_response(response, bool(kwargs.get("stream")))
        return response

    async def receive(self: ClientConnection, *args: Any, **kwargs: Any) -> Any:
        message = await recv(self, *args, **kwargs)
        find(message, "a WebSocket message")
        return message

    httpx.Client.send = send  # type: ignore[method-assign]
    httpx.AsyncClient.send = asend  # type: ignore[method-assign]
    ClientConnection.recv = receive  # type: ignore[method-assign]
    yield
    httpx.Client.send, httpx.AsyncClient.send = sync_send, async_send  # type: ignore[method-assign]
    ClientConnection.recv = recv  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _no_secret_leaks() -> Iterator[None]:
    _watch_logging()
    del _leaks[:]
    yield
    if _leaks:
        places = sorted(set(_leaks))
        del _leaks[:]
        pytest.fail(f"a secret (AccessKey secret or STS token) appeared in: {'; '.join(places)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when != "teardown":  # by then, the sections hold what every phase captured
        return
    leaked = [title for title, text in report.sections if any(s and s in text for s in SECRETS)]
    if leaked and report.passed:
        report.outcome = "failed"
        report.longrepr = f"a secret (AccessKey secret or STS token) appeared in: {', '.join(leaked)}"
