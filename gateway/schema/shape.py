"""Depth and alias limits, checked on the document before anything runs.

Strawberry's own ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk every fragment again at every
spread: ``fragment F0 { ...F1 ...F1 } fragment F1 { ...F2 ...F2 } ...`` is a request of a few hundred
bytes that doubles their work at each level (seconds at 20 levels, hours at 30). Here each fragment
is measured once, so the cost grows with the document, not with what it expands to. The semantics
are Strawberry's: the data depth leaves introspection fields out, and every alias counts once per
place it is spread into. A second depth counts introspection fields too: the introspection query
GraphiQL sends is 15 levels deep (nine of them ``ofType``), and without a bound an ``ofType`` chain
could nest as deep as the token limit allows. (Wide ``fields { type { fields ... } }`` introspection
is graphql-core's MaxIntrospectionDepthRule's to refuse.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.language import SKIP, DocumentNode, VisitorAction

MAX_TOTAL_DEPTH = 20
"""Levels of fields, introspection included."""


@dataclass(frozen=True, slots=True)
class Shape:
    depth: int = 0  # levels of data fields (introspection fields and what is below them left out)
    total_depth: int = 0  # levels of every field
    aliases: int = 0  # aliased fields, each counted wherever its fragment is spread

    def widest(self, other: Shape) -> Shape:
        return Shape(
            max(self.depth, other.depth),
            max(self.total_depth, other.total_depth),
            self.aliases + other.aliases,
        )


def measure(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    memo: dict[str, Shape],
    seen: frozenset[str] = frozenset(),
) -> Shape:
    """The shape of ``selection_set``, through fragments (each measured once, cycles skipped)."""
    shape = Shape()
    if selection_set is None:
        return shape
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            below = measure(node.selection_set, fragments, memo, seen)
            introspection = node.name.value.startswith("__")
            shape = shape.widest(
                Shape(
                    0 if introspection else 1 + below.depth,
                    1 + below.total_depth,
                    below.aliases + (node.alias is not None),
                )
            )
        elif isinstance(node, InlineFragmentNode):
            shape = shape.widest(measure(node.selection_set, fragments, memo, seen))
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in seen or name not in fragments:
                continue  # a cycle or an unknown fragment: other rules report those
            if name not in memo:
                memo[name] = measure(fragments[name].selection_set, fragments, memo, seen | {name})
            shape = shape.widest(memo[name])
    return shape


def shape_rule(max_depth: int, max_aliases: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations deeper, or documents with more aliases, than allowed.
    Made once per schema: the validation cache is keyed by the rule classes."""

    class ShapeRule(ASTValidationRule):
        def enter_document(self, document: DocumentNode, *_: object) -> VisitorAction:
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            memo: dict[str, Shape] = {}
            aliases = 0
            for operation in document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    shape = measure(operation.selection_set, fragments, memo)
                    aliases += shape.aliases
                    self._check_depth(operation, shape)
            if aliases > max_aliases:
                self.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}"))
            return SKIP

        def _check_depth(self, operation: OperationDefinitionNode, shape: Shape) -> None:
            name = operation.name.value if operation.name else "anonymous"
            if shape.depth > max_depth:
                self.report_error(
                    GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", operation)
                )
            if shape.total_depth > MAX_TOTAL_DEPTH:
                self.report_error(
                    GraphQLError(
                        f"The operation is {shape.total_depth} levels deep, introspection included; "
                        f"at most {MAX_TOTAL_DEPTH} are allowed",
                        operation,
                    )
                )

    return ShapeRule
