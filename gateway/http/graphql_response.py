"""The GraphQL over HTTP spec's media type, ``application/graphql-response+json``, for clients that
accept it (Apollo Client 4 asks for it first): its status codes say whether execution began.

- execution began (``data`` is there, even ``null`` after a non-null field failed): 200;
- a request error (a document that doesn't parse or validate, variables that don't coerce, an
  unknown operation, a refusal at the edge): 4xx, and no ``data`` entry.

With ``application/json`` (or no ``Accept``), every well-formed request keeps getting 200, as the
spec asks for that legacy type.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from graphql import BREAK, DirectiveNode, GraphQLError, Visitor, parse, visit
from starlette.responses import Response, StreamingResponse

MEDIA_TYPE = "application/graphql-response+json"
CONTENT_TYPE = f"{MEDIA_TYPE}; charset=utf-8"
_JSON = "application/json"


JSON_TYPES = frozenset({_JSON, MEDIA_TYPE})
"""The media types of one JSON answer."""


def named_types(accept: str | None) -> set[str]:
    """The media types an ``Accept`` names, lowercased, without their parameters."""
    return {part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",")}


def _weights(accept: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        weights[media] = max(weights.get(media, 0.0), q)
    return weights


def wants_graphql_response(accept: str | None) -> bool:
    """The client accepts the spec's media type at least as much as ``application/json``."""
    if not accept:
        return False
    weights = _weights(accept)
    wanted = weights.get(MEDIA_TYPE, 0.0)
    return wanted > 0 and wanted >= weights.get(_JSON, 0.0)


def is_request_error(data: object, errors: Iterable[GraphQLError] | None) -> bool:
    """Execution never began: no data, and no error at a path (an execution error always has one)."""
    found = list(errors or ())
    return data is None and bool(found) and all(not e.path for e in found)


def negotiated(response: Response, accept: str | None, result: object | None) -> Response:
    """``response`` (a whole JSON one, not a stream) in the spec's type if the client accepts it: a
    request error's 200 becomes 400 (its body already has no ``data``: :func:`is_request_error`)."""
    if isinstance(response, StreamingResponse) or not wants_graphql_response(accept):
        return response
    response.headers["content-type"] = CONTENT_TYPE
    if response.status_code == 200 and is_request_error(
        getattr(result, "data", None), getattr(result, "errors", None)
    ):
        response.status_code = 400
    return response


NOT_ACCEPTABLE = (
    "This operation uses incremental delivery (@defer or @stream), and its answer is a stream: send "
    "Accept: multipart/mixed (Apollo Client and urql do) or text/event-stream"
)


def needs_multipart(query: str | None, accept: str | None) -> bool:
    """An operation with ``@defer``/``@stream`` from a client that can't read a multipart answer (as
    Apollo Server, answered 406 before it runs). An SSE client never gets here: its stream carries
    the payloads (``streams.one_result_for``)."""
    if not query or not is_incremental(query):
        return False
    return "multipart/mixed" not in (accept or "").lower()


class _Incremental(Visitor):
    found = False

    def enter_directive(self, node: DirectiveNode, *_: object) -> object:
        if node.name.value in ("defer", "stream"):
            self.found = True
            return BREAK
        return None


@functools.lru_cache(maxsize=1024)
def is_incremental(query: str) -> bool:
    """The document uses ``@defer`` or ``@stream``: its directive nodes say so, not its text (a
    comment naming them is no directive, ``@ defer`` is one). A document that doesn't parse: no (the
    executor says what is wrong with it)."""
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return False
    visitor = _Incremental()
    visit(document, visitor)
    return visitor.found


def accepts_json(accept: str | None) -> bool:
    """A whole JSON answer will do (no ``Accept``, or one naming a JSON type or ``*/*``): what the
    response cache may answer with; a stream-only client (graphql-sse) must get its stream."""
    if not accept:
        return True
    weights = _weights(accept)
    return any(weights.get(t, 0.0) > 0 for t in (_JSON, MEDIA_TYPE, "*/*", "application/*"))


def refusal_body(body: dict[str, Any], accept: str | None) -> dict[str, Any]:
    """A refusal's body; in the spec's type, without ``data`` (execution never began)."""
    if wants_graphql_response(accept):
        body.pop("data", None)
    return body
