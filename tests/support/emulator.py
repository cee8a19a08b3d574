"""Helpers for the emulator's tests: hand-signed requests (V1 and V3) and in-process clients."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette

from gateway.emulator.config import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from gateway.emulator.generate import GUARANTEED
from gateway.emulator.model import ENCRYPTED, OLDER_THAN_A_YEAR, STATUSES, utc
from gateway.emulator.state import EmulatorState
from gateway.vod import signing

AK = DEMO_ACCESS_KEY_ID
SK = DEMO_ACCESS_KEY_SECRET
HOST = "emulator.test"
BASE_URL = f"http://{HOST}"
ERROR_KEYS = {"RequestId", "HostId", "Code", "Message", "Recommend"}
SMALL = 200  # catalogue size for tests that do not need the default 5000

AppFactory = Callable[..., Starlette]
"""``make_app(**overrides)``: an emulator app (the ``make_app`` fixture of tests/integration/emulator)."""

_nonces = itertools.count()


def nonce() -> str:
    return f"test-nonce-{time.time_ns()}-{next(_nonces)}"


@dataclass
class Signed:
    """A ready-to-send request: ``path`` already holds the encoded query string."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        return await client.request(self.method, self.path, headers=self.headers, content=self.body)

    def send_sync(self, client: httpx.Client) -> httpx.Response:
        return client.request(self.method, self.path, headers=self.headers, content=self.body)


def v3(
    query: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    key: str = AK,
    secret: str = SK,
    action: str = "GetTranscodeSummary",
    version: str = "2017-03-21",
    date: str | None = None,
    signature_nonce: str | None = None,
    token: str | None = None,
    form: Mapping[str, str] | None = None,
    host: str = HOST,
    drop: tuple[str, ...] = (),
    unsigned: Mapping[str, str] | None = None,
) -> Signed:
    """A V3-signed call; ``drop`` removes headers before signing, ``unsigned`` adds some after."""
    query = dict(query or {})
    body = signing.canonical_query(form).encode() if form is not None else b""
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date or utc(time.time()),
        "x-acs-signature-nonce": signature_nonce or nonce(),
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    if form is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
    if token is not None:
        headers["x-acs-accesskey-id"] = key
        headers["x-acs-security-token"] = token
    for name in drop:
        headers.pop(name, None)
    headers["authorization"] = signing.v3_sign(
        method, "/", query, headers, key, secret, headers.get("x-acs-content-sha256", "")
    )
    headers.update(unsigned or {})
    return Signed(method, "/?" + signing.canonical_query(query), headers, body)


def v1_params(
    params: Mapping[str, str],
    *,
    method: str = "GET",
    key: str = AK,
    secret: str = SK,
    timestamp: str | None = None,
    signature_nonce: str | None = None,
    token: str | None = None,
    action: str = "GetTranscodeSummary",
) -> dict[str, str]:
    """All parameters of a V1 call, ``Signature`` included."""
    base = {
        "Action": action,
        "Version": "2017-03-21",
        "Format": "JSON",
        "AccessKeyId": key,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "Timestamp": timestamp or utc(time.time()),
        "SignatureNonce": signature_nonce or nonce(),
    }
    if token is not None:
        base["SecurityToken"] = token
    base.update(params)
    return signing.v1_sign(method, base, secret)


def v1(params: Mapping[str, str], **kwargs: Any) -> Signed:
    """A V1-signed GET with everything in the query string."""
    signed = v1_params(params, method="GET", **kwargs)
    return Signed("GET", "/?" + signing.canonical_query(signed), {"host": HOST})


def v1_form(params: Mapping[str, str], **kwargs: Any) -> Signed:
    """A V1-signed POST with everything in a form-encoded body."""
    signed = v1_params(params, method="POST", **kwargs)
    headers = {"host": HOST, "content-type": "application/x-www-form-urlencoded"}
    return Signed("POST", "/", headers, signing.canonical_query(signed).encode())


def state_of(app: Starlette) -> EmulatorState:
    state: EmulatorState = app.state.emulator
    return state


def asgi_client(app: Starlette) -> httpx.AsyncClient:
    """An in-process client (no lifespan: the emulator's only hides reset-fault tracebacks)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE_URL)


def conformance_ids(state: EmulatorState) -> list[str]:
    """Ten IDs for one call that shows a client everything: a video of each status, one older than
    a year (in neither answer list), the awkward cases (``FileSize`` and ``Filesize`` above 2^31,
    an encrypted job) and one that does not exist."""
    samples = state.sample_ids(1)
    ids = [samples[status][0] for status in (*STATUSES, OLDER_THAN_A_YEAR)]
    fixed, _ = state.catalogue.summaries(state.catalogue.ids[:GUARANTEED])
    awkward: list[Callable[[dict[str, Any]], bool]] = [
        lambda job: job.get("FileSize", 0) > 2**31,
        lambda job: job.get("Filesize", 0) > 2**31,
        lambda job: job["Encryption"] == ENCRYPTED,
    ]
    for wanted in awkward:
        video = next(s["VideoId"] for s in fixed if any(map(wanted, s["TranscodeJobInfoSummaryList"])))
        if video not in ids:
            ids.append(video)
    ids.append(state.catalogue.nonexistent_id)
    assert len(ids) <= 10, ids
    return ids
