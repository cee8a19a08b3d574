"""Prepared operations: a plain summary query answered without Strawberry's or graphql-core's
per-operation machinery, once the standard path has seen its document parse and validate (and a
plain ``transcodeSummaryUpdates`` subscription published without its per-event one:
``schema/published.py``).

What a cached one-ID query costs is mostly per operation, not per field: Strawberry's extension
hooks, graphql-core building its executor and coercing variables, Strawberry's argument
conversion. A query made only of ``transcodeSummary``/``transcodeSummaries`` (and ``__typename``)
at its root, with no directive anywhere, has an answer that is a function of its IDs' records:
:meth:`PreparedOperations.learn` (called by ``schema/guards.py`` once a document validated) keeps,
per query text and operation name, where each root field's IDs come from and the compiled
projection of its subtree (``schema/projection.py``, built by the executor's own shape code).
:meth:`~PreparedOperations.run` then loads every root field's IDs in one call to the request's
loader and projects the records.

It answers only what it answers exactly as the standard path would; anything else is ``None``, and
the caller runs the operation the standard way (same loader: nothing is looked up twice):
variables that aren't plainly strings (or lists of strings), a default value, an invalid ID, a
list over its limit, an operation over the ID budget, any outcome that isn't a record (not found,
a failed lookup), a record the projection refuses.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.collect_fields import FieldDetails

from gateway.loading.loader import SummaryLoader
from gateway.schema.context import Context
from gateway.schema.executor import ProjectingExecutor
from gateway.schema.lookups import VALID_ID
from gateway.schema.projection import Projector, projector
from gateway.schema.published import PreparedSubscription, prepare_subscription
from gateway.schema.shape_cache import directive_variables
from gateway.vod.models import TranscodeSummaryRecord

CACHE_SIZE = 1024
"""Query texts kept prepared (or known not to be preparable)."""

_ROOTS = {"transcodeSummary": ("videoId", False), "transcodeSummaries": ("videoIds", True)}


class _Field(NamedTuple):
    key: str  # the response name (alias)
    many: bool  # a list of summaries, or one
    ids: tuple[str, ...] | None  # written in the document, or None: from the variable
    variable: str | None
    project: Projector | None  # None: ``__typename``
    typename: str


class Prepared(NamedTuple):
    fields: tuple[_Field, ...]


_Entry = Prepared | PreparedSubscription | None


class PreparedOperations:
    """Per (query text, operation name): its :class:`Prepared`, or None (the standard path)."""

    def __init__(self, schema: GraphQLSchema, *, max_ids: int, list_limit: int, size: int = CACHE_SIZE):
        self._schema = schema
        self._max_ids = max_ids
        self._list_limit = list_limit
        self._size = size
        self._entries: OrderedDict[tuple[str, str | None], _Entry] = OrderedDict()

    @property
    def schema(self) -> GraphQLSchema:
        return self._schema

    def get(self, query: str, operation_name: str | None) -> Prepared | None:
        entry = self._entries.get((query, operation_name))
        return entry if isinstance(entry, Prepared) else None

    def subscription(self, query: str, operation_name: str | None) -> PreparedSubscription | None:
        """A plain ``transcodeSummaryUpdates`` document, publishable (``schema/published.py``)."""
        entry = self._entries.get((query, operation_name))
        return entry if isinstance(entry, PreparedSubscription) else None

    def learn(
        self,
        query: str,
        operation_name: str | None,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
    ) -> None:
        """``document`` (the text ``query``) parsed and validated without errors: keep what running
        it takes, if it can run here. ``variables``: this request's, to build graphql-core's
        executor with (nothing of their values is kept)."""
        key = (query, operation_name)
        if key in self._entries:
            return
        executor = _executor(self._schema, document, variables, operation_name)
        if executor is None:
            return  # this request's variables don't coerce: the next one's may
        self._entries[key] = self._prepare(executor, document, operation_name)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)

    async def run(self, prepared: Prepared, context: Context, variables: Any) -> dict[str, Any] | None:
        """The operation's ``data``, or None: run it the standard way."""
        if variables is None:
            variables = {}
        elif variables.__class__ is not dict:
            return None
        wanted: list[tuple[_Field, list[str]]] = []
        total = 0
        for field in prepared.fields:
            if field.project is None:
                wanted.append((field, []))
                continue
            ids = field.ids if field.ids is not None else _given(variables.get(field.variable), field.many)
            if ids is None or (field.many and len(ids) > self._list_limit):
                return None
            for video_id in ids:
                if video_id.__class__ is not str or not VALID_ID.fullmatch(video_id):
                    return None
            total += len(ids)
            wanted.append((field, list(ids)))
        if total > self._max_ids:
            return None
        every = [video_id for _, ids in wanted for video_id in ids]
        loader = context.summaries
        if not isinstance(loader, SummaryLoader):
            return None
        outcomes = iter(await loader.outcomes(every) if every else ())
        data: dict[str, Any] = {}
        used = context.used
        for field, ids in wanted:
            project = field.project
            if project is None:
                data[field.key] = field.typename
                continue
            values = []
            for _ in ids:
                record = next(outcomes)
                if record.__class__ is not TranscodeSummaryRecord:
                    return None  # not found, or a failure: the standard path reports it at its path
                used(record)
                try:
                    values.append(project(record))
                except Exception:  # a value the projection doesn't complete: the standard path does
                    return None
            data[field.key] = values if field.many else values[0]
        return data

    def _prepare(
        self, executor: Any, document: DocumentNode, operation_name: str | None
    ) -> Prepared | PreparedSubscription | None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            operation = operations[0] if len(operations) == 1 else None
        else:
            named = [o for o in operations if o.name is not None and o.name.value == operation_name]
            operation = named[0] if len(named) == 1 else None
        if operation is not None and operation.operation is OperationType.SUBSCRIPTION:
            return prepare_subscription(executor, self._schema, document, operation, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY or operation.directives:
            return None
        definitions = operation.variable_definitions or ()
        if any(d.directives or d.default_value is not None for d in definitions):
            return None
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        query_type = self._schema.query_type
        if query_type is None:
            return None
        fields: list[_Field] = []
        keys: set[str] = set()
        for selection in operation.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.directives:
                return None
            key = selection.alias.value if selection.alias else selection.name.value
            if key in keys:
                return None  # merged fields: graphql-core's business
            keys.add(key)
            if directive_variables([selection], fragments):
                return None  # what is selected below would depend on the request's values
            prepared = _root_field(executor, query_type, selection, key)
            if prepared is None:
                return None
            fields.append(prepared)
        used = {f.variable for f in fields if f.variable is not None}
        if used != {d.variable.name.value for d in definitions}:
            return None  # an unused variable's value is still coerced (and may be refused)
        return Prepared(tuple(fields)) if fields else None


def _root_field(executor: Any, query_type: GraphQLObjectType, node: FieldNode, key: str) -> _Field | None:
    name = node.name.value
    if name == "__typename":
        return _Field(key, False, (), None, None, query_type.name)
    arguments = node.arguments or ()
    if name not in _ROOTS or len(arguments) != 1 or node.selection_set is None:
        return None
    argument, many = _ROOTS[name]
    given = arguments[0]
    if given.name.value != argument:
        return None
    ids, variable = _source(given.value, many)
    if ids is None and variable is None:
        return None
    field = query_type.fields[name]
    named = get_named_type(field.type)
    if not isinstance(named, GraphQLObjectType):
        return None
    shape = executor._shape(named, [FieldDetails(node, None)])
    if shape is None:
        return None
    return _Field(key, many, ids, variable, projector(shape), query_type.name)


def _source(value: ValueNode, many: bool) -> tuple[tuple[str, ...] | None, str | None]:
    """(IDs written in the document, or None; the variable's name, or None)."""
    if isinstance(value, VariableNode):
        return None, value.name.value
    if not many and isinstance(value, StringValueNode):
        return (value.value,), None
    if (
        many
        and isinstance(value, ListValueNode)
        and all(isinstance(v, StringValueNode) for v in value.values)
    ):
        return tuple(v.value for v in value.values), None  # type: ignore[attr-defined]
    return None, None


def _given(value: Any, many: bool) -> Sequence[str] | None:
    if many:
        return value if value.__class__ is list else None
    return (value,) if value.__class__ is str else None


def _executor(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None, name: str | None
) -> Any:
    built = ProjectingExecutor.build(
        schema, document, raw_variable_values=dict(variables or {}), operation_name=name
    )
    return None if isinstance(built, list) else built
