"""The validation cache finds a document again by identity (the parser cache reuses documents)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiodataloader import DataLoader

from gateway.config.settings import Settings
from gateway.schema import validation
from gateway.schema.build import build_schema
from gateway.schema.context import Context
from gateway.schema.validation import Validations


def test_each_query_text_is_validated_once_and_its_errors_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    validated: list[object] = []
    original = validation.validate_document

    def counted(*args: Any) -> Any:
        validated.append(args[1])
        return original(*args)

    monkeypatch.setattr(validation, "validate_document", counted)
    schema = build_schema(Settings())

    async def batch(keys: list[str]) -> list[Any]:
        return [None for _ in keys]

    async def execute(query: str) -> Any:
        return await schema.execute(
            query, context_value=Context(settings=Settings(), summaries=DataLoader(batch))
        )

    def codes(query: str) -> list[object]:
        result = asyncio.run(execute(query))
        return [(e.extensions or {}).get("code") for e in result.errors or ()]

    assert codes("{ nope }") == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes("{ nope }") == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes('{ videos(ids: ["a"]) { id } }') == []
    assert codes('{ videos(ids: ["a"]) { id } }') == []
    assert len(validated) == 2


def test_an_equal_document_that_is_another_object_is_not_found() -> None:
    from graphql import parse

    store = Validations(size=1)
    document = parse("{ a }")
    store.keep((1,), document, [])
    assert store.errors((1,), document) == []
    assert store.errors((1,), parse("{ a }")) is None
    store.keep((2,), document, [])  # the oldest entry goes
    assert store.errors((1,), document) is None
