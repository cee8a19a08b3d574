"""Property tests (Hypothesis): upstream answers of any shape become records or typed errors, video IDs
are validated exactly, and signatures made by the client always pass the emulator's verifier."""

from __future__ import annotations

import asyncio
import itertools
import json
import string
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.emulator.auth import Incoming, Verifier
from gateway.emulator.config import AccessKey, EmulatorConfig
from gateway.emulator.errors import ApiError
from gateway.emulator.limiter import NonceStore
from gateway.schema.errors import extensions_of
from gateway.schema.lookups import id_error
from gateway.vod.auth import VodAuth
from gateway.vod.client import VodClient
from gateway.vod.credentials import Credentials, Secret
from gateway.vod.errors import VodError
from gateway.vod.models import MalformedResponse, SummaryPage, TranscodeSummaryRecord, parse_page
from tests.support.clock import InstantClock

FAST = settings(max_examples=300, deadline=None, derandomize=True, database=None)

# ---- upstream bodies --------------------------------------------------------------------------

ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=40,
)
TRICKY_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "960",
        "-1",
        "+7",
        "29.97",
        "1e400",
        "nan",
        "Infinity",
        "9" * 30,
        "9" * 5000,
        "3000000000",
        "9223372036854775808",
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05+08:00",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "not a time",
        "{}",
        '{"EncryptType":"AliyunVoDEncryption"}',
        '{"EncryptType":{"x":1}}',
        "[" * 5000,
        "CompleteAllSucc",
        "Processing",
        "TranscodeSuccess",
        "SomethingNew",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**31 - 2, max_value=2**64)
    | st.floats()
    | st.text(max_size=12)
    | TRICKY_STRINGS
)
VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8,
)
JOB_FIELDS = (
    "TranscodeTemplateId TranscodeJobStatus TranscodeProgress CreationTime CompleteTime ErrorCode "
    "ErrorMessage Format Definition Width Height Bitrate Duration Fps FileSize Filesize Encryption "
    "WatermarkIdList"
).split()
VIDEO_IDS = ("v1", "v2")
FIELD_VALUES = TRICKY_STRINGS | SCALARS | VALUES
JOBS = st.fixed_dictionaries({}, optional=dict.fromkeys(JOB_FIELDS, FIELD_VALUES))
SUMMARIES = st.fixed_dictionaries(
    {"VideoId": st.sampled_from(VIDEO_IDS) | VALUES},
    optional={
        "TranscodeStatus": FIELD_VALUES,
        "TranscodeTemplateGroupId": FIELD_VALUES,
        "CreationTime": FIELD_VALUES,
        "CompleteTime": FIELD_VALUES,
        "TranscodeJobInfoSummaryList": st.lists(JOBS, min_size=1, max_size=4)
        | st.dictionaries(st.just("TranscodeJobInfoSummary"), st.lists(JOBS, max_size=2), max_size=1)
        | VALUES,
    },
)
PAGES = st.fixed_dictionaries(
    {
        "TranscodeSummaryList": st.lists(SUMMARIES, min_size=1, max_size=3)
        | st.lists(SUMMARIES | VALUES, max_size=3)
    },
    optional={
        "RequestId": VALUES,
        "NonExistVideoIds": st.lists(st.sampled_from(VIDEO_IDS) | VALUES, max_size=3) | VALUES,
    },
) | st.fixed_dictionaries(
    {},
    optional={
        "TranscodeSummaryList": st.dictionaries(
            st.text(max_size=4), st.lists(SUMMARIES, max_size=3), max_size=1
        )
        | VALUES,
        "NonExistVideoIds": VALUES,
    },
)


def check_record(record: TranscodeSummaryRecord) -> None:
    """What the schema can send: GraphQL Int, the 64-bit Long, finite floats, times it can print."""
    times = [record.creation_time, record.complete_time]
    for job in record.jobs:
        assert 0 <= job.progress <= 100
        for size in (job.width, job.height):
            assert size is None or 0 <= size < 2**31
        assert job.file_size is None or 0 <= job.file_size < 2**63
        for number in (job.bitrate, job.duration, job.fps):
            assert number is None or abs(number) < float("inf")
        times += [job.creation_time, job.complete_time]
    for moment in times:
        assert moment is None or (moment.utcoffset() is not None and 1970 <= moment.year <= 9999)
    assert 0 <= record.progress <= 100


def parses_or_is_malformed(body: object) -> None:
    try:
        page = parse_page(body)
    except MalformedResponse:
        return
    assert isinstance(page, SummaryPage)
    for record in page.summaries.values():
        check_record(record)


@FAST
@given(ANY_JSON)
def test_any_json_is_a_page_or_malformed(body: object) -> None:
    parses_or_is_malformed(body)


@settings(FAST, max_examples=500)
@given(PAGES)
def test_summary_shaped_json_is_a_page_or_malformed(body: dict[str, Any]) -> None:
    parses_or_is_malformed(body)


# ---- the client: arbitrary bytes, statuses, encodings and transport failures -------------------


def dumps(value: object) -> bytes:
    """JSON as any server might write it (the standard library's: integers of any size, NaN)."""
    return json.dumps(value).encode()


MARKER = "LEAK-MARKER-7d1f"
BODIES = (
    st.binary(max_size=200)
    | ANY_JSON.map(dumps)
    | PAGES.map(dumps)
    | st.fixed_dictionaries(
        {
            "Code": st.sampled_from(
                ["Throttling.User", "InternalError", "Forbidden", "x" * 500, MARKER + " "]
            ),
            "Message": st.just(MARKER),
            "HostId": st.just(MARKER),
        },
        optional={"RequestId": st.sampled_from(["rid-1", MARKER + "\n", "<html>"])},
    ).map(dumps)
)
FAILURES = st.sampled_from(
    [httpx.ConnectError, httpx.ReadTimeout, httpx.WriteError, httpx.RemoteProtocolError, httpx.PoolTimeout]
)
ENCODINGS = st.sampled_from([None, "gzip", "deflate", "br", "zstd", "identity", "chunked", "x-junk"])


@settings(FAST, max_examples=250)
@given(
    answers=st.lists(
        st.tuples(st.integers(min_value=100, max_value=599), BODIES, ENCODINGS) | FAILURES,
        min_size=1,
        max_size=4,
    )
)
def test_client_raises_only_typed_errors(answers: list[Any]) -> None:
    replies: Iterator[Any] = itertools.cycle(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(replies)
        if isinstance(answer, type):
            raise answer("injected", request=request)
        status, content, encoding = answer
        headers = {"content-encoding": encoding} if encoding else {}
        return httpx.Response(status, content=content, headers=headers)

    async def call() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = VodClient(http, "http://vod.test", Credentials("AK", Secret("s")), clock=InstantClock())
            try:
                page = await client.get_transcode_summary(["v1", "v2"])
            except VodError as exc:
                shown = f"{exc} {exc.message} {orjson.dumps(extensions_of(exc)).decode()}"
                assert MARKER not in shown  # upstream bodies never reach the client's error details
                assert len(shown) < 400
            else:
                assert isinstance(page, SummaryPage)

    asyncio.run(call())


# ---- the whole gateway, with arbitrary upstream records ----------------------------------------


# ---- video IDs ----------------------------------------------------------------------------------

ID_CHARS = frozenset(string.ascii_letters + string.digits + "_-")


@settings(FAST, max_examples=1000)
@given(
    st.text(max_size=80)
    | st.text(alphabet=sorted(ID_CHARS), max_size=70)
    | st.text(alphabet=[*sorted(ID_CHARS), ",", " ", "\n", "é", "٣", "\x00", "%"], max_size=70)
    | st.text(min_size=60, max_size=300)
)
def test_id_validation_accepts_exactly_the_documented_alphabet(video_id: str) -> None:
    error = id_error(video_id)
    valid = 1 <= len(video_id) <= 64 and set(video_id) <= ID_CHARS
    assert (error is None) == valid
    if error is not None:
        assert error.extensions == {"code": "BAD_USER_INPUT", "argument": "videoId"}
        assert len(error.message) < 1000  # a long ID is never echoed whole (80 characters, escaped)


@pytest.mark.parametrize("video_id", ["x" * 10_240, "视" * 10_240, "a," * 5_000, "\x00" * 10_240])
def test_ten_kilobyte_ids_are_refused_briefly(video_id: str) -> None:
    error = id_error(video_id)
    assert error is not None and error.extensions is not None
    assert error.extensions["code"] == "BAD_USER_INPUT" and len(error.message) < 1000


# ---- signatures: the client's, checked by the emulator's verifier -------------------------------

TOKEN_CHARS = string.ascii_letters + string.digits + "+/=_-."
KEY_IDS = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=30)
SECRETS = st.text(min_size=1, max_size=40)
TOKENS = st.none() | st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=200)
PARAM_VALUES = st.text(max_size=60) | st.text(alphabet="a,b +%&=*~/é视频\u202e", max_size=30)


def signed(creds: Credentials, version: str, value: str) -> httpx.Request:
    method = "POST" if version == "v3" else "GET"
    request = httpx.Request(method, "http://127.0.0.1:9000/", params={"VideoIds": value})
    auth = VodAuth(creds, "GetTranscodeSummary", version)  # type: ignore[arg-type]
    return next(auth.auth_flow(request))


def incoming(
    request: httpx.Request, query: bytes | None = None, headers: list[Any] | None = None
) -> Incoming:
    return Incoming.build(
        request.method,
        request.url.query if query is None else query,
        list(request.headers.raw) if headers is None else headers,
        request.content,
    )


def verifier(key_id: str, secret: str, token: str | None) -> Verifier:
    config = EmulatorConfig(catalogue_size=0, keys=(AccessKey(key_id, secret, token),))
    return Verifier(config, NonceStore(time.time), time.time)


@settings(FAST, max_examples=400)
@given(
    key_id=KEY_IDS, secret=SECRETS, token=TOKENS, value=PARAM_VALUES, version=st.sampled_from(["v1", "v3"])
)
def test_signed_requests_pass_the_emulators_verifier(
    key_id: str, secret: str, token: str | None, value: str, version: str
) -> None:
    creds = Credentials(key_id, Secret(secret), Secret(token) if token else None)
    request = signed(creds, version, value)
    arrived = incoming(request)
    caller = verifier(key_id, secret, token).verify(arrived)
    assert (caller.access_key_id, caller.signature, caller.security_token) == (key_id, version, token)
    assert caller.action == "GetTranscodeSummary"
    assert arrived.params["VideoIds"] == value  # the parameter arrives exactly as it was signed


def flip(data: bytes, index: int) -> bytes:
    """Change one byte into another printable ASCII byte."""
    index %= len(data)
    replacement = b"A" if data[index : index + 1] != b"A" else b"B"
    return data[:index] + replacement + data[index + 1 :]


@settings(FAST, max_examples=400)
@given(
    secret=SECRETS,
    token=TOKENS,
    value=PARAM_VALUES,
    version=st.sampled_from(["v1", "v3"]),
    where=st.sampled_from(["signature", "query", "signed-header"]),
    index=st.integers(min_value=0, max_value=10_000),
)
def test_a_flipped_byte_fails_verification(
    secret: str, token: str | None, value: str, version: str, where: str, index: int
) -> None:
    creds = Credentials("AKID", Secret(secret), Secret(token) if token else None)
    request = signed(creds, version, value)
    query = bytes(request.url.query)
    headers = list(request.headers.raw)
    if where == "query":
        query = flip(query, index)
    elif version == "v1":  # V1 signs parameters: the Signature itself, or the signed nonce
        name = b"Signature=" if where == "signature" else b"SignatureNonce="
        start = query.index(name) + len(name)
        end = query.find(b"&", start)
        end = len(query) if end < 0 else end
        query = query[:start] + flip(query[start:end], index) + query[end:]
    else:  # V3 signs headers: the Authorization value itself, or a signed header
        name = b"authorization" if where == "signature" else b"x-acs-signature-nonce"
        headers = [(k, flip(v, index) if k.lower() == name else v) for k, v in headers]
    tampered = incoming(request, query, headers)
    if (tampered.query, tampered.headers) == (incoming(request).query, incoming(request).headers):
        return  # the flip landed on a byte that decodes the same (e.g. %2C vs %2c): not a change
    with pytest.raises(ApiError) as failure:
        verifier("AKID", secret, token).verify(tampered)
    assert 400 <= failure.value.status < 500
