"""The gateway's edge: API keys, body size, query limits, introspection, CORS, error shapes.
Everything here is rejected before any upstream call."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from gateway.config.settings import SettingsError, load_settings
from gateway.http.auth import ApiKeys
from gateway.vod.credentials import Secret
from tests.support.harness import Emulator, Gateway

KEY = "k-0123456789abcdef"
QUERY = '{ transcodeSummary(videoId: "abc") { videoId } }'


def post(gateway: Gateway, body: object, **headers: str) -> httpx.Response:
    return httpx.post(gateway.graphql_url, json=body, headers=headers)


def test_api_key_required_when_configured(emulator: Emulator, make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(emulator, GATEWAY_API_KEYS=f"other-key,{KEY}")
    for headers in (
        {},
        {"authorization": "Bearer nope"},
        {"authorization": KEY},
        {"authorization": "Basic a2V5"},
    ):
        response = post(gateway, {"query": QUERY}, **headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert KEY not in response.text
    assert emulator.accepted_calls == 0
    ok = post(gateway, {"query": QUERY}, authorization=f"Bearer {KEY}")
    assert ok.status_code == 200 and emulator.accepted_calls == 1
    assert httpx.get(gateway.url + "/healthz").status_code == 200  # liveness stays open
    page = httpx.get(gateway.graphql_url, headers={"accept": "text/html"})
    assert page.status_code == 200  # the explorer page itself holds no data
    sneaky = httpx.get(
        gateway.graphql_url,
        params={"query": "{ __typename }"},
        headers={"accept": "application/json, text/html"},
    )
    assert sneaky.status_code == 401  # a GraphQL GET that merely mentions text/html still needs the key


def test_api_keys_compare_by_digest_whatever_their_length() -> None:
    """Keys and candidates are compared as SHA-256 digests, so a wrong length is just a mismatch
    (compare_digest on raw bytes returns early when the lengths differ)."""
    keys = (Secret("short"), Secret("a-much-longer-key-" + "x" * 100))
    allowed = ApiKeys(keys).allowed
    assert allowed("Bearer short") and allowed("bearer " + keys[1].reveal())
    for header in ("Bearer shor", "Bearer shortt", "Bearer ", "Bearer", "", "short", "Basic short"):
        assert not allowed(header), header


def test_api_keys_from_a_file(
    emulator: Emulator, make_gateway: Callable[..., Gateway], tmp_path: pytest.TempPathFactory
) -> None:
    path = tmp_path / "keys"  # type: ignore[operator]
    path.write_text(f"# one key per line\n{KEY}\n")
    gateway = make_gateway(emulator, GATEWAY_API_KEYS_FILE=str(path))
    assert post(gateway, {"query": QUERY}).status_code == 401
    assert post(gateway, {"query": QUERY}, authorization=f"Bearer {KEY}").status_code == 200


def test_an_api_keys_file_without_keys_fails_start_up(tmp_path: Path) -> None:
    """A mounted secret that came up empty would otherwise run the gateway without any key."""
    path = tmp_path / "keys"
    path.write_text("# keys go here, one per line\n  # indented comment\n\n")
    with pytest.raises(SettingsError, match=r"GATEWAY_API_KEYS_FILE='.*keys' holds no keys"):
        load_settings({"GATEWAY_API_KEYS_FILE": str(path)})
    path.write_text("  # indented comment\nreal-key\n")
    keys = load_settings({"GATEWAY_API_KEYS_FILE": str(path)}).api_keys
    assert [k.reveal() for k in keys] == ["real-key"]


def test_body_size_limit(emulator: Emulator, make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(emulator, GATEWAY_MAX_BODY_BYTES="2000")
    big = {"query": QUERY, "variables": {"pad": "x" * 5000}}
    response = post(gateway, big)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    def chunks() -> object:
        yield b'{"query": "'
        for _ in range(10):
            yield b" " * 500
        yield b'"}'

    streamed = httpx.post(gateway.graphql_url, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert emulator.accepted_calls == 0


@pytest.mark.parametrize(
    ("env", "query", "fragment"),
    [
        (
            {"GATEWAY_MAX_DEPTH": "2"},
            '{ videos(ids: ["a"]) { transcodeSummary { jobs { format } } } }',
            "depth",
        ),
        (
            {"GATEWAY_MAX_ALIASES": "2"},
            '{ a: transcodeSummary(videoId: "a") { videoId } b: transcodeSummary(videoId: "b") { videoId }'
            ' c: transcodeSummary(videoId: "c") { videoId } }',
            "aliases",
        ),
        (
            {"GATEWAY_MAX_TOKENS": "10"},
            '{ transcodeSummary(videoId: "a") { videoId transcodeStatus progress } }',
            "token",
        ),
    ],
    ids=["depth", "aliases", "tokens"],
)
def test_query_limits(
    emulator: Emulator, make_gateway: Callable[..., Gateway], env: dict[str, str], query: str, fragment: str
) -> None:
    gateway = make_gateway(emulator, **env)
    body = gateway.query(query)
    assert body["data"] is None
    assert fragment in body["errors"][0]["message"].lower()
    assert body["errors"][0]["extensions"]["code"]
    assert emulator.accepted_calls == 0


def test_total_ids_per_operation_across_fields_and_aliases(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    gateway = make_gateway(emulator, GATEWAY_MAX_IDS="5")
    body = gateway.query(
        'query($ids: [ID!]!) { a: transcodeSummaries(videoIds: $ids) { videoId } b: videos(ids: ["x", "y"]) { id }'
        ' ...F } fragment F on Query { c: transcodeSummary(videoId: "z") { videoId } }',
        {"ids": ["p", "q", "r"]},
    )
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": 5}
    assert "6 video IDs" in error["message"]
    assert emulator.accepted_calls == 0
    ok = gateway.query(
        "query($ids: [ID!]!) { transcodeSummaries(videoIds: $ids) { videoId } }", {"ids": ["p"] * 5}
    )
    assert "data" in ok and emulator.accepted_calls == 1


def test_variable_defaults_count_toward_the_id_budget(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    """A default value stands in for a variable not given: it can't smuggle IDs past the budget."""
    gateway = make_gateway(emulator, GATEWAY_MAX_IDS="5")
    ids = ", ".join(f'"v{i}"' for i in range(6))
    query = f"query($ids: [ID!]! = [{ids}]) {{ transcodeSummaries(videoIds: $ids) {{ videoId }} }}"
    body = gateway.query(query)
    assert body["data"] is None and body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "limit": 5}
    assert "6 video IDs" in body["errors"][0]["message"]
    given = gateway.query(query, {"ids": ["a", "b"]})  # a variable given overrides its default
    assert [i["videoId"] if i else None for i in given["data"]["transcodeSummaries"]] == [None, None]
    assert emulator.accepted_calls == 1


def test_introspection_can_be_switched_off(emulator: Emulator, make_gateway: Callable[..., Gateway]) -> None:
    on = make_gateway(emulator)
    assert on.query("{ __schema { queryType { name } } }")["data"]["__schema"]["queryType"]["name"] == "Query"
    off = make_gateway(emulator, GATEWAY_INTROSPECTION="false")
    body = off.query("{ __schema { queryType { name } } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert off.query("{ __typename }")["data"] == {"__typename": "Query"}


def test_cors_for_configured_origins(emulator: Emulator, make_gateway: Callable[..., Gateway]) -> None:
    gateway = make_gateway(emulator, GATEWAY_CORS_ORIGINS="https://app.example.com")
    preflight = httpx.options(
        gateway.graphql_url,
        headers={
            "origin": "https://app.example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,authorization",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    other = httpx.options(
        gateway.graphql_url,
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


def test_every_error_has_a_code_and_no_traceback(emulator: Emulator, gateway: Gateway) -> None:
    cases: list[tuple[dict[str, str], bytes]] = [
        ({"content-type": "application/json"}, b"{not json"),
        ({"content-type": "application/json"}, b'{"query": "{ nope }"}'),
        (
            {"content-type": "application/json"},
            b'{"query": "{ transcodeSummary(videoId: true) { videoId } }"}',
        ),
        (
            {"content-type": "application/json"},
            b'{"query": "query($v: ID!) { transcodeSummary(videoId: $v) { videoId } }"}',
        ),
        ({"content-type": "application/json"}, b'{"query": "{"}'),
        ({"content-type": "application/json"}, b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]'),
        ({"content-type": "text/plain"}, b"{ __typename }"),
    ]
    for headers, content in cases:
        response = httpx.post(gateway.graphql_url, content=content, headers=headers)
        assert response.status_code < 500, content
        body = response.json()
        assert body["errors"], content
        for error in body["errors"]:
            assert error["extensions"]["code"], (content, error)
            assert "Traceback" not in error["message"]
    mutation = httpx.get(gateway.graphql_url, params={"query": "mutation { x }"})
    assert mutation.status_code in (400, 405) and mutation.json()["errors"][0]["extensions"]["code"]
    assert emulator.accepted_calls == 0


def test_request_id_is_echoed(gateway: Gateway) -> None:
    response = httpx.post(
        gateway.graphql_url, json={"query": "{ __typename }"}, headers={"x-request-id": "abc-123"}
    )
    assert response.headers["x-request-id"] == "abc-123"
    bad = httpx.post(
        gateway.graphql_url, json={"query": "{ __typename }"}, headers={"x-request-id": "a b<script>"}
    )
    assert bad.headers["x-request-id"] != "a b<script>" and len(bad.headers["x-request-id"]) == 16


def test_graphiql_off_makes_get_a_plain_graphql_endpoint(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    on = make_gateway(emulator)
    page = httpx.get(on.graphql_url, headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    off = make_gateway(emulator, GATEWAY_GRAPHIQL="false")
    browser = httpx.get(off.graphql_url, headers={"accept": "text/html"}, params={"query": "{ __typename }"})
    assert browser.json() == {"data": {"__typename": "Query"}}
    bare = httpx.get(off.graphql_url, headers={"accept": "text/html"})
    assert bare.status_code == 400 and bare.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "No GraphQL query" in bare.json()["errors"][0]["message"]
    plain = httpx.get(on.graphql_url)  # curl, say: no browser, no query
    assert plain.status_code == 400 and "POST JSON" in plain.json()["errors"][0]["message"]
