"""Content negotiation of the GraphQL over HTTP spec's media type, and what counts as a request error."""

from __future__ import annotations

import pytest
from graphql import GraphQLError

from gateway.http.graphql_response import (
    is_incremental,
    is_request_error,
    needs_multipart,
    wants_graphql_response,
)


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        ("application/graphql-response+json, application/json;q=0.9", True),  # Apollo Client 4
        ("application/graphql-response+json", True),
        ("application/json, application/graphql-response+json", True),  # equal weights: the spec's
        ("application/json", False),
        ("application/json, application/graphql-response+json;q=0.5", False),
        ("application/graphql-response+json;q=0", False),
        ("*/*", False),
        ("", False),
        (None, False),
    ],
)
def test_the_spec_type_when_accepted_at_least_as_much_as_json(accept: str | None, wanted: bool) -> None:
    assert wants_graphql_response(accept) is wanted


def test_a_request_error_has_no_data_and_no_error_at_a_path() -> None:
    assert is_request_error(None, [GraphQLError("Cannot query field 'nope'")])
    assert not is_request_error(None, [GraphQLError("not found", path=["transcodeSummary"])])
    assert not is_request_error({"transcodeSummary": None}, [GraphQLError("x")])
    assert not is_request_error(None, [])


@pytest.mark.parametrize(
    ("query", "incremental"),
    [
        ("{ a @stream }", True),
        ("{ ... @defer { a } }", True),
        ("{ ...F } fragment F on Q { a @ stream(initialCount: 1) }", True),
        ("{ a } # @defer and @stream, in a comment", False),
        ('{ a(text: "@defer") }', False),
        ("{ a @include(if: true) }", False),
        ("{ nope", False),
    ],
)
def test_incremental_is_read_from_the_documents_directives(query: str, incremental: bool) -> None:
    assert is_incremental(query) is incremental
    assert needs_multipart(query, "application/json") is incremental
    assert not needs_multipart(query, "multipart/mixed;deferSpec=20220824, application/json")
