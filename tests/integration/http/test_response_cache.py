"""Repeated identical operations are answered from the response cache, within its bounds."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from gateway.emulator.model import ALL_SUCCEEDED, PROCESSING
from tests.support.harness import Emulator, Gateway


def cached_lines(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for r in caplog.records if getattr(r, "fields", {}).get("cached"))


def test_repeat_is_served_from_cache_without_executing(
    emulator: Emulator, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    done = emulator.ids(ALL_SUCCEEDED)[0]
    body = {
        "query": f'{{ a: transcodeSummary(videoId: "{done}") {{ videoId }} b: transcodeSummary(videoId: "{emulator.missing_id}") {{ videoId }} }}'
    }
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        first = httpx.post(gateway.graphql_url, json=body)
        second = httpx.post(gateway.graphql_url, json=body)
    assert first.content == second.content  # not-found errors included, at the same paths
    assert second.json()["errors"][0]["extensions"]["code"] == "VIDEO_NOT_FOUND"
    assert cached_lines(caplog) == 1
    assert emulator.accepted_calls == 1
    assert (
        'gateway_graphql_operations_total{outcome="partial"} 2.0' in httpx.get(gateway.url + "/metrics").text
    )


def test_errors_are_not_cached(
    emulator: Emulator, make_gateway: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    gateway = make_gateway(emulator, ALIBABA_CLOUD_ACCESS_KEY_SECRET="wrong")
    body = {"query": '{ transcodeSummary(videoId: "abc") { videoId } }'}
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        for _ in range(2):
            assert (
                httpx.post(gateway.graphql_url, json=body).json()["errors"][0]["extensions"]["code"]
                == "UPSTREAM_ERROR"
            )
    assert cached_lines(caplog) == 0
    assert emulator.state.stats.calls == 2


def test_disabled_with_zero_ttl_or_without_summary_cache(
    emulator: Emulator, make_gateway: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    video = emulator.ids(PROCESSING)[0]
    body = {"query": f'{{ transcodeSummary(videoId: "{video}") {{ progress }} }}'}
    no_response_cache = make_gateway(emulator, GATEWAY_RESPONSE_CACHE_TTL="0")
    no_summary_cache = make_gateway(emulator, GATEWAY_CACHE_TTL_ACTIVE="0")
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        for gateway in (no_response_cache, no_summary_cache):
            httpx.post(gateway.graphql_url, json=body)
            httpx.post(gateway.graphql_url, json=body)
    assert cached_lines(caplog) == 0
