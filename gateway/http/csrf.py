"""Content types matched exactly, and Apollo Server's CSRF prevention (``GATEWAY_CSRF_PREVENTION``).

A browser sends a cross-site GET, or a POST whose content type a plain HTML form could send, without
a CORS preflight: such a "simple" request would run an operation with the user's cookies or network
position. With prevention on, it must carry a header a page can only set after a preflight. The
rule is Apollo Server's ``preventCsrf``, line for line: a request passes if its ``Content-Type``
does not parse as a MIME type (a browser would have preflighted it), or parses to anything but the
three CORS-safelisted types, or it carries a non-empty ``X-Apollo-Operation-Name`` or
``Apollo-Require-Preflight`` header.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers

PREFLIGHT_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight")
NON_PREFLIGHTED = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
CSRF_MESSAGE = (
    "This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please either "
    f"specify a 'content-type' header (with a type that is not one of {', '.join(NON_PREFLIGHTED)}) "
    f"or provide a non-empty value for one of the following headers: {', '.join(PREFLIGHT_HEADERS)}"
)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HTTP_WHITESPACE = " \t\r\n"


def essence(content_type: str) -> str | None:
    """The MIME type's ``type/subtype``, lowercased, as WHATWG's MIME parser gives it (None: it
    does not parse). Parameters are ignored: ``application/json; charset=utf-8`` is
    ``application/json``, and ``application/jsonx`` is not."""
    media = content_type.strip(_HTTP_WHITESPACE).split(";", 1)[0]
    kind, slash, subtype = media.partition("/")
    subtype = subtype.rstrip(_HTTP_WHITESPACE)
    if not slash or not _TOKEN.fullmatch(kind) or not _TOKEN.fullmatch(subtype):
        return None
    return f"{kind}/{subtype}".lower()


def is_json(content_type: str) -> bool:
    return essence(content_type) == "application/json"


def looks_forged(headers: Headers) -> bool:
    """Whether Apollo's CSRF prevention blocks a request with these headers."""
    content_type = headers.get("content-type")
    if content_type is not None:
        kind = essence(content_type)
        if kind is None or kind not in NON_PREFLIGHTED:
            return False
    return not any(headers.get(name) for name in PREFLIGHT_HEADERS)
