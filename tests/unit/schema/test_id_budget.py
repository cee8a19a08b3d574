"""The per-operation ID budget finds ID arguments by their type in the schema, whatever their name:
tried on a small schema of its own, and on the gateway's (federation's ``_entities`` included)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import Any

import pytest
import strawberry
from graphql import GraphQLInputObjectType, get_named_type, parse
from strawberry.types import ExecutionResult

from gateway.config.settings import load_settings
from gateway.schema import limits
from gateway.schema.build import build_schema
from gateway.schema.guards import Guards
from gateway.schema.limits import ID_TYPES, count_ids
from gateway.schema.validation import Validations


@strawberry.interface
class Thing:
    ref: strawberry.ID


@strawberry.type
class Clip(Thing):
    @strawberry.field
    def related(self, refs: list[strawberry.ID]) -> list[Clip]:
        return [Clip(ref=r) for r in refs]

    @strawberry.field
    def titled(self, title: str) -> Clip:
        return self


@strawberry.type
class Query:
    @strawberry.field
    def clip(self, ref: strawberry.ID) -> Clip:
        return Clip(ref=ref)

    @strawberry.field
    def clips(self, refs: list[strawberry.ID]) -> list[Clip]:
        return [Clip(ref=r) for r in refs]

    @strawberry.field
    def maybe(self, ref: strawberry.ID | None = None) -> Clip | None:
        return None if ref is None else Clip(ref=ref)

    @strawberry.field
    def grouped(self, groups: list[list[strawberry.ID]]) -> list[Clip]:
        return [Clip(ref=r) for g in groups for r in g]

    @strawberry.field
    def search(self, text: str, tags: list[str]) -> list[Clip]:
        return []

    @strawberry.field
    def thing(self, ref: strawberry.ID) -> Thing:
        return Clip(ref=ref)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def watch(self, refs: list[strawberry.ID]) -> AsyncGenerator[Clip, None]:
        for ref in refs:
            yield Clip(ref=ref)


TOY = strawberry.Schema(query=Query, subscription=Subscription, types=[Clip])


def ids(query: str, variables: dict[str, Any] | None = None, operation: str | None = None) -> int:
    return count_ids(TOY._schema, parse(query), operation, variables)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('{ clip(ref: "a") { ref } }', 1),
        ('{ clips(refs: ["a", "b", "c"]) { ref } }', 3),
        ('{ clips(refs: "a") { ref } }', 1),  # one value where a list goes: a list of one
        ('{ a: clip(ref: "a") { ref } b: clip(ref: "b") { ref } }', 2),
        ("{ maybe(ref: null) { ref } maybe2: maybe { ref } }", 0),
        ('{ grouped(groups: [["a", "b"], ["c"], []]) { ref } }', 3),
        ('{ search(text: "x", tags: ["a", "b", "c", "d"]) { ref } }', 0),  # a String isn't an ID
        ('{ clip(ref: "a") { related(refs: ["b", "c"]) { titled(title: "t") { ref } } } }', 3),
        ('subscription { watch(refs: ["a", "b"]) { ref } }', 2),
        ('{ __typename __type(name: "Clip") { name } }', 0),
    ],
)
def test_id_arguments_are_counted_by_type_whatever_their_name(query: str, expected: int) -> None:
    assert ids(query) == expected


def test_fragments_on_a_concrete_type_and_inline_fragments_are_followed() -> None:
    query = """
        { thing(ref: "a") { ...Related ... on Clip { related(refs: ["b"]) { ref } } ... { ref } } }
        fragment Related on Clip { related(refs: ["c", "d"]) { ...Deeper } }
        fragment Deeper on Clip { related(refs: ["e"]) { ref } }
    """
    assert ids(query) == 1 + 2 + 1 + 1


def test_variables_count_given_or_by_their_default() -> None:
    query = (
        'query($r: [ID!] = ["a", "b", "c"], $one: ID!) { clips(refs: $r) { ref } clip(ref: $one) { ref } }'
    )
    assert ids(query, {"one": "x"}) == 3 + 1  # $r not given: its default counts
    assert ids(query, {"r": ["p"] * 5, "one": "x"}) == 5 + 1
    assert ids(query, {"r": None, "one": "x"}) == 1  # given as null: no default, no IDs
    assert ids('query($a: ID!, $b: ID) { clips(refs: [$a, $b, "c"]) { ref } }', {"a": "x"}) == 2
    grouped = "query($g: [[ID!]!]!) { grouped(groups: $g) { ref } }"
    assert ids(grouped, {"g": [["a"], ["b", "c"], "d"]}) == 4
    assert ids('query($t: [String!]!) { search(text: "x", tags: $t) { ref } }', {"t": ["a"] * 9}) == 0


def test_the_chosen_operation_is_counted_from_its_root_type() -> None:
    document = 'query A { clip(ref: "a") { ref } } subscription B { watch(refs: ["a", "b"]) { ref } }'
    assert ids(document, operation="A") == 1
    assert ids(document, operation="B") == 2
    assert ids(document, operation="C") == 0


def test_fragments_spreading_fragments_cost_what_the_document_is_long() -> None:
    doubling = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40))
    query = "{ ...F0 } " + doubling + ' fragment F40 on Query { clips(refs: ["a", "b"]) { ref } }'
    started = time.perf_counter()
    assert ids(query) == 2 * 2**40
    assert time.perf_counter() - started < 0.5  # milliseconds, in fact; not 2^40 visits
    assert (
        ids('{ ...A } fragment A on Query { ...B clip(ref: "a") { ref } } fragment B on Query { ...A }') == 1
    )


def run(schema: strawberry.Schema, query: str) -> ExecutionResult:
    return asyncio.run(schema.execute(query))  # the guards' validation hook is asynchronous


def test_the_extension_refuses_an_operation_over_budget_before_it_runs() -> None:
    guards = lambda: Guards(max_tokens=1000, rules=(), validations=Validations(), max_ids=2)  # noqa: E731
    schema = strawberry.Schema(query=Query, extensions=[guards])
    over = run(schema, '{ clip(ref: "a") { ref } c: clips(refs: ["b", "c"]) { ref } }')
    assert over.data is None and over.errors is not None
    assert over.errors[0].extensions == {"code": "BAD_USER_INPUT", "limit": 2}
    assert over.errors[0].message == (
        "The operation asks for 3 video IDs; at most 2 are allowed per operation, across all fields, "
        "aliases and entity representations (GATEWAY_MAX_IDS)"
    )
    fine = run(schema, '{ clips(refs: ["a", "b"]) { ref } search(text: "x", tags: ["1", "2", "3"]) { ref } }')
    assert fine.errors is None and fine.data == {"clips": [{"ref": "a"}, {"ref": "b"}], "search": []}


GATEWAY = build_schema(load_settings({}))._schema


def test_the_gateways_id_arguments_and_entity_representations_count() -> None:
    reps = [{"__typename": "Video", "id": "a"}, {"__typename": "TranscodeSummary", "videoId": "b"}]
    query = """query($v: ID!, $ids: [ID!]!, $reps: [_Any!]!) {
        transcodeSummary(videoId: $v) { videoId }
        transcodeSummaries(videoIds: $ids) { videoId }
        videos(ids: ["x", "y"]) { id transcodeSummary { videoId } }
        _entities(representations: $reps) { ... on Video { id } }
        literal: _entities(representations: [{__typename: "Video", id: "c"}]) { __typename }
    }"""
    variables = {"v": "a", "ids": ["p", "q", "r"], "reps": reps}
    assert count_ids(GATEWAY, parse(query), None, variables) == 1 + 3 + 2 + 2 + 1


def test_no_input_object_of_the_gateway_holds_an_id() -> None:
    """The budget counts ID arguments, not ID fields inside input objects: if an input type with
    an ID is ever added, the budget must learn to look inside it first."""
    for named in GATEWAY.type_map.values():
        if isinstance(named, GraphQLInputObjectType):
            held = {n for n, f in named.fields.items() if get_named_type(f.type).name in ID_TYPES}
            assert not held, f"{named.name} holds IDs in {held}, which the ID budget doesn't count"


def test_a_document_is_walked_once_and_counted_again_for_each_request_s_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walked: list[object] = []
    original = limits.plan_ids

    def counted(*args: Any) -> Any:
        walked.append(args[1])
        return original(*args)

    monkeypatch.setattr(limits, "plan_ids", counted)
    document = parse(
        'query($r: [ID!] = ["a", "b"], $one: ID) { clips(refs: $r) { ref } c: clip(ref: $one) { ref } }'
    )
    assert count_ids(TOY._schema, document, None, {"one": "x"}) == 2 + 1
    assert count_ids(TOY._schema, document, None, {"r": ["p"] * 7}) == 7
    assert count_ids(TOY._schema, document, None, {"r": None, "one": None}) == 0
    assert walked == [document]
    again = parse(
        'query($r: [ID!] = ["a", "b"], $one: ID) { clips(refs: $r) { ref } c: clip(ref: $one) { ref } }'
    )
    assert count_ids(TOY._schema, again, None, {}) == 2  # another document, though equal: its own plan
    assert walked == [document, again]
