"""``application/graphql-response+json`` over real HTTP: the spec's status codes when the client
accepts it, the legacy 200 for ``application/json``."""

from __future__ import annotations

import httpx
import pytest

from gateway.emulator.model import ALL_SUCCEEDED
from tests.support.harness import Emulator, Gateway

SPEC = "application/graphql-response+json, application/json;q=0.9"  # what Apollo Client 4 sends


def post(gateway: Gateway, body: dict[str, object], accept: str) -> httpx.Response:
    return httpx.post(gateway.graphql_url, json=body, headers={"accept": accept})


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ transcodeSummary(videoId: ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($id: ID!) { transcodeSummary(videoId: $id) { videoId } }", "BAD_USER_INPUT"),  # no $id
    ],
)
def test_a_request_error_is_400_without_data(gateway: Gateway, query: str, code: str) -> None:
    spec = post(gateway, {"query": query}, SPEC)
    assert spec.status_code == 400
    assert spec.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    body = spec.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code
    legacy = post(gateway, {"query": query}, "application/json")
    assert legacy.status_code == 200 and legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None and legacy.json()["errors"][0]["extensions"]["code"] == code


def test_once_execution_began_it_is_200_even_with_errors(emulator: Emulator, gateway: Gateway) -> None:
    [done] = emulator.ids(ALL_SUCCEEDED, 1)
    query = f'{{ a: transcodeSummary(videoId: "{done}") {{ videoId }} b: transcodeSummary(videoId: "{emulator.missing_id}") {{ videoId }} }}'
    response = post(gateway, {"query": query}, SPEC)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    body = response.json()
    assert body["data"] == {"a": {"videoId": done}, "b": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VIDEO_NOT_FOUND"]
    again = post(gateway, {"query": query}, SPEC)  # from the response cache: the same type
    assert again.headers["content-type"] == response.headers["content-type"] and again.json() == body


def test_an_edge_refusal_in_the_spec_type_has_no_data(gateway: Gateway) -> None:
    response = httpx.get(gateway.graphql_url, headers={"accept": SPEC})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/graphql-response+json; charset=utf-8"
    body = response.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
