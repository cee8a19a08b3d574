"""Repeated identical operations are answered from the response cache while the summaries behind
them are unchanged; a change is seen at the next repeat."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest

from gateway.emulator.catalogue import Catalogue
from gateway.emulator.model import ALL_SUCCEEDED, PROCESSING
from tests.support.clock import ManualClock
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


def test_disabled_with_zero_ttl(
    emulator: Emulator, make_gateway: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    video = emulator.ids(ALL_SUCCEEDED)[0]
    body = {"query": f'{{ transcodeSummary(videoId: "{video}") {{ progress }} }}'}
    gateway = make_gateway(emulator, GATEWAY_RESPONSE_CACHE_TTL="0")
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        httpx.post(gateway.graphql_url, json=body)
        httpx.post(gateway.graphql_url, json=body)
    assert cached_lines(caplog) == 0


def test_a_repeat_is_from_bytes_while_its_summaries_are_unchanged_whatever_the_summary_ttl(
    emulator: Emulator, make_gateway: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    """With the summary cache off, each repeat looks its videos up upstream (as running the
    operation would) and, finding them unchanged, answers with the first answer's bytes."""
    freeze(emulator, 200)
    done = emulator.ids(ALL_SUCCEEDED)[0]
    body = {"query": f'{{ transcodeSummary(videoId: "{done}") {{ videoId transcodeStatus }} }}'}
    gateway = make_gateway(emulator, GATEWAY_CACHE_TTL_TERMINAL="0")
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        answers = [httpx.post(gateway.graphql_url, json=body).content for _ in range(10)]
    assert len(set(answers)) == 1
    assert cached_lines(caplog) == 9
    assert emulator.accepted_calls == 10
    assert 'gateway_response_cache_total{result="hit"} 9.0' in httpx.get(gateway.url + "/metrics").text


def test_a_change_is_seen_at_the_next_repeat_for_no_extra_lookup(
    emulator: Emulator, make_gateway: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    freeze(emulator, 200)
    video = emulator.ids(PROCESSING)[0]
    body = {"query": f'{{ transcodeSummary(videoId: "{video}") {{ transcodeStatus progress }} }}'}
    gateway = make_gateway(emulator, GATEWAY_CACHE_TTL_ACTIVE="0")
    with caplog.at_level(logging.INFO, logger="gateway.graphql"):
        first = httpx.post(gateway.graphql_url, json=body).json()
        assert httpx.post(gateway.graphql_url, json=body).json() == first  # unchanged: from bytes
        emulator.state.advance(400)  # every job ends within 300 s
        after = httpx.post(gateway.graphql_url, json=body).json()
        again = httpx.post(gateway.graphql_url, json=body).json()
    assert (
        after["data"]["transcodeSummary"]["progress"] == 100 != first["data"]["transcodeSummary"]["progress"]
    )
    assert again == after
    assert cached_lines(caplog) == 2  # the second and the fourth
    # one lookup each for the first three (the changed one ran on its check's outcomes); the finished
    # summary is then in the summary cache (GATEWAY_CACHE_TTL_TERMINAL), so the fourth costs none
    assert emulator.accepted_calls == 3
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'gateway_response_cache_total{result="changed"} 1.0' in metrics


def freeze(emulator: Emulator, size: int) -> Emulator:
    """A catalogue whose time moves only through ``state.advance``."""
    emulator.state.catalogue = Catalogue.generate(size, 1, ManualClock())
    return emulator
