"""Projectors across requests, per parsed document: what graphql-core collects below a field
depends only on that field's nodes (and the fragments of their document) and on the values of the
variables that ``@skip``/``@include`` read there. The parser cache hands every request of the same
query text the same document, so its nodes' identities are a key; each entry keeps its nodes, so
the identities can't be reused while it lives.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)

from gateway.schema.projection import Projector

MISSING: Any = object()
"""What :meth:`ShapeCache.get` answers when the projector has yet to be made."""
_VALUES_PER_ENTRY = 16  # combinations of @skip/@include variables kept per field


class _Entry:
    __slots__ = ("by_values", "nodes", "variables")

    def __init__(self, nodes: tuple[FieldNode, ...], variables: tuple[str, ...]) -> None:
        self.nodes = nodes
        self.variables = variables
        self.by_values: dict[tuple[object, ...], Projector | None] = {}


class ShapeCache:
    """(object type, the field's nodes, its directive variables' values) -> projector or None
    (None: the standard path); at most ``size`` fields, least recently used out."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()

    def get(
        self, object_type: GraphQLObjectType, nodes: Sequence[FieldNode], variables: Mapping[str, Any]
    ) -> Projector | None:
        entry = self._entries.get(_key(object_type, nodes))
        if entry is None or any(a is not b for a, b in zip(entry.nodes, nodes, strict=True)):
            return MISSING  # type: ignore[no-any-return]
        try:
            return entry.by_values.get(tuple(variables.get(n) for n in entry.variables), MISSING)
        except TypeError:  # a value that can't be a key
            return MISSING  # type: ignore[no-any-return]

    def put(
        self,
        object_type: GraphQLObjectType,
        nodes: Sequence[FieldNode],
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        projector: Projector | None,
    ) -> None:
        key = _key(object_type, nodes)
        entry = self._entries.get(key)
        if entry is None or any(a is not b for a, b in zip(entry.nodes, nodes, strict=True)):
            entry = _Entry(tuple(nodes), directive_variables(nodes, fragments))
        self._entries[key] = entry
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        if len(entry.by_values) >= _VALUES_PER_ENTRY:
            entry.by_values.clear()
        try:
            entry.by_values[tuple(variables.get(n) for n in entry.variables)] = projector
        except TypeError:
            pass


def _key(object_type: GraphQLObjectType, nodes: Sequence[FieldNode]) -> tuple[object, ...]:
    return (object_type, *map(id, nodes))


def directive_variables(
    nodes: Sequence[FieldNode], fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[str, ...]:
    """The variables read by directives anywhere below ``nodes`` (through fragments), sorted."""
    names: set[str] = set()
    seen: set[str] = set()

    def values(value: ValueNode) -> None:
        if isinstance(value, VariableNode):
            names.add(value.name.value)
        for child in getattr(value, "values", None) or ():  # lists
            values(child)
        for field in getattr(value, "fields", None) or ():  # objects
            values(field.value)

    def walk(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                for argument in directive.arguments or ():
                    values(argument.value)
            if isinstance(selection, FieldNode | InlineFragmentNode):
                walk(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                seen.add(selection.name.value)
                fragment = fragments.get(selection.name.value)
                walk(fragment.selection_set if fragment else None)

    for node in nodes:
        walk(node.selection_set)
    return tuple(sorted(names))
