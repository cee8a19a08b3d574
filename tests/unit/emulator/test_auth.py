"""Verification of both signatures: the shared SDK vectors, then properties, in process."""

from __future__ import annotations

import json
import time
from calendar import timegm
from time import strptime
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.emulator import errors
from gateway.emulator.auth import Incoming, Verifier
from gateway.emulator.config import AccessKey, EmulatorConfig
from gateway.emulator.limiter import NonceStore
from gateway.vod import signing
from tests.support.emulator import nonce, v1_params, v3
from tests.support.paths import DATA

VECTORS = json.loads((DATA / "vod-signature-vectors.json").read_text())
VECTOR_TIME = timegm(strptime("2026-01-02T03:04:05Z", "%Y-%m-%dT%H:%M:%SZ"))


def verifier(wall: float = VECTOR_TIME, key: AccessKey | None = None) -> Verifier:
    config = EmulatorConfig(keys=(key or AccessKey("testid", "testsecret"),))
    return Verifier(config, NonceStore(lambda: wall), lambda: wall)


def vector_request(vector: dict[str, Any]) -> Incoming:
    if "authorization" in vector:
        headers = {**vector["headers"], "authorization": vector["authorization"]}
        query = signing.canonical_query(vector["query"]).encode()
    else:
        headers = {"host": "vod.cn-shanghai.aliyuncs.com"}
        params = {**vector["params"], "Signature": vector["signature"]}
        query = signing.canonical_query(params).encode()
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return Incoming.build(vector["method"], query, raw, b"")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_sdk_vectors_verify(vector: dict[str, Any]) -> None:
    caller = verifier().verify(vector_request(vector))
    assert caller.access_key_id == "testid"
    assert caller.action == "GetTranscodeSummary"
    assert caller.signature == ("v3" if "authorization" in vector else "v1")
    token = vector.get("params", vector.get("headers", {})).get("SecurityToken") or vector.get(
        "headers", {}
    ).get("x-acs-security-token")
    assert caller.security_token == token


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_sdk_vectors_fail_with_another_secret(vector: dict[str, Any]) -> None:
    other = verifier(key=AccessKey("testid", "not-the-secret"))
    with pytest.raises(errors.ApiError) as caught:
        other.verify(vector_request(vector))
    assert caught.value.code == "SignatureDoesNotMatch"
    assert "not-the-secret" not in caught.value.message


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_sdk_vectors_cannot_be_replayed(vector: dict[str, Any]) -> None:
    v = verifier()
    v.verify(vector_request(vector))
    with pytest.raises(errors.ApiError, match="SignatureNonceUsed"):
        v.verify(vector_request(vector))


def test_vectors_expire_fifteen_minutes_later() -> None:
    with pytest.raises(errors.ApiError, match=r"InvalidTimeStamp\.Expired"):
        verifier(VECTOR_TIME + 15 * 60 + 1).verify(vector_request(VECTORS[0]))
    verifier(VECTOR_TIME + 15 * 60).verify(vector_request(VECTORS[0]))
    verifier(VECTOR_TIME - 15 * 60).verify(vector_request(VECTORS[0]))


values = st.text(st.characters(codec="utf-8"), max_size=20)
tokens = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)  # header-safe
names = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~", min_size=1)


V1_RESERVED = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "SignatureMethod",
        "SignatureVersion",
        "Timestamp",
        "SignatureNonce",
        "SecurityToken",
        "Signature",
    }
)
"""The signing parameters: an extra one of these names would replace the real one."""


def form_encode(params: dict[str, str], plus_for_space: bool) -> bytes:
    """How clients really encode: some use %20 for a space, some +."""
    quote_value = (lambda v: quote(v, safe="~").replace("%20", "+")) if plus_for_space else quote
    return "&".join(f"{quote(k, safe='~')}={quote_value(v)}" for k, v in params.items()).encode()


@settings(max_examples=60, deadline=None)
@given(extra=st.dictionaries(names, values, max_size=4), plus=st.booleans(), post=st.booleans())
def test_v1_round_trip(extra: dict[str, str], plus: bool, post: bool) -> None:
    extra = {k: v for k, v in extra.items() if k not in V1_RESERVED}  # the action's own parameters only
    method = "POST" if post else "GET"
    params = v1_params(extra, method=method, key="testid", secret="testsecret")
    encoded = form_encode(dict(reversed(params.items())), plus)  # order must not matter
    if post:
        form = [(b"content-type", b"application/x-www-form-urlencoded")]
        req = Incoming.build(method, b"", form, encoded)
    else:
        req = Incoming.build(method, encoded, [], b"")
    assert verifier(time.time()).verify(req).access_key_id == "testid"


@settings(max_examples=60, deadline=None)
@given(query=st.dictionaries(names, values, max_size=4), token=st.none() | tokens)
def test_v3_round_trip(query: dict[str, str], token: str | None) -> None:
    call = v3(query, key="testid", secret="testsecret", token=(token and token.strip()) or None)
    path = call.path.removeprefix("/?").encode()
    raw = [(k.encode(), v.encode()) for k, v in call.headers.items()]
    req = Incoming.build(call.method, path, raw, call.body)
    assert verifier(time.time()).verify(req).access_key_id == "testid"


def test_a_pinned_token_must_match() -> None:
    key = AccessKey("testid", "testsecret", "the-token")
    v = verifier(time.time(), key)

    def request(token: str | None) -> Incoming:
        params = v1_params({}, key="testid", secret="testsecret", token=token)
        return Incoming.build("GET", signing.canonical_query(params).encode(), [], b"")

    assert v.verify(request("the-token")).security_token == "the-token"
    for wrong in (None, "another-token"):
        with pytest.raises(errors.ApiError, match="InvalidSecurityToken"):
            v.verify(request(wrong))


def test_nonce_is_spent_only_by_valid_signatures() -> None:
    v = verifier(time.time())
    shared = nonce()
    bad = v1_params({}, key="testid", secret="wrong", signature_nonce=shared)
    good = v1_params({}, key="testid", secret="testsecret", signature_nonce=shared)
    with pytest.raises(errors.ApiError, match="SignatureDoesNotMatch"):
        v.verify(Incoming.build("GET", signing.canonical_query(bad).encode(), [], b""))
    v.verify(Incoming.build("GET", signing.canonical_query(good).encode(), [], b""))
