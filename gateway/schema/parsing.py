"""Strawberry's ``ParserCache``, except that a document that doesn't parse is left to Strawberry's
own parse step. ``ParserCache`` parses on entering the parse hook, so its syntax error escapes every
extension's ``on_operation`` and reaches the client uncoded; Strawberry's own step catches the error
and returns it as a result, which :class:`~gateway.schema.errors.CodedErrors` then codes. Only a
broken document is parsed twice."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import ParserCache


class CodedParserCache(ParserCache):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(context.query, **context.parse_options)
        except GraphQLError:
            pass  # Strawberry parses again, inside its own error handling
        yield
