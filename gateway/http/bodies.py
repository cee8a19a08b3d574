"""How the view reads and writes JSON (a mixin of :class:`~gateway.http.view.GatewayGraphQL`): orjson
both ways, and a 400 that says what is wrong with a body or a GET parameter instead of a crash."""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import HTTPException
from strawberry.http.base import BaseView
from strawberry.http.types import QueryParams


class JsonBodies(BaseView[Any]):
    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        """GET: say which parameter isn't JSON, not "the request body"."""
        try:
            return super().parse_query_params(params)
        except HTTPException as exc:
            if exc.status_code == 400 and "JSON" in exc.reason:
                raise HTTPException(
                    400, "The variables and extensions parameters must be JSON objects"
                ) from None
            raise

    def decode_json(self, data: str | bytes) -> object:
        """orjson: it also refuses invalid UTF-8, as a JSONDecodeError."""
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """An HTTP body (or a GET parameter): anything but an object or an array (a batch, which
        Strawberry then refuses) is a 400, not a crash further on."""
        decoded = super().parse_json(data)
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, 'Expected a JSON object, such as {"query": "{ __typename }"}')
        return decoded
