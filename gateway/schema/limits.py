"""The per-operation ID budget: the IDs asked for across all fields, aliases and entity
representations, checked before any upstream call (depth and aliases: ``shape.py``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)
from graphql.language import DocumentNode
from strawberry.extensions import SchemaExtension

from gateway.schema.errors import bad_user_input

ID_ARGUMENTS = frozenset({"videoId", "videoIds", "ids", "representations"})


def _count_value(value: ValueNode, variables: Mapping[str, Any], defaults: Mapping[str, ValueNode]) -> int:
    if isinstance(value, ListValueNode):
        return len(value.values)
    if isinstance(value, VariableNode):
        name = value.name.value
        if name not in variables and name in defaults:  # not given: the operation's default applies
            return _count_value(defaults[name], {}, {})
        given = variables.get(name)
        if isinstance(given, list):
            return len(given)
        return 0 if given is None else 1
    return 1


def count_ids(document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None) -> int:
    """IDs the chosen operation asks for, fragments included (each spread counted where used)."""
    variables = variables or {}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if not chosen:
        return 0
    defaults = {
        d.variable.name.value: d.default_value
        for d in chosen[0].variable_definitions or ()
        if d.default_value is not None
    }

    memo: dict[str, int] = {}

    def count(selection_set: SelectionSetNode | None, seen: frozenset[str]) -> int:
        """Each fragment is counted once and then multiplied by its spreads: a document of
        fragments spreading fragments costs what it is long, not what it expands to."""
        if selection_set is None:
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                for arg in node.arguments or ():
                    if arg.name.value in ID_ARGUMENTS:
                        total += _count_value(arg.value, variables, defaults)
                total += count(node.selection_set, seen)
            elif isinstance(node, InlineFragmentNode):
                total += count(node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in fragments and name not in seen:
                    if name not in memo:
                        memo[name] = count(fragments[name].selection_set, seen | {name})
                    total += memo[name]
        return total

    return count(chosen[0].selection_set, frozenset())


class IdBudget(SchemaExtension):
    """Reject an operation that asks for more than ``max_ids`` IDs in total, before it runs."""

    def __init__(self, max_ids: int) -> None:
        self.max_ids = max_ids

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None:
            total = count_ids(document, ctx.operation_name, ctx.variables)
            if total > self.max_ids:
                error = bad_user_input(
                    f"The operation asks for {total} video IDs; at most {self.max_ids} are allowed "
                    "per operation, across all fields, aliases and entity representations "
                    "(GATEWAY_MAX_IDS)",
                    limit=self.max_ids,
                )
                ctx.result = ExecutionResult(data=None, errors=[error])
        yield
