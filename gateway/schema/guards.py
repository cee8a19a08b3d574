"""The gateway's per-operation guards and caches as one schema extension, with one hook per phase.

Strawberry enters every extension's hook of every phase through a context manager it builds per
operation (``strawberry/extensions/context.py``): seven extensions cost about as much as the rest
of a cached one-ID query. :class:`Guards` does, with one hook per phase and in this order:

- every error of every result coded and masked (``schema/errors.py``; first: it sees the errors of
  all the others);
- the parser's token cap (what Strawberry's ``MaxTokensLimiter`` does);
- each document parsed once, as Strawberry's ``ParserCache`` does, except that a broken one is left
  to Strawberry's own parse step, which turns its syntax error into a result (``ParserCache`` parses
  on entering the hook, so its syntax error would escape every ``on_operation`` uncoded);
- the gateway's validation rules (depth, aliases, introspection), each document validated once per
  rules, found again by identity (``schema/validation.py``);
- a valid document registered: the context's ``on_valid_document(query, extensions)`` is called
  after a validation without errors (automatic persisted queries, ``http/persisted.py``);
- a valid plain summary query prepared, so that its next requests skip all of this
  (``schema/prepared.py``);
- an operation over the ID budget refused before it runs (``schema/limits.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.types.execution import StreamExecutionResult

from gateway.schema.errors import code_errors, code_payload
from gateway.schema.limits import over_budget
from gateway.schema.prepared import PreparedOperations
from gateway.schema.validation import Validations


class Guards(SchemaExtension):
    """``max_tokens``, ``rules`` and ``max_ids`` as the settings say; ``validations``: the cache
    shared by every operation (a factory makes one ``Guards`` per operation)."""

    def __init__(
        self,
        *,
        max_tokens: int,
        rules: tuple[type[ASTValidationRule], ...],
        validations: Validations,
        max_ids: int,
        prepared: PreparedOperations | None = None,
        parse_cache_size: int = 1024,
    ) -> None:
        self._max_tokens = max_tokens
        self._rules = rules
        self._validations = validations
        self._max_ids = max_ids
        self._prepared = prepared
        self._parse = _get_parse_cache(parse_cache_size)  # shared by size, as ParserCache's
        self._validation: set[int] = set()

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        execution.parse_options["max_tokens"] = self._max_tokens
        execution.validation_rules = execution.validation_rules + self._rules
        yield
        result = execution.result  # a stream's results were coded one by one: idempotent
        if result is not None:
            code_errors(result, self._validation)
        initial = getattr(result, "initial_result", None)
        if initial is not None:
            code_errors(initial, self._validation)

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        try:
            execution.graphql_document = self._parse(execution.query, **execution.parse_options)
        except GraphQLError:
            pass  # Strawberry parses again, inside its own error handling
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        if document is not None:
            rules = tuple(execution.validation_rules)
            execution.pre_execution_errors = self._validations.validated(
                execution.schema._schema, document, rules
            )
        yield
        if execution.query and document is not None and not execution.pre_execution_errors:
            hook = getattr(execution.context, "on_valid_document", None)
            if hook is not None:
                await hook(execution.query, execution.operation_extensions)
            if self._prepared is not None:  # the next request of this text may skip all this
                # keyed by the operation name the request gave (``operation_name`` fills one in)
                asked = execution._provided_operation_name
                self._prepared.learn(execution.query, asked, document, execution.variables)
        self._validation = {id(e) for e in execution.pre_execution_errors or ()}

    def on_execute(self) -> Iterator[None]:
        refused = over_budget(self.execution_context, self._max_ids)
        if refused is not None:
            self.execution_context.result = refused
        yield

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        code_payload(result, self._validation)
        yield None
