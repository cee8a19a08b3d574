"""Real JavaScript gateways in front of this gateway and a tiny catalog subgraph (tests/system/federation/js).

- Apollo Gateway (@apollo/gateway on @apollo/server), with the supergraph composed at start-up by
  IntrospectAndCompose, or ahead of time by @apollo/composition (what a production router loads);
- a stitched gateway (@graphql-tools/stitch) merging ``Video`` through ``videos(ids:)`` in batches.

Each one is asked for 30 catalog videos with their transcoding summaries; 2 of the videos don't exist.
This gateway runs with API keys on, so the configs tested here are the ones that forward a key.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.harness import Emulator, Gateway
from tests.support.paths import ROOT
from tests.system.federation.expected import expected_videos
from tests.system.federation.jsprocs import MISSING_AT, NodeProcess

pytestmark = pytest.mark.slow

SUBGRAPH_SDL = ROOT / "schema.federation.graphql"
PLAIN_SDL = ROOT / "schema.graphql"
# every kind but "stitch" works with introspection off, as production gateways usually run
KINDS = {
    "apollo-introspect": {"GATEWAY_INTROSPECTION": "false"},  # IntrospectAndCompose reads _service.sdl
    "apollo-supergraph": {"GATEWAY_INTROSPECTION": "false"},
    "stitch": {},  # its schema comes from introspection
    "stitch-sdl": {"GATEWAY_INTROSPECTION": "false"},  # its schema comes from schema.graphql
}
API_KEY = "federation-test-key-0123456789"
SUMMARY = "transcodeSummary { videoId transcodeStatus progress jobs { format definition fileSize } }"
# tolerated composition hints: none is expected; each one added here must be documented in docs/federation.md
HARMLESS_HINTS: frozenset[str] = frozenset()


def post(
    url: str, query: str, variables: dict[str, Any] | None = None, key: str | None = None
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    response = httpx.post(
        url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def operations(vod: Gateway) -> float:
    """GraphQL operations this gateway has served (its /metrics counter, all outcomes)."""
    text = httpx.get(vod.url + "/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("gateway_graphql_operations_total{")
    )


def start_gateways(
    kind: str,
    ids: list[str],
    vod: Gateway,
    start_js: Callable[..., NodeProcess],
    compose: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> NodeProcess:
    catalog = start_js("catalog.mjs", "--ids", ",".join(ids))
    key = {"VOD_GATEWAY_API_KEY": API_KEY}
    if kind == "apollo-introspect":
        return start_js("apollo-gateway.mjs", "--catalog", catalog.url, "--vod", vod.graphql_url, **key)
    if kind == "apollo-supergraph":
        supergraph = tmp_path / "supergraph.graphql"
        report = compose(
            "--vod-sdl", str(SUBGRAPH_SDL), "--vod-url", vod.graphql_url,
            "--catalog-url", catalog.url, "--out", str(supergraph),
        )  # fmt: skip
        assert report["errors"] == []
        return start_js("apollo-gateway.mjs", "--supergraph", str(supergraph), **key)
    if kind == "stitch-sdl":
        return start_js(
            "stitch-gateway.mjs", "--catalog", catalog.url, "--vod", vod.graphql_url,
            "--vod-sdl", str(PLAIN_SDL), **key,
        )  # fmt: skip
    assert kind == "stitch"
    return start_js("stitch-gateway.mjs", "--catalog", catalog.url, "--vod", vod.graphql_url, **key)


@pytest.mark.parametrize("kind", list(KINDS))
def test_thirty_catalog_videos_with_summaries_cost_three_upstream_calls(
    kind: str,
    emulator: Emulator,
    make_gateway: Callable[..., Gateway],
    thirty_ids: list[str],
    start_js: Callable[..., NodeProcess],
    compose: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    vod = make_gateway(emulator, GATEWAY_API_KEYS=API_KEY, **KINDS[kind])
    front = start_gateways(kind, thirty_ids, vod, start_js, compose, tmp_path)
    assert emulator.state.stats.calls == 0  # composition and introspection never reach VOD
    before = operations(vod)

    body = post(front.url, f"{{ videos {{ id title {SUMMARY} }} }}")

    # one request to this gateway: an _entities call with 30 representations, or (stitched, with
    # argsFromKeys) one videos(ids:) with 30 IDs
    assert operations(vod) - before == 1

    # upstream: 28 existing + 2 missing IDs in ⌈30/10⌉ calls, each ID asked for once
    assert emulator.accepted_calls == math.ceil(30 / 10) == 3
    assert emulator.state.stats.calls == 3
    asked = [i for call in emulator.state.stats.ids_per_call() for i in call]
    assert sorted(asked) == sorted(thirty_ids)

    # the exact data: catalog titles, the emulator's records, null where the video doesn't exist
    videos = body["data"]["videos"]
    assert videos == expected_videos(emulator, thirty_ids)
    assert [i for i, v in enumerate(videos) if v["transcodeSummary"] is None] == list(MISSING_AT)

    # and what this gateway answers directly for the same IDs
    direct = post(
        vod.graphql_url,
        f"query($ids: [ID!]!) {{ videos(ids: $ids) {{ id {SUMMARY} }} }}",
        {"ids": thirty_ids},
        key=API_KEY,
    )
    assert [{k: v for k, v in video.items() if k != "title"} for video in videos] == direct["data"]["videos"]

    missing = [thirty_ids[i] for i in MISSING_AT]
    errors = sorted(body["errors"], key=lambda e: e["extensions"]["videoId"])
    assert [e["extensions"]["videoId"] for e in errors] == sorted(missing)
    assert {e["extensions"]["code"] for e in errors} == {"VIDEO_NOT_FOUND"}
    if kind.startswith("apollo"):
        # Apollo Gateway maps _entities.N.transcodeSummary back to the client's path and passes the
        # subgraph's extensions through, adding serviceName
        assert {(tuple(e["path"]), e["extensions"]["serviceName"]) for e in errors} == {
            (("videos", i, "transcodeSummary"), "vod") for i in MISSING_AT
        }
    else:
        # batched type merging drops the list index from the path (a graphql-tools behaviour);
        # extensions.videoId still says which item failed
        assert [e["path"] for e in errors] == [["videos", "transcodeSummary"]] * 2
        assert all(set(e["extensions"]) == {"code", "videoId"} for e in errors)


def test_stitched_root_videos_keeps_order_repeats_and_error_indexes(
    emulator: Emulator,
    make_gateway: Callable[..., Gateway],
    thirty_ids: list[str],
    start_js: Callable[..., NodeProcess],
) -> None:
    vod = make_gateway(emulator, GATEWAY_API_KEYS=API_KEY)
    catalog = start_js("catalog.mjs", "--ids", ",".join(thirty_ids[:10]))
    front = start_js(
        "stitch-gateway.mjs", "--catalog", catalog.url, "--vod", vod.graphql_url, VOD_GATEWAY_API_KEY=API_KEY
    )
    ids = [thirty_ids[9], thirty_ids[5], thirty_ids[0], thirty_ids[9]]  # reordered, a missing one, a repeat

    body = post(
        front.url,
        "query($ids: [ID!]!) { vodVideos(ids: $ids) { id transcodeSummary { videoId } } }",
        {"ids": ids},
    )

    videos = body["data"]["vodVideos"]
    assert [v["id"] for v in videos] == ids
    assert [v["transcodeSummary"] and v["transcodeSummary"]["videoId"] for v in videos] == [
        ids[0],
        None,
        ids[2],
        ids[3],
    ]
    # a root field is delegated whole, so here the path keeps its index
    assert [(e["path"], e["extensions"]) for e in body["errors"]] == [
        (["vodVideos", 1, "transcodeSummary"], {"code": "VIDEO_NOT_FOUND", "videoId": ids[1]})
    ]
    assert emulator.accepted_calls == 1


@pytest.mark.parametrize("kind", list(KINDS))
def test_subscriptions_are_in_the_supergraph_but_no_js_gateway_runs_one(
    kind: str,
    emulator: Emulator,
    make_gateway: Callable[..., Gateway],
    thirty_ids: list[str],
    start_js: Callable[..., NodeProcess],
    compose: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    """Apollo Gateway composes Subscription.transcodeSummaryUpdates (a router with subscriptions
    enabled runs it over vod-gateway's WebSocket) but refuses to execute it; the stitched gateway,
    HTTP only, leaves Subscription out. Neither sends anything to vod-gateway for one."""
    vod = make_gateway(emulator, GATEWAY_API_KEYS=API_KEY, **KINDS[kind])
    front = start_gateways(kind, thirty_ids, vod, start_js, compose, tmp_path)
    schema = post(front.url, "{ __schema { subscriptionType { fields { name } } } }")["data"]["__schema"]
    before = operations(vod)

    response = httpx.post(
        front.url,
        json={"query": "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId } }",
              "variables": {"ids": thirty_ids[:2]}},
        timeout=30,
    )  # fmt: skip

    [error] = response.json()["errors"]
    if kind.startswith("apollo"):
        assert schema["subscriptionType"] == {"fields": [{"name": "transcodeSummaryUpdates"}]}
        assert response.status_code == 500
        assert error["message"] == "Execution of subscriptions not supported by gateway"
    else:
        assert schema["subscriptionType"] is None
        assert error["message"] == "Schema is not configured to execute subscription operation."
    assert operations(vod) == before
    assert emulator.state.stats.calls == 0


def test_composition_has_no_errors_and_no_hints_that_matter(
    compose: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    report = compose("--vod-sdl", str(SUBGRAPH_SDL), "--out", str(supergraph))
    print("composition hints:", report["hints"] or "none")
    assert report["errors"] == []
    assert [h for h in report["hints"] if h["code"] not in HARMLESS_HINTS] == []
    # this subgraph's Subscription is part of the supergraph, owned by it alone
    sdl = supergraph.read_text()
    assert "  subscription: Subscription\n" in sdl
    assert "type Subscription\n  @join__type(graph: VOD)\n{" in sdl
    assert "    videoIds: [ID!]!\n  ): TranscodeSummary!\n}" in sdl  # transcodeSummaryUpdates


def test_the_subgraph_sdl_leaves_query_videos_to_the_catalog() -> None:
    sdl = SUBGRAPH_SDL.read_text()
    assert "videos(ids:" not in sdl  # the stitching entry point is not part of the subgraph contract
    assert "_entities(representations: [_Any!]!): [_Entity]!" in sdl


def test_an_entity_batch_over_the_id_budget_fails_whole_before_any_call(
    emulator: Emulator,
    make_gateway: Callable[..., Gateway],
    start_js: Callable[..., NodeProcess],
) -> None:
    vod = make_gateway(emulator, GATEWAY_MAX_IDS="20")
    catalogue = emulator.state.catalogue
    catalog = start_js("catalog.mjs", "--ids", ",".join(catalogue.ids[:21]))
    front = start_js("apollo-gateway.mjs", "--catalog", catalog.url, "--vod", vod.graphql_url)

    body = post(front.url, "{ videos { id title transcodeSummary { videoId } } }")

    videos = body["data"]["videos"]
    assert len(videos) == 21 and all(v["transcodeSummary"] is None for v in videos)
    # the whole _entities fetch is refused, so every summary is null, with one error and no path
    [error] = body["errors"]
    assert "path" not in error
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "limit": 20, "serviceName": "vod"}
    assert "asks for 21 video IDs; at most 20" in error["message"]
    assert emulator.state.stats.calls == 0
