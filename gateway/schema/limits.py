"""The per-operation ID budget: the IDs asked for across all fields, aliases and entity
representations, checked before any upstream call (depth and aliases: ``shape.py``).

ID arguments are found by their type in the schema, not by their name, so a new one is counted
without being listed: an argument of type ``ID`` is one ID, a list of ``ID`` one per item, and
federation's ``_entities(representations: [_Any!]!)`` one per representation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from graphql.language import DocumentNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from gateway.schema.errors import bad_user_input

# _Any is federation's scalar for an entity representation: each one is a lookup by its key
ID_TYPES = frozenset({"ID", "_Any"})


def _item_type(type_: GraphQLInputType) -> GraphQLInputType | None:
    """The item type if ``type_`` is a list (null or not), else None."""
    nullable = get_nullable_type(type_)
    return nullable.of_type if isinstance(nullable, GraphQLList) else None


def _given(value: object, type_: GraphQLInputType) -> int:
    """IDs in a variable's value, JSON as the client sent it, for a position of ``type_``."""
    if value is None:
        return 0
    item = _item_type(type_)
    if item is None:
        return 1
    items = value if isinstance(value, list) else [value]  # one value for a list is a list of one
    if _item_type(item) is None:  # a list of IDs: counted in C, as it may hold thousands
        return len(items) - items.count(None)
    return sum(_given(v, item) for v in items)


def _literal(
    value: ValueNode,
    type_: GraphQLInputType,
    variables: Mapping[str, Any],
    defaults: Mapping[str, ValueNode],
) -> int:
    """IDs in an argument's value in the document (a variable's: given, or else its default)."""
    if isinstance(value, VariableNode):
        name = value.name.value
        if name not in variables and name in defaults:  # not given: the operation's default applies
            return _literal(defaults[name], type_, {}, {})
        return _given(variables.get(name), type_)
    if isinstance(value, NullValueNode):
        return 0
    item = _item_type(type_)
    if item is None:
        return 1
    items = value.values if isinstance(value, ListValueNode) else (value,)
    return sum(_literal(v, item, variables, defaults) for v in items)


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    # None for __typename and introspection (they take no IDs), and on a union (only fragments)
    if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None
    fields: Mapping[str, GraphQLField] = parent.fields  # a cached_property, Any to mypy
    return fields.get(name)


def count_ids(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """IDs the chosen operation asks for, fragments included (each spread counted where used)."""
    variables = variables or {}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if not chosen:
        return 0
    operation = chosen[0]
    defaults = {
        d.variable.name.value: d.default_value
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }

    memo: dict[str, int] = {}

    def count(
        selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, seen: frozenset[str]
    ) -> int:
        """Each fragment is counted once and then multiplied by its spreads: a document of
        fragments spreading fragments costs what it is long, not what it expands to."""
        if selection_set is None:
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                field = _field(parent, node.name.value)
                if field is None:
                    continue
                for arg in node.arguments or ():
                    definition = field.args.get(arg.name.value)
                    if definition is not None and get_named_type(definition.type).name in ID_TYPES:
                        total += _literal(arg.value, definition.type, variables, defaults)
                total += count(node.selection_set, get_named_type(field.type), seen)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                inner = parent if condition is None else schema.get_type(condition.name.value)
                total += count(node.selection_set, inner, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in fragments and name not in seen:
                    if name not in memo:
                        fragment = fragments[name]
                        on = schema.get_type(fragment.type_condition.name.value)
                        memo[name] = count(fragment.selection_set, on, seen | {name})
                    total += memo[name]
        return total

    return count(operation.selection_set, schema.get_root_type(operation.operation), frozenset())


def over_budget(ctx: ExecutionContext, max_ids: int) -> ExecutionResult | None:
    """The refusal of an operation asking for more than ``max_ids`` IDs, else None."""
    document = ctx.graphql_document
    if document is None:
        return None
    total = count_ids(ctx.schema._schema, document, ctx.operation_name, ctx.variables)
    if total <= max_ids:
        return None
    error = bad_user_input(
        f"The operation asks for {total} video IDs; at most {max_ids} are allowed "
        "per operation, across all fields, aliases and entity representations "
        "(GATEWAY_MAX_IDS)",
        limit=max_ids,
    )
    return ExecutionResult(data=None, errors=[error])


class IdBudget(SchemaExtension):
    """Reject an operation that asks for more than ``max_ids`` IDs in total, before it runs."""

    def __init__(self, max_ids: int) -> None:
        self.max_ids = max_ids

    def on_execute(self) -> Iterator[None]:
        refused = over_budget(self.execution_context, self.max_ids)
        if refused is not None:
            self.execution_context.result = refused
        yield
