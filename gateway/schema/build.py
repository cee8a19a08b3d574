"""Builds the Strawberry schema (a Federation 2 subgraph) with its guards and caches."""

from __future__ import annotations

import logging
from collections.abc import Callable

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.schema.federation import FederatedQuery
from gateway.schema.limits import IdBudget
from gateway.schema.scalars import SCALAR_MAP
from gateway.schema.shape import shape_rule
from gateway.schema.subscription import Subscription
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
            # graphql-core's own errors (a variable that doesn't coerce, ...) are the client's
            if code in EXPECTED_CODES or original is None or isinstance(original, GraphQLError):
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
    # Rule classes are made once: the validation cache is keyed by them, so a fresh class per
    # request (what QueryDepthLimiter(...) and MaxAliasesLimiter(...) make) would never hit it.
    rules: list[type[ASTValidationRule]] = [shape_rule(settings.max_depth, settings.max_aliases)]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=1024),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=1024),
        lambda: IdBudget(max_ids=settings.max_ids),
    ]
    return GatewaySchema(
        query=FederatedQuery,
        subscription=Subscription,
        types=[Video, TranscodeSummary],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
