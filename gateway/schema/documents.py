"""The moment an operation's document is known to be good: it parsed and validated (the schema's
own rules and the gateway's). Automatic persisted queries register a document only then
(``http/persisted.py``), on every transport, as Apollo Server does; the context's
``on_valid_document`` says what to do with it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension


class ValidDocuments(SchemaExtension):
    """Calls the context's ``on_valid_document(query, extensions)`` after a validation without errors
    (a document that doesn't parse never reaches validation)."""

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        execution = self.execution_context
        hook = getattr(execution.context, "on_valid_document", None)
        if hook is not None and execution.query and not execution.pre_execution_errors:
            await hook(execution.query, execution.operation_extensions)
