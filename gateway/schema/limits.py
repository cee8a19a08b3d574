"""The per-operation ID budget: the IDs asked for across all fields, aliases and entity
representations, checked before any upstream call (depth and aliases: ``shape.py``).

ID arguments are found by their type in the schema, not by their name, so a new one is counted
without being listed: an argument of type ``ID`` is one ID, a list of ``ID`` one per item, and
federation's ``_entities(representations: [_Any!]!)`` one per representation.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
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


def _literal(value: ValueNode, type_: GraphQLInputType) -> int:
    """IDs in a value written in the document with no variable in it (a variable's default)."""
    if isinstance(value, NullValueNode):
        return 0
    item = _item_type(type_)
    if item is None:
        return 1
    items = value.values if isinstance(value, ListValueNode) else (value,)
    return sum(_literal(v, item) for v in items)


class _Sum:
    """IDs written in the document (``constant``), and how many times each variable's IDs count,
    by the variable and the type of the position it is used in."""

    __slots__ = ("constant", "uses")

    def __init__(self) -> None:
        self.constant = 0
        self.uses: dict[tuple[str, int], tuple[int, str, GraphQLInputType]] = {}

    def use(self, name: str, type_: GraphQLInputType, times: int) -> None:
        key = (name, id(type_))
        before = self.uses.get(key)
        self.uses[key] = ((before[0] if before else 0) + times, name, type_)

    def add(self, other: _Sum) -> None:
        self.constant += other.constant
        for times, name, type_ in other.uses.values():
            self.use(name, type_, times)

    def literal(self, value: ValueNode, type_: GraphQLInputType) -> None:
        """Adds the IDs of an argument's value in the document."""
        if isinstance(value, VariableNode):
            self.use(value.name.value, type_, 1)
            return
        if isinstance(value, NullValueNode):
            return
        item = _item_type(type_)
        if item is None:
            self.constant += 1
            return
        for v in value.values if isinstance(value, ListValueNode) else (value,):
            self.literal(v, item)


def _field(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    # None for __typename and introspection (they take no IDs), and on a union (only fragments)
    if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None
    fields: Mapping[str, GraphQLField] = parent.fields  # a cached_property, Any to mypy
    return fields.get(name)


class IdPlan:
    """An operation's ID count, worked out once per document: the IDs written in it, plus each
    variable's IDs (given, or else its default) times the positions it fills."""

    __slots__ = ("constant", "defaults", "uses")

    def __init__(self, total: _Sum, defaults: Mapping[str, ValueNode]) -> None:
        self.constant = total.constant
        self.uses = tuple(total.uses.values())
        self.defaults = defaults

    def count(self, variables: Mapping[str, Any] | None) -> int:
        variables = variables or {}
        total = self.constant
        for times, name, type_ in self.uses:
            if name not in variables and name in self.defaults:  # not given: the default applies
                total += times * _literal(self.defaults[name], type_)
            else:
                total += times * _given(variables.get(name), type_)
        return total


def plan_ids(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> IdPlan:
    """The plan of the chosen operation, fragments included (each spread counted where used)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if not chosen:
        return IdPlan(_Sum(), {})
    operation = chosen[0]
    defaults = {
        d.variable.name.value: d.default_value
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }

    memo: dict[str, _Sum] = {}

    def count(
        selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None, seen: frozenset[str]
    ) -> _Sum:
        """Each fragment is counted once and then added at each spread: a document of fragments
        spreading fragments costs what it is long, not what it expands to."""
        total = _Sum()
        if selection_set is None:
            return total
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                field = _field(parent, node.name.value)
                if field is None:
                    continue
                for arg in node.arguments or ():
                    definition = field.args.get(arg.name.value)
                    if definition is not None and get_named_type(definition.type).name in ID_TYPES:
                        total.literal(arg.value, definition.type)
                total.add(count(node.selection_set, get_named_type(field.type), seen))
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                inner = parent if condition is None else schema.get_type(condition.name.value)
                total.add(count(node.selection_set, inner, seen))
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in fragments and name not in seen:
                    if name not in memo:
                        fragment = fragments[name]
                        on = schema.get_type(fragment.type_condition.name.value)
                        memo[name] = count(fragment.selection_set, on, seen | {name})
                    total.add(memo[name])
        return total

    root = schema.get_root_type(operation.operation)
    return IdPlan(count(operation.selection_set, root, frozenset()), defaults)


class _Plans:
    """The plans of the last ``size`` (schema, document, operation) triples, by identity: the
    parser cache hands every request of the same text the same document."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, int, str | None], tuple[object, object, IdPlan]] = OrderedDict()

    def plan(self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> IdPlan:
        key = (id(schema), id(document), operation_name)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is schema and entry[1] is document:
            self._entries.move_to_end(key)
            return entry[2]
        plan = plan_ids(schema, document, operation_name)
        self._entries[key] = (schema, document, plan)  # kept: their identities can't be reused
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return plan


_PLANS = _Plans()


def count_ids(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """IDs the chosen operation asks for, fragments included, with the document's plan cached."""
    return _PLANS.plan(schema, document, operation_name).count(variables)


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
