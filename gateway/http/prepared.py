"""The HTTP side of prepared queries (``schema/prepared.py``): a JSON POST of a query the schema has
prepared is answered from its records, with the very bytes, status and headers the standard path
(Strawberry's view and ``schema.execute``) would give; any request it can't answer so goes the
standard way.

Taken here only: a POST of a JSON object whose body is ``query``, ``variables`` and
``operationName`` (or a persisted query's hash alone), from a client that takes one JSON answer,
without a federated-trace header. Everything around the operation stays the view's: the response
cache, content negotiation, metrics, the request's flow and loader.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from strawberry.extensions.tracing.apollo_federation import FTV1_HEADER
from strawberry.types import ExecutionResult

from gateway.http.csrf import is_json
from gateway.http.graphql_response import JSON_TYPES, accepts_json, named_types
from gateway.http.persisted import PersistedQueries
from gateway.schema.context import Context
from gateway.schema.prepared import PreparedOperations

_KEYS = frozenset({"query", "variables", "operationName", "extensions"})


class PreparedAnswers:
    def __init__(self, prepared: PreparedOperations, persisted: PersistedQueries) -> None:
        self._prepared = prepared
        self._persisted = persisted

    async def answer(self, request: Request, context: Context) -> Response | None:
        """The response, with ``context.result`` set; or None: the standard path."""
        headers = request.headers
        if request.method != "POST" or FTV1_HEADER in headers:
            return None
        if not is_json(headers.get("content-type", "")) or not _one_json_answer(headers.get("accept")):
            return None
        try:
            body: Any = orjson.loads(await request.body())  # Starlette keeps it for the standard path
        except orjson.JSONDecodeError:
            return None
        if body.__class__ is not dict or not body.keys() <= _KEYS:
            return None
        query, name = body.get("query"), body.get("operationName")
        if name is not None and name.__class__ is not str:
            return None
        extensions = body.get("extensions") or None
        if extensions is not None:  # a persisted query's hash alone: nothing to register
            if (
                query is not None
                or extensions.__class__ is not dict
                or extensions.keys() != {"persistedQuery"}
            ):
                return None
        try:  # the document a hash stands for; the safelist's check (GATEWAY_PERSISTED_ONLY)
            query = await self._persisted.document(query, extensions)
        except Exception:
            return None
        if query.__class__ is not str:
            return None
        prepared = self._prepared.get(query, name)
        if prepared is None:
            return None
        data = await self._prepared.run(prepared, context, body.get("variables"))
        if data is None:
            return None
        context.result = ExecutionResult(data=data, errors=None)
        return Response(orjson.dumps({"data": data}), media_type="application/json")


def _one_json_answer(accept: str | None) -> bool:
    """What Strawberry's view answers with one JSON result for a query without directives: a JSON
    type accepted, and any streaming type beside it (``streams.one_result_for``)."""
    if not accepts_json(accept):
        return False
    lowered = (accept or "").lower()
    if "multipart/mixed" not in lowered and "text/event-stream" not in lowered:
        return True
    return bool(named_types(accept) & JSON_TYPES)
