"""Hive Gateway (@graphql-hive/gateway, js/hive-gateway.mjs) in front of this gateway and the catalog
subgraph, on a supergraph composed ahead of time by @apollo/composition: the 30-video query costs 3
upstream calls, and a ``transcodeSummaryUpdates`` subscription runs through the supergraph over the
transport Hive Gateway uses to subgraphs (SSE), to its completion. This gateway has API keys on."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.emulator.catalogue import Catalogue
from gateway.emulator.model import PROCESSING
from tests.support.clock import ManualClock
from tests.support.harness import Emulator, Gateway
from tests.support.waits import eventually
from tests.system.federation.expected import expected_videos
from tests.system.federation.jsprocs import MISSING_AT, NodeProcess
from tests.system.federation.test_js_gateways import API_KEY, SUBGRAPH_SDL, SUMMARY, post

pytestmark = pytest.mark.slow
FINAL = {"COMPLETE_ALL_SUCC", "COMPLETE_ALL_FAIL", "COMPLETE_PARTIAL_SUCC"}


def hive(
    ids: list[str], vod: Gateway, start_js: Callable[..., NodeProcess], compose: Callable[..., Any], tmp: Path
) -> NodeProcess:
    catalog = start_js("catalog.mjs", "--ids", ",".join(ids))
    supergraph = tmp / "supergraph.graphql"
    report = compose(
        "--vod-sdl", str(SUBGRAPH_SDL), "--vod-url", vod.graphql_url, "--catalog-url", catalog.url,
        "--out", str(supergraph),
    )  # fmt: skip
    assert report["errors"] == []
    return start_js("hive-gateway.mjs", "--supergraph", str(supergraph), VOD_GATEWAY_API_KEY=API_KEY)


def test_thirty_catalog_videos_with_summaries_cost_three_upstream_calls(
    emulator: Emulator,
    make_gateway: Callable[..., Gateway],
    thirty_ids: list[str],
    start_js: Callable[..., NodeProcess],
    compose: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    vod = make_gateway(emulator, GATEWAY_API_KEYS=API_KEY, GATEWAY_INTROSPECTION="false")
    front = hive(thirty_ids, vod, start_js, compose, tmp_path)

    body = post(front.url, f"{{ videos {{ id title {SUMMARY} }} }}")

    assert emulator.accepted_calls == math.ceil(30 / 10) == 3
    asked = [i for call in emulator.state.stats.ids_per_call() for i in call]
    assert sorted(asked) == sorted(thirty_ids)
    videos = body["data"]["videos"]
    assert videos == expected_videos(emulator, thirty_ids)
    assert [i for i, v in enumerate(videos) if v["transcodeSummary"] is None] == list(MISSING_AT)
    missing = {thirty_ids[i] for i in MISSING_AT}
    assert {e["extensions"]["videoId"] for e in body["errors"]} == missing
    assert {e["extensions"]["code"] for e in body["errors"]} == {"VIDEO_NOT_FOUND"}
    # Hive Gateway (graphql-tools underneath) drops the list index from the path, as batched type
    # merging does; extensions.videoId still says which item failed
    assert [e["path"] for e in body["errors"]] == [["videos", "transcodeSummary"]] * 2


def test_a_subscription_runs_through_the_supergraph_over_sse_to_completion(
    make_emulator: Callable[..., Emulator],
    make_gateway: Callable[..., Gateway],
    start_js: Callable[..., NodeProcess],
    compose: Callable[..., dict[str, Any]],
    tmp_path: Path,
) -> None:
    emulator = make_emulator()
    emulator.state.catalogue = Catalogue.generate(600, 1, ManualClock())  # time moves when advanced
    ids = emulator.ids(PROCESSING, 2)
    vod = make_gateway(emulator, GATEWAY_API_KEYS=API_KEY, GATEWAY_POLL_INTERVAL="0.05")
    front = hive(ids, vod, start_js, compose, tmp_path)
    query = "subscription($ids: [ID!]!) { transcodeSummaryUpdates(videoIds: $ids) { videoId transcodeStatus progress } }"
    seen: dict[str, list[str]] = {}
    ended = []

    with httpx.Client(timeout=30) as client:
        body = {"query": query, "variables": {"ids": ids}}
        with client.stream("POST", front.url, json=body, headers={"accept": "text/event-stream"}) as r:
            assert r.status_code == 200, r.read()
            for event, data in _events(r):
                if event == "complete":
                    ended.append(event)
                    break
                assert "errors" not in data, data
                item = data["data"]["transcodeSummaryUpdates"]
                seen.setdefault(item["videoId"], []).append(item["transcodeStatus"])
                emulator.state.advance(60)  # progress: the shared poller sees the change next round
    assert ended == ["complete"]
    assert sorted(seen) == sorted(ids)
    for statuses in seen.values():
        assert statuses[0] not in FINAL and statuses[-1] in FINAL and len(statuses) >= 2
    eventually(lambda: "gateway_subscriptions 0.0" in httpx.get(vod.url + "/metrics").text, 10, "released")


def _events(response: httpx.Response) -> Any:
    event, data = "message", ""
    for line in response.iter_lines():
        if line == "":
            if data or event != "message":
                yield event, json.loads(data) if data else None
            event, data = "message", ""
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
