"""Builds the Strawberry schema (a Federation 2 subgraph) with its guards and caches."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from gateway.schema.limits import IdBudget
from gateway.schema.query import Query
from gateway.schema.scalars import DateTime
from gateway.schema.types import TranscodeSummary, Video
from gateway.settings import Settings

log = logging.getLogger("gateway.graphql")

EXPECTED_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "VIDEO_NOT_FOUND",
        "RATE_LIMITED",
        "UPSTREAM_THROTTLED",
        "UPSTREAM_ERROR",
        "UPSTREAM_UNAVAILABLE",
    }
)


class GatewaySchema(strawberry.federation.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """One log line per error, never a traceback; unexpected errors at ERROR level."""
        for error in errors:
            code = (error.extensions or {}).get("code")
            original = error.original_error
            if code in EXPECTED_CODES or original is None:
                log.debug("graphql error %s at %s: %s", code or "VALIDATION", error.path, error.message)
            else:
                tb = original.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
                log.error(
                    "unexpected error at %s: %s: %s (%s)",
                    error.path,
                    type(original).__name__,
                    original,
                    where,
                )


def build_schema(settings: Settings) -> GatewaySchema:
    extensions: list[Any] = [
        MaxTokensLimiter(max_token_count=settings.max_tokens),
        ParserCache(maxsize=1024),
        ValidationCache(maxsize=1024),
        QueryDepthLimiter(max_depth=settings.max_depth),
        MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        IdBudget(max_ids=settings.max_ids),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection())
    return GatewaySchema(
        query=Query,
        types=[Video, TranscodeSummary],
        extensions=extensions,
        scalar_overrides={datetime: cast(Any, DateTime)},
    )
