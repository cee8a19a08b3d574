"""Automatic persisted queries over real HTTP, as Apollo's link and urql's exchange use them: the
PersistedQueryNotFound round trip, GET with Cache-Control and ETag from the summaries' TTLs, 304,
the safelist, and documents shared between gateways through Redis."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import redis

from gateway.config.persisted import sha256_hex
from gateway.emulator.model import ALL_SUCCEEDED, PROCESSING
from tests.integration.test_subscriptions import GqlWs
from tests.support.harness import Emulator, Gateway
from tests.support.redis import needs_redis

REDIS_DB5 = "redis://127.0.0.1:6379/5"  # this file's own database: flushed, never 0 or 7
QUERY = "query($id: ID!) { transcodeSummary(videoId: $id) { videoId transcodeStatus } }"


def persisted(document: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(document)}}


def get(gw: Gateway, variables: dict[str, object], headers: dict[str, str] | None = None) -> httpx.Response:
    params = {"variables": json.dumps(variables), "extensions": json.dumps(persisted(QUERY))}
    return httpx.get(gw.graphql_url, params=params, headers=headers or {})


def test_unknown_hash_then_register_then_the_hash_alone_runs(emulator: Emulator, gateway: Gateway) -> None:
    [video] = emulator.ids(ALL_SUCCEEDED, 1)
    variables = {"id": video}
    missed = httpx.post(gateway.graphql_url, json={"variables": variables, "extensions": persisted(QUERY)})
    assert missed.status_code == 200
    assert missed.json() == {
        "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    }
    calls = emulator.accepted_calls
    assert calls == 0  # nothing ran
    full = {"query": QUERY, "variables": variables, "extensions": persisted(QUERY)}
    registered = httpx.post(gateway.graphql_url, json=full)
    assert registered.status_code == 200
    assert registered.json()["data"]["transcodeSummary"]["videoId"] == video
    by_hash = get(gateway, variables)
    assert by_hash.status_code == 200 and by_hash.json() == registered.json()

    wrong = httpx.post(gateway.graphql_url, json={**full, "query": QUERY + " "})
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_only_a_document_that_parses_and_validates_registers(emulator: Emulator, gateway: Gateway) -> None:
    for broken, code in (("{ nope", "GRAPHQL_PARSE_FAILED"), ("{ nope }", "GRAPHQL_VALIDATION_FAILED")):
        sent = httpx.post(gateway.graphql_url, json={"query": broken, "extensions": persisted(broken)})
        assert sent.json()["errors"][0]["extensions"]["code"] == code
        by_hash = httpx.post(gateway.graphql_url, json={"extensions": persisted(broken)})
        assert by_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    valid_but_bad_variables = {"query": QUERY, "variables": {"id": None}, "extensions": persisted(QUERY)}
    refused = httpx.post(gateway.graphql_url, json=valid_but_bad_variables)
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    [video] = emulator.ids(ALL_SUCCEEDED, 1)
    assert get(gateway, {"id": video}).json()["data"]["transcodeSummary"]["videoId"] == video  # it validated


async def test_over_websockets_too_only_a_valid_document_registers(
    emulator: Emulator, gateway: Gateway
) -> None:
    broken = "subscription { nope }"
    ws = await GqlWs.open(gateway.url)
    await ws.send(
        {"id": "a", "type": "subscribe", "payload": {"query": broken, "extensions": persisted(broken)}}
    )
    first = await ws.recv()
    assert first["type"] == "error"
    assert first["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await ws.send({"id": "b", "type": "subscribe", "payload": {"extensions": persisted(broken)}})
    second = await ws.recv()
    assert second["type"] == "error"
    assert second["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    await ws.close()


def test_get_answers_carry_cache_headers_from_the_summaries_ttls_and_304(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    gw = make_gateway(emulator, GATEWAY_CACHE_TTL_ACTIVE="2", GATEWAY_CACHE_TTL_TERMINAL="30")
    [done], [busy] = emulator.ids(ALL_SUCCEEDED, 1), emulator.ids(PROCESSING, 1)
    register = {"query": QUERY, "variables": {"id": done}, "extensions": persisted(QUERY)}
    assert httpx.post(gw.graphql_url, json=register).status_code == 200

    finished = get(gw, {"id": done})
    assert finished.headers["cache-control"] == "public, max-age=30"
    assert finished.headers["vary"] == "Accept"
    etag = finished.headers["etag"]
    assert get(gw, {"id": busy}).headers["cache-control"] == "public, max-age=2"  # the shortest TTL behind it
    missing = get(gw, {"id": emulator.missing_id})  # VIDEO_NOT_FOUND: cacheable, for the not-found TTL
    assert missing.headers["cache-control"] == "public, max-age=5"
    invalid = get(gw, {"id": "no,commas"})  # BAD_USER_INPUT: never stored
    assert invalid.headers["cache-control"] == "no-store" and "etag" not in invalid.headers

    revalidated = get(gw, {"id": done}, {"if-none-match": etag})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert (
        revalidated.headers["etag"] == etag and revalidated.headers["cache-control"] == "public, max-age=30"
    )
    assert get(gw, {"id": done}, {"if-none-match": '"other"'}).status_code == 200


def test_every_get_answer_but_a_cacheable_success_is_no_store(emulator: Emulator, gateway: Gateway) -> None:
    [video] = emulator.ids(ALL_SUCCEEDED, 1)
    unknown = get(gateway, {"id": video})
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.headers["cache-control"] == "no-store"
    url = gateway.graphql_url
    broken = httpx.get(url, params={"query": "{ nope"})
    assert broken.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert broken.headers["cache-control"] == "no-store"
    for refused, status in (
        (httpx.get(url, params={"variables": "{}"}), 400),  # no query
        (httpx.get(url, params={"query": "{ __typename }", "extensions": "[]"}), 400),
        (httpx.get(url, params={"query": "mutation { x }"}), 400),
    ):
        assert refused.status_code == status, refused.text
        assert refused.headers["cache-control"] == "no-store", refused.request.url
    answered = httpx.get(url, params={"query": "{ __typename }"})
    assert answered.headers["cache-control"] == "public, max-age=30"  # a success says its own


def test_with_api_keys_the_answers_are_private(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    key = "apq-test-key-0123456789"
    gw = make_gateway(emulator, GATEWAY_API_KEYS=key)
    auth = {"authorization": f"Bearer {key}"}
    [done] = emulator.ids(ALL_SUCCEEDED, 1)
    register = {"query": QUERY, "variables": {"id": done}, "extensions": persisted(QUERY)}
    assert httpx.post(gw.graphql_url, json=register, headers=auth).status_code == 200
    unauthenticated = get(gw, {"id": done})
    assert unauthenticated.status_code == 401 and unauthenticated.headers["cache-control"] == "no-store"
    assert get(gw, {"id": done}, auth).headers["cache-control"] == "private, max-age=30"


def test_safelist_mode_runs_only_the_files_documents(
    emulator: Emulator, make_gateway: Callable[..., Gateway], tmp_path: Path
) -> None:
    listed = tmp_path / "operations.json"
    listed.write_text(json.dumps({sha256_hex(QUERY): QUERY}))
    gw = make_gateway(emulator, GATEWAY_PERSISTED_ONLY="true", GATEWAY_PERSISTED_QUERIES_FILE=str(listed))
    [done] = emulator.ids(ALL_SUCCEEDED, 1)
    assert get(gw, {"id": done}).json()["data"]["transcodeSummary"]["videoId"] == done
    by_text = httpx.post(gw.graphql_url, json={"query": QUERY, "variables": {"id": done}})
    assert by_text.json()["data"]["transcodeSummary"]["videoId"] == done
    other = "{ __typename }"
    for body in ({"query": other}, {"query": other, "extensions": persisted(other)}):
        refused = httpx.post(gw.graphql_url, json=body)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"


@needs_redis
def test_a_document_registered_on_one_gateway_is_known_to_another_through_redis(
    emulator: Emulator, make_gateway: Callable[..., Gateway]
) -> None:
    store = redis.Redis.from_url(REDIS_DB5)
    store.flushdb()
    first, second = (make_gateway(emulator, GATEWAY_REDIS_URL=REDIS_DB5) for _ in range(2))
    [done] = emulator.ids(ALL_SUCCEEDED, 1)
    assert get(second, {"id": done}).json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    register = {"query": QUERY, "variables": {"id": done}, "extensions": persisted(QUERY)}
    assert httpx.post(first.graphql_url, json=register).status_code == 200
    shared = get(second, {"id": done})
    assert shared.json()["data"]["transcodeSummary"]["videoId"] == done
    assert store.get("vodgw:apq:" + sha256_hex(QUERY)) == QUERY.encode()
    store.flushdb()
    store.close()


async def test_the_safelist_holds_over_websockets_too(
    emulator: Emulator, make_gateway: Callable[..., Gateway], tmp_path: Path
) -> None:
    updates = "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId } }"
    listed = tmp_path / "operations.json"
    listed.write_text(json.dumps({sha256_hex(updates): updates}))
    gw = make_gateway(emulator, GATEWAY_PERSISTED_ONLY="true", GATEWAY_PERSISTED_QUERIES_FILE=str(listed))
    [done] = emulator.ids(ALL_SUCCEEDED, 1)
    ws = await GqlWs.open(gw.url)
    await ws.send({"id": "x", "type": "subscribe", "payload": {"query": "{ __typename }"}})
    refused = await ws.recv()
    assert (
        refused["type"] == "error"
        and refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    )
    by_hash = {"variables": {"ids": [done]}, "extensions": persisted(updates)}
    await ws.send({"id": "y", "type": "subscribe", "payload": by_hash})
    messages = await ws.until_done("y")
    assert messages[0]["payload"] == {"data": {"transcodeSummaryUpdates": {"videoId": done}}}
    assert messages[-1]["type"] == "complete"
    await ws.close()
