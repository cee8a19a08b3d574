"""Keep signed URLs out of httpx's own log lines.

httpx logs every request at INFO as ``HTTP Request: GET <url> "HTTP/1.1 200 OK"``. A V1-signed
URL carries the STS token and the signature in its query, so any deployment that sets the root
logger to INFO (a common ``logging.basicConfig`` or a uvicorn ``--log-config``) would write the
token to its logs. This filter, installed on the ``httpx`` logger by the VOD client, replaces
every URL's query with ``?<redacted>`` before a handler sees it.
"""

from __future__ import annotations

import logging

import httpx

_HTTPX_LOGGERS = ("httpx", "httpcore")


def _redact(value: object) -> object:
    if isinstance(value, httpx.URL) and value.query:
        return str(value.copy_with(query=None)) + "?<redacted>"
    if isinstance(value, str) and value.startswith(("http://", "https://")) and "?" in value:
        return value.partition("?")[0] + "?<redacted>"
    return value


class RedactQueries(logging.Filter):
    """Rewrites the arguments of httpx's records; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact(a) for a in record.args)
        return True


_FILTER = RedactQueries()


def install() -> None:
    """Idempotent: attach the filter to httpx's loggers once."""
    for name in _HTTPX_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
