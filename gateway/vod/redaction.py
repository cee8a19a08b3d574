"""Keep secrets in signed URLs out of httpx's own log lines.

httpx logs every request at INFO as ``HTTP Request: GET <url> "HTTP/1.1 200 OK"``. A V1-signed
URL carries the STS token and the signature in its query (as the official SDK sends them), so any
deployment that sets the root logger to INFO (a common ``logging.basicConfig`` or a uvicorn
``--log-config``) would write the token to its logs. The filter installed here by the VOD client
blanks those two values; the rest of the URL stays readable for debugging.
"""

from __future__ import annotations

import logging
import re

import httpx

_URL_SECRETS = re.compile(r"(?<=[?&])(SecurityToken|Signature)=[^&\s\"']*")


def redact_url(text: str) -> str:
    """``text`` with the values of V1's SecurityToken and Signature query parameters blanked."""
    return _URL_SECRETS.sub(r"\1=***", text)


class RedactUrls(logging.Filter):
    """Rewrites the message and arguments of httpx's records; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple):  # httpx passes the URL as an argument, an httpx.URL
            record.args = tuple(
                redact_url(str(a)) if isinstance(a, httpx.URL | str) else a for a in record.args
            )
        return True


_FILTER = RedactUrls()


def install() -> None:
    """Idempotent: attach the filter to the ``httpx`` logger once."""
    logger = logging.getLogger("httpx")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
