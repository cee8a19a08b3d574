"""Published subscriptions: a plain ``transcodeSummaryUpdates`` run without Strawberry's or
graphql-core's per-event pipeline, once the standard path has seen its document validate.

Each event of a subscription on the standard path goes through a per-subscription chain of async
generators (Strawberry's stream, graphql-core's mapping, the per-event executor, Strawberry's result
handling and extension hooks) before one message is encoded: at 10,000 subscriptions a poll round
is 50,000 events of that. For a document whose only root field is ``transcodeSummaryUpdates`` with
no directive reading a variable, an event is the same function of the record for every subscriber
with the same selection: :func:`prepare_subscription` (called by :class:`~gateway.schema.prepared.
PreparedOperations` when it learns a document) keeps where the IDs come from, the compiled
projection of the selection (the same one the executor would use) and the view the poller compares
answers by (``selection.py``). :func:`published_events` then gives what running it takes (the
first lookup as the resolver makes it; the poller's answers are pushed to it, ``http/ws_published.py``)
and turns each outcome into its payload's JSON: a record's ``{"data": ...}`` built and encoded once
per (selection, record) for every subscriber (``fanout.py``); anything else (a video that doesn't
exist, a failed lookup, a value the projection refuses) through graphql-core's per-event execution,
coded as the standard path codes it.

What it doesn't take (None: the caller runs the operation the standard way) is what it can't answer
exactly as the standard path would: IDs that aren't a list of valid strings within the limits, a
variable with a default or a directive, an operation directive.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, NamedTuple

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    ListValueNode,
    OperationDefinitionNode,
    StringValueNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.collect_fields import FieldDetails
from strawberry.types.nodes import SelectedField, convert_selections

from gateway.loading.cache import Outcome
from gateway.loading.loader import SummarySource
from gateway.loading.poller import Poller, View
from gateway.schema.context import Context
from gateway.schema.errors import code_errors
from gateway.schema.executor import ProjectingExecutor
from gateway.schema.fanout import SHARED
from gateway.schema.projection import Projector, projector
from gateway.schema.selection import view_of
from gateway.schema.shape_cache import directive_variables
from gateway.schema.subscription import checked_ids, first_outcomes
from gateway.vod.models import TranscodeSummaryRecord

ROOT = "transcodeSummaryUpdates"


class PreparedSubscription(NamedTuple):
    key: str  # the response name (alias)
    ids: tuple[str, ...] | None  # written in the document, or None: from the variable
    variable: str | None
    project: Projector
    view: View
    document: DocumentNode
    operation_name: str | None


def prepare_subscription(
    executor: Any,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    operation_name: str | None,
) -> PreparedSubscription | None:
    """What publishing ``operation`` takes, if it can be published (``executor``: graphql-core's,
    built for the document, whose shape code compiles the projection)."""
    subscription_type = schema.subscription_type
    selections = operation.selection_set.selections
    if subscription_type is None or operation.directives or len(selections) != 1:
        return None
    (node,) = selections
    if not isinstance(node, FieldNode) or node.name.value != ROOT or node.directives:
        return None
    arguments = node.arguments or ()
    if node.selection_set is None or len(arguments) != 1 or arguments[0].name.value != "videoIds":
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if directive_variables([node], fragments):
        return None  # what is selected would depend on the request's values
    value = arguments[0].value
    ids: tuple[str, ...] | None = None
    variable: str | None = None
    if isinstance(value, VariableNode):
        variable = value.name.value
    elif isinstance(value, ListValueNode) and all(isinstance(v, StringValueNode) for v in value.values):
        ids = tuple(v.value for v in value.values)  # type: ignore[attr-defined]
    else:
        return None
    definitions = operation.variable_definitions or ()
    if any(d.directives or d.default_value is not None for d in definitions):
        return None
    if {d.variable.name.value for d in definitions} != ({variable} if variable else set()):
        return None  # an unused variable's value is still coerced (and may be refused)
    named = get_named_type(subscription_type.fields[ROOT].type)
    if not isinstance(named, GraphQLObjectType):
        return None
    shape = executor._shape(named, [FieldDetails(node, None)])
    if shape is None:
        return None
    # the view the resolver makes of info.selected_fields[0].selections, from the same nodes
    info = SimpleNamespace(fragments=fragments, variable_values={})
    (selected,) = convert_selections(info, [node])  # type: ignore[arg-type]
    if not isinstance(selected, SelectedField):
        return None
    key = node.alias.value if node.alias else ROOT
    view = view_of(selected.selections)
    return PreparedSubscription(key, ids, variable, projector(shape), view, document, operation_name)


def published_events(
    prepared: PreparedSubscription, context: Context, variables: Any, schema: GraphQLSchema
) -> Published | None:
    """The subscription's events, or None: run it the standard way."""
    parts = context.parts
    if variables is None:
        variables = {}
    if parts is None or variables.__class__ is not dict:
        return None
    given = prepared.ids if prepared.ids is not None else variables.get(prepared.variable)
    if given.__class__ not in (list, tuple) or any(i.__class__ is not str for i in given):
        return None
    try:
        ids = checked_ids(list(given), context.settings)
    except Exception:  # the resolver raises it, as the standard path answers it
        return None
    if len(given) > context.settings.max_ids:
        return None
    source = parts.source.flow(context.tenant)
    if context.flow is not None:  # the operation's span: its first call links to it (as the resolver's)
        source.flow.trace = context.flow.trace
    return Published(prepared, ids, source, parts.poller, context, schema)


class Published:
    """One published subscription: its IDs, the source of its first lookup, the poller, and each
    outcome's payload as JSON, ``{"data": ...}`` (with ``errors`` where the standard path has them).
    Its events follow :func:`~gateway.schema.subscription.summary_updates`: the first outcomes
    (:meth:`first`), then each change as the poller hands it over, a video released once final."""

    __slots__ = ("_context", "_executor", "_prepared", "_schema", "ids", "poller", "source")

    def __init__(
        self,
        prepared: PreparedSubscription,
        ids: list[str],
        source: SummarySource | None,
        poller: Poller,
        context: Context,
        schema: GraphQLSchema,
    ) -> None:
        self._prepared, self.ids, self.source, self.poller = prepared, ids, source, poller
        self._context, self._schema = context, schema
        self._executor: Any = None

    @property
    def view(self) -> View:
        return self._prepared.view

    async def first(self) -> list[Outcome]:
        """The state now, as the resolver's first lookup takes it; the source is let go after."""
        source, self.source = self.source, None
        assert source is not None, "first() is called once"
        return await first_outcomes(source, self.ids)

    def payload(self, outcome: Outcome) -> bytes | None:
        """A record's payload, built and encoded once for every subscriber with this selection;
        None: :meth:`executed` makes it."""
        if outcome.__class__ is not TranscodeSummaryRecord:
            return None
        prepared = self._prepared
        try:
            payload = SHARED.payload(SHARED.event(prepared.project, prepared.key, outcome))
        except Exception:  # the standard path completes it, errors and all
            return None
        SHARED.published += 1
        return payload

    async def executed(self, outcome: Outcome) -> bytes:
        """The payload graphql-core's per-event execution gives ``outcome``, coded as Guards codes
        a stream's results, formatted as Strawberry's ``send_next`` formats them."""
        executor = self._executor
        if executor is None:
            prepared = self._prepared
            # the only variable is the IDs' (an event's execution reads none): its checked value
            variables = {} if prepared.variable is None else {prepared.variable: list(self.ids)}
            executor = self._executor = ProjectingExecutor.build(
                self._schema,
                prepared.document,
                context_value=self._context,
                raw_variable_values=variables,
                operation_name=prepared.operation_name,
            )
            if isinstance(executor, list):  # IDs the resolver took must coerce: a bug
                raise RuntimeError(f"published subscription variables refused: {executor}")
        result = executor.build_per_event_executor(outcome).execute_operation(False)
        if executor.is_awaitable(result):
            result = await result
        code_errors(result)
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        return orjson.dumps(payload)
