"""Refusals at the HTTP edge, over real sockets: a subscription without a stream, the wrong
content type, an unknown Host, a GET without a preflight-forcing header."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.harness import Emulator, Gateway, LogRecords

SUBSCRIPTION = 'subscription { transcodeSummaryUpdates(videoIds: ["x"]) { videoId } }'


def test_a_subscription_over_plain_http_is_a_clear_400(
    make_gateway: Callable[..., Gateway], emulator: Emulator, gateway_logs: LogRecords
) -> None:
    gw = make_gateway(emulator)
    for response in (
        httpx.post(gw.graphql_url, json={"query": SUBSCRIPTION}),
        httpx.get(gw.graphql_url, params={"query": SUBSCRIPTION}),
    ):
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "WebSocket" in error["message"]
    assert gateway_logs.errors() == []
