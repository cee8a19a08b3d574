"""The VOD client against httpx.MockTransport: signing on the wire, retries, typed errors."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable

import httpx
import pytest

from gateway.schema.errors import extensions_of
from gateway.vod import signing
from gateway.vod.client import RetryPolicy, VodClient
from gateway.vod.credentials import Credentials, Secret
from gateway.vod.errors import NoResponse, ServiceError, ServiceThrottled, ServiceUnavailable
from gateway.vod.redaction import redact_url
from tests.support.clock import InstantClock

SECRET = "s3cr3t-value-never-shown"
TOKEN = "sts-token-never-shown"
OK_BODY = {"RequestId": "r1", "NonExistVideoIds": ["gone"], "TranscodeSummaryList": [{"VideoId": "a"}]}

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, signature: str = "v3", token: str | None = None) -> VodClient:
    creds = Credentials("AKID", Secret(SECRET), Secret(token) if token else None)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return VodClient(
        http,
        "http://vod.test",
        creds,
        signature=signature,  # type: ignore[arg-type]
        clock=InstantClock(),
        retry=RetryPolicy(throttle_base=0.01),
    )


def error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"RequestId": "rid-9", "HostId": "h", "Code": code, "Message": "m"})


async def test_v3_request_is_signed_as_documented() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=OK_BODY)

    page = await client_for(handler, token=TOKEN).get_transcode_summary(["a", "gone"])
    assert page.non_existent == {"gone"} and "a" in page.summaries
    request = seen[0]
    assert request.method == "POST" and request.content == b""
    assert request.url.query == b"VideoIds=a%2Cgone"
    parsed = signing.parse_v3_authorization(request.headers["authorization"])
    assert parsed is not None
    key_id, names, signature = parsed
    assert key_id == "AKID" and "x-acs-security-token" in names and "host" in names
    canonical = signing.v3_canonical_request(
        "POST", "/", {"VideoIds": "a,gone"}, dict(request.headers), names, signing.EMPTY_SHA256
    )
    assert signing.v3_signature(SECRET, signing.v3_string_to_sign(canonical)) == signature
    assert request.headers["x-acs-action"] == "GetTranscodeSummary"
    assert request.headers["x-acs-version"] == "2017-03-21"


async def test_v1_request_is_signed_as_documented() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=OK_BODY)

    await client_for(handler, signature="v1", token=TOKEN).get_transcode_summary(["a", "b"])
    request = seen[0]
    params = dict(request.url.params)
    assert request.method == "GET" and request.content == b""
    assert params["VideoIds"] == "a,b" and params["Action"] == "GetTranscodeSummary"
    assert params["SecurityToken"] == TOKEN and params["SignatureMethod"] == "HMAC-SHA1"
    expected = signing.v1_signature(SECRET, signing.v1_string_to_sign("GET", params))
    assert params["Signature"] == expected


async def test_every_call_has_a_fresh_nonce() -> None:
    nonces: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonces.append(request.headers["x-acs-signature-nonce"])
        return httpx.Response(200, json=OK_BODY)

    client = client_for(handler)
    for _ in range(5):
        await client.get_transcode_summary(["a"])
    assert len(set(nonces)) == 5


async def test_error_body_becomes_upstream_error_without_retry() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return error(403, "Forbidden")

    with pytest.raises(ServiceError) as info:
        await client_for(handler).get_transcode_summary(["a"])
    assert type(info.value) is ServiceError and calls == 1
    assert extensions_of(info.value) == {
        "code": "UPSTREAM_ERROR",
        "upstreamCode": "Forbidden",
        "requestId": "rid-9",
    }


async def test_throttling_is_retried_then_succeeds() -> None:
    answers = [error(400, "Throttling.User"), error(503, "Throttling"), httpx.Response(200, json=OK_BODY)]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    page = await client_for(handler).get_transcode_summary(["a"], deadline=1e9)
    assert page.request_id == "r1" and not answers


async def test_throttling_past_the_budget_is_upstream_throttled() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return error(400, "Throttling.User")

    client = client_for(handler)
    with pytest.raises(ServiceThrottled) as info:
        await client.get_transcode_summary(["a"], deadline=1000.5)  # the clock starts at 1000
    assert extensions_of(info.value)["code"] == "UPSTREAM_THROTTLED"
    assert extensions_of(info.value)["upstreamCode"] == "Throttling.User"
    assert calls >= 2


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.Response(500, json={"Code": "InternalError", "RequestId": "x"}),
        lambda: httpx.Response(502, text="<html>bad gateway</html>"),
        lambda: httpx.Response(200, text="not json at all"),
        "timeout",
        "connect",
        "protocol",
    ],
    ids=["5xx", "html-502", "garbage-200", "timeout", "connect", "reset"],
)
async def test_unavailable_is_retried_once_then_typed(failure: object) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if failure == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if failure == "connect":
            raise httpx.ConnectError("refused", request=request)
        if failure == "protocol":
            raise httpx.RemoteProtocolError("peer closed", request=request)
        assert callable(failure)
        response: httpx.Response = failure()
        return response

    with pytest.raises((NoResponse, ServiceUnavailable)) as info:
        await client_for(handler).get_transcode_summary(["a"])
    assert calls == 2
    # no answer at all (timeout, refused, reset) apart from an answer that is an error
    answered = failure not in ("timeout", "connect", "protocol")
    assert isinstance(info.value, ServiceUnavailable if answered else NoResponse)
    assert extensions_of(info.value)["code"] == "UPSTREAM_UNAVAILABLE"


async def test_unavailable_then_recovered() -> None:
    answers = [httpx.Response(503, text="busy"), httpx.Response(200, json=OK_BODY)]
    page = await client_for(lambda r: answers.pop(0)).get_transcode_summary(["a"])
    assert page.request_id == "r1"


async def test_malformed_json_shape_is_upstream_error() -> None:
    with pytest.raises(ServiceError) as info:
        await client_for(lambda r: httpx.Response(200, json=[1, 2])).get_transcode_summary(["a"])
    assert extensions_of(info.value)["code"] == "UPSTREAM_ERROR"


async def test_secrets_never_in_errors_or_reprs() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"Code": "SignatureDoesNotMatch", "Message": f"echo {SECRET} {TOKEN}"}
        )

    client = client_for(handler, token=TOKEN)
    with pytest.raises(ServiceError) as info:
        await client.get_transcode_summary(["a"])
    text = " ".join([str(info.value), repr(info.value), json.dumps(extensions_of(info.value))])
    creds = Credentials("AKID", Secret(SECRET), Secret(TOKEN))
    text += repr(creds) + str(creds)
    assert SECRET not in text and TOKEN not in text


async def test_more_than_ten_ids_is_refused_locally() -> None:
    with pytest.raises(ValueError):
        await client_for(lambda r: httpx.Response(200, json=OK_BODY)).get_transcode_summary(
            [str(i) for i in range(11)]
        )


async def test_httpx_s_own_log_lines_never_carry_the_signed_query(caplog: pytest.LogCaptureFixture) -> None:
    """With the root logger at INFO, httpx logs each request's URL; a V1 URL holds the STS token."""

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"RequestId": "r", "NonExistVideoIds": ["a1"]})

    credentials = Credentials("id", Secret("log-secret-1234"), Secret("log-sts-token-5678"))
    caplog.set_level(logging.DEBUG)
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as http:
        for signature in ("v1", "v3"):
            client = VodClient(http, "http://vod.test", credentials, signature=signature)
            await client.get_transcode_summary(["a1"])
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert len(requests) == 2, requests
    assert "SecurityToken=***" in requests[0] and "Signature=***" in requests[0]
    assert "log-sts-token-5678" not in caplog.text


@pytest.mark.parametrize("signature", ["v3", "v1"])
async def test_no_secret_in_any_log_line_even_with_httpx_logging_on(
    signature: str, caplog: pytest.LogCaptureFixture
) -> None:
    # httpx logs every request URL at INFO; a host app that turns that on must not see the token
    answers = [
        httpx.Response(503, text="busy"),
        error(400, "Throttling.User"),
        httpx.Response(200, json=OK_BODY),
    ]
    client = client_for(lambda r: answers.pop(0), signature=signature, token=TOKEN)
    with caplog.at_level(logging.DEBUG):
        await client.get_transcode_summary(["a"], deadline=1e9)
    assert any(r.name == "httpx" for r in caplog.records)  # the URLs were logged
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in text and TOKEN not in text


class RecordingClock(InstantClock):
    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await super().sleep(seconds)


async def test_throttling_backs_off_with_jitter_and_every_attempt_passes_the_limiter() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return error(400, "Throttling.User")

    clock = RecordingClock()
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    policy = RetryPolicy(throttle_base=0.1, throttle_cap=0.4)
    creds = Credentials("AKID", Secret(SECRET))
    client = VodClient(http, "http://vod.test", creds, clock=clock, retry=policy, rng=random.Random(1))
    admitted: list[float] = []
    events: list[str] = []

    class Permit:
        async def release(self) -> None:
            events.append(f"released after {calls} answers")

    async def admit(deadline: float) -> Permit:
        admitted.append(deadline)
        events.append("admitted")
        return Permit()

    deadline = clock.now() + 1.5
    with pytest.raises(ServiceThrottled):
        await client.get_transcode_summary(["a"], deadline=deadline, admit=admit)
    assert calls == len(admitted) == len(clock.slept) + 1  # each attempt, retries too, was admitted
    # each permit goes back once its attempt is answered, before the backoff and the next attempt
    assert events == [e for n in range(1, calls + 1) for e in ("admitted", f"released after {n} answers")]
    assert set(admitted) == {deadline}
    for n, slept in enumerate(clock.slept):
        nominal = min(0.4, 0.1 * 2**n)  # doubling up to the cap, then half fixed and half random
        assert nominal / 2 <= slept <= nominal
    assert len(set(clock.slept)) == len(clock.slept)  # jittered, not a fixed schedule
    assert clock.now() < deadline  # gave up rather than sleep past the wait budget


def test_redact_url_blanks_only_the_token_and_signature() -> None:
    url = "https://vod.test/?AccessKeyId=AK&SecurityToken=CAIS%2Babc%3D&Signature=x%2By%3D&VideoIds=a%2Cb"
    assert (
        redact_url(url) == "https://vod.test/?AccessKeyId=AK&SecurityToken=***&Signature=***&VideoIds=a%2Cb"
    )
    assert redact_url("POST https://vod.test/?VideoIds=a") == "POST https://vod.test/?VideoIds=a"
