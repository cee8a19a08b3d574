"""Strawberry's ``ValidationCache``, keyed by the document's identity instead of its value.

Strawberry's cache is an ``lru_cache`` over (schema, document, rules): every lookup hashes the whole
document, node by node, which costs as much as a small query's execution. The parser cache hands
every request of the same query text the same document object, so its identity is the key here;
each entry keeps its document, so the identity can't be reused while the entry lives.
"""

from __future__ import annotations

from collections import OrderedDict

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from strawberry.schema.schema import validate_document

Validated = tuple[DocumentNode, list[GraphQLError]]


class Validations:
    """The validation errors (none: valid) of the last ``size`` documents, by identity."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[int, ...], Validated] = OrderedDict()

    def errors(self, key: tuple[int, ...], document: DocumentNode) -> list[GraphQLError] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] is not document:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def validated(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        """``document``'s validation errors against ``schema`` and ``rules``, validated once."""
        key = (id(schema), id(document), *map(id, rules))  # the schema and rules live as long as it
        errors = self.errors(key, document)
        if errors is None:
            errors = validate_document(schema, document, tuple(rules))
            self.keep(key, document, errors)
        return errors

    def keep(self, key: tuple[int, ...], document: DocumentNode, errors: list[GraphQLError]) -> None:
        self._entries[key] = (document, errors)
        self._entries.move_to_end(key)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
