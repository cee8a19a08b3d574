"""Builds the Strawberry schema (a Federation 2 subgraph) with its guards and caches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.config.settings import Settings
from gateway.schema.errors import coded_increments
from gateway.schema.executor import ProjectingExecutor
from gateway.schema.federation import FederatedQuery
from gateway.schema.guards import Guards
from gateway.schema.prepared import PreparedOperations
from gateway.schema.query import list_limit
from gateway.schema.scalars import SCALAR_MAP
from gateway.schema.shape import shape_rule
from gateway.schema.subscription import Subscription
from gateway.schema.tracing import OperationSpans, RouterTraces
from gateway.schema.types import TranscodeSummary, Video
from gateway.schema.validation import Validations


class GatewaySchema(strawberry.federation.Schema):
    prepared: PreparedOperations | None = None
    """Plain summary queries answered without the per-operation pipeline (``schema/prepared.py``);
    None when off, or when spans or federated traces must see every operation run."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Nothing: :class:`~gateway.schema.guards.Guards` logs each error once, as it codes it
        (Strawberry's default would log every resolver error with its traceback)."""

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One result, not a stream (plain HTTP): a subscription cannot run here. Strawberry would
        execute it as a query and fail in its resolver; refused, it is the view's 400 instead."""
        allowed = set(allowed_operation_types or OperationType) - {OperationType.SUBSCRIPTION}
        result = await super().execute(
            query, variable_values, context_value, root_value, operation_name, allowed, operation_extensions
        )
        return coded_increments(result)  # type: ignore[no-any-return]


def build_schema(settings: Settings, *, traced: bool = False) -> GatewaySchema:
    """``traced``: one span per operation (``schema/tracing.py``); off, it costs nothing."""
    # Rule classes are made once: the validation cache is keyed by them, so a fresh class per
    # request (what QueryDepthLimiter(...) and MaxAliasesLimiter(...) make) would never hit it.
    rules: list[type[ASTValidationRule]] = [shape_rule(settings.max_depth, settings.max_aliases)]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    validations = Validations(size=1024)  # by document identity: the parser cache reuses documents
    guarded = tuple(rules)
    prepared: PreparedOperations | None = None  # made once the schema is: it needs its graphql-core schema
    extensions: list[Callable[[], SchemaExtension]] = [
        # first: its hooks wrap the others', so it sees the errors they make (schema/guards.py)
        lambda: Guards(
            max_tokens=settings.max_tokens,
            rules=guarded,
            validations=validations,
            max_ids=settings.max_ids,
            prepared=prepared,
        ),
    ]
    if traced:
        extensions.insert(1, lambda: OperationSpans(capture_document=settings.trace_document))
    if settings.ftv1_tenants:  # off by default: it wraps every resolver (docs/tracing.md)
        trusted = frozenset(settings.ftv1_tenants)
        extensions.append(lambda: RouterTraces(tenants=trusted))
    schema = GatewaySchema(
        query=FederatedQuery,
        subscription=Subscription,
        types=[Video, TranscodeSummary],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, enable_experimental_incremental_execution=True),
        execution_context_class=ProjectingExecutor,
    )
    if settings.prepared_queries and not traced and not settings.ftv1_tenants:
        prepared = schema.prepared = PreparedOperations(
            schema._schema, max_ids=settings.max_ids, list_limit=list_limit(settings)
        )
    return schema
