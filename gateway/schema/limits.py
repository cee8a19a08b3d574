"""Limits of this gateway's own, beside Strawberry's depth, alias and token limits (``build.py``):
the per-operation ID budget (the IDs asked for across all fields and aliases, checked before any
upstream call) and a depth limit that counts introspection fields too."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ASTValidationRule,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)
from graphql.language import SKIP, DocumentNode, VisitorAction
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

    def walk(selection_set: SelectionSetNode | None, seen: frozenset[str]) -> Iterator[int]:
        if selection_set is None:
            return
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                for arg in node.arguments or ():
                    if arg.name.value in ID_ARGUMENTS:
                        yield _count_value(arg.value, variables, defaults)
                yield from walk(node.selection_set, seen)
            elif isinstance(node, InlineFragmentNode):
                yield from walk(node.selection_set, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name in fragments and name not in seen:
                    yield from walk(fragments[name].selection_set, seen | {name})

    return sum(walk(chosen[0].selection_set, frozenset()))


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


MAX_TOTAL_DEPTH = 20
"""Introspection included. The introspection query GraphiQL sends is 15 levels deep (nine of them
``ofType``); Strawberry's depth limit skips introspection fields, so without this an ``ofType`` chain
could nest as deep as the token limit allows. (Exponential ``fields { type { fields ... } } }``
nesting is refused by graphql-core's MaxIntrospectionDepthRule.)"""


def selection_depth(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    memo: dict[str, int],
    seen: frozenset[str] = frozenset(),
) -> int:
    """Levels of fields below ``selection_set``, through fragments (each fragment measured once)."""
    if selection_set is None:
        return 0
    deepest = 0
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            deepest = max(deepest, 1 + selection_depth(node.selection_set, fragments, memo, seen))
        elif isinstance(node, InlineFragmentNode):
            deepest = max(deepest, selection_depth(node.selection_set, fragments, memo, seen))
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in seen or name not in fragments:
                continue  # a cycle or an unknown fragment: other rules report those
            if name not in memo:
                memo[name] = selection_depth(fragments[name].selection_set, fragments, memo, seen | {name})
            deepest = max(deepest, memo[name])
    return deepest


class TotalDepthRule(ASTValidationRule):
    """Refuse an operation more than MAX_TOTAL_DEPTH levels deep, counting every field."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> VisitorAction:
        document = self.context.document
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        depth = selection_depth(node.selection_set, fragments, {})
        if depth > MAX_TOTAL_DEPTH:
            self.report_error(
                GraphQLError(
                    f"The operation is {depth} levels deep, introspection included; "
                    f"at most {MAX_TOTAL_DEPTH} are allowed",
                    node,
                )
            )
        return SKIP
