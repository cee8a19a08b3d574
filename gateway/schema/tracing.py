"""One SERVER span per GraphQL operation (OpenTelemetry's GraphQL conventions), continuing the
caller's W3C ``traceparent``; linked to the upstream calls that served it (``loading/call.py``
links each call back to the operations it served). Only installed when tracing is on.

Apollo's federated trace (``ftv1``) is separate: :class:`RouterTraces`, for trusted tenants only."""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry import propagate
from opentelemetry.trace import Span, SpanContext, SpanKind, StatusCode
from strawberry.extensions import SchemaExtension
from strawberry.extensions.tracing import ApolloFederationTracingExtension

from gateway.schema.context import Context


class OperationSpans(SchemaExtension):
    """``capture_document``: also record ``graphql.document`` (off by default: it may be large)."""

    def __init__(self, *, capture_document: bool = False) -> None:
        self._capture_document = capture_document

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context) or context.parts is None:
            yield
            return
        request = context.request
        parent = propagate.extract(dict(request.headers)) if request is not None else None
        span = context.parts.tracer.start_span("GraphQL Operation", context=parent, kind=SpanKind.SERVER)
        flow = context.flow
        served_before = 0
        if flow is not None:
            flow.trace = span.get_span_context()
            served_before = len(flow.calls)  # a WebSocket's flow serves each of its operations
        try:
            yield
        finally:
            self._describe(span)
            if flow is not None:
                for call in flow.calls[served_before:]:
                    if isinstance(call, SpanContext):  # opaque to loading/
                        span.add_link(call)
            span.end()

    def _describe(self, span: Span) -> None:
        execution = self.execution_context
        try:
            kind = execution.operation_type.value
        except Exception:  # not parsed, or no such operation: the span says only that it failed
            kind = None
        name = execution.operation_name
        if kind is not None:
            span.set_attribute("graphql.operation.type", kind)
            span.update_name(f"{kind} {name}" if name else kind)
        if name:
            span.set_attribute("graphql.operation.name", name)
        if self._capture_document and execution.query:
            span.set_attribute("graphql.document", execution.query)
        result = execution.result
        errors = getattr(result, "errors", None) or execution.pre_execution_errors or []
        if errors:
            span.set_attribute("graphql.errors.count", len(errors))
            if getattr(result, "data", None) is None:
                span.set_status(StatusCode.ERROR, "no data")


class RouterTraces(ApolloFederationTracingExtension):
    """Strawberry's ``ftv1`` extension, answering a router's ``apollo-federation-include-trace: ftv1``
    only for the ``tenants`` trusted with it: the trace carries per-field timings and raw error
    messages, which other callers must not see."""

    def __init__(self, *, tenants: frozenset[str]) -> None:
        super().__init__()
        self._tenants = tenants

    def _check_should_trace(self) -> bool:
        context = self.execution_context.context
        trusted = isinstance(context, Context) and context.tenant in self._tenants
        return trusted and super()._check_should_trace()
