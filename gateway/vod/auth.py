"""httpx authentication flows that sign VOD RPC requests (V3 by default, V1 on request).

V1 puts ``SecurityToken`` and ``Signature`` in the query, as the official SDK and the service's
documentation do; ``redaction.py`` keeps such URLs out of httpx's own log lines."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import parse_qsl

import httpx

from gateway.vod import signing
from gateway.vod.credentials import Credentials

API_VERSION = "2017-03-21"
SignatureVersion = Literal["v3", "v1"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _timestamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _nonce() -> str:
    return uuid.uuid4().hex


class VodAuth(httpx.Auth):
    """Signs each request with a fresh nonce and timestamp; the action comes from ``action``."""

    def __init__(
        self,
        credentials: Credentials,
        action: str,
        version: SignatureVersion = "v3",
        *,
        now: Callable[[], datetime] = _utc_now,
        nonce: Callable[[], str] = _nonce,
    ) -> None:
        self._credentials = credentials
        self._action = action
        self._version = version
        self._now = now
        self._nonce = nonce

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._version == "v1":
            self._sign_v1(request)
        else:
            self._sign_v3(request)
        yield request

    def _params(self, request: httpx.Request) -> dict[str, str]:
        return dict(parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True))

    def _sign_v3(self, request: httpx.Request) -> None:
        creds = self._credentials
        query = self._params(request)
        headers = {
            "host": request.headers["host"],
            "x-acs-action": self._action,
            "x-acs-version": API_VERSION,
            "x-acs-date": _timestamp(self._now()),
            "x-acs-signature-nonce": self._nonce(),
            "x-acs-content-sha256": signing.EMPTY_SHA256,
        }
        if creds.security_token is not None:
            headers["x-acs-accesskey-id"] = creds.access_key_id
            headers["x-acs-security-token"] = creds.security_token.reveal()
        authorization = signing.v3_sign(
            request.method,
            "/",
            query,
            headers,
            creds.access_key_id,
            creds.access_key_secret.reveal(),
        )
        request.headers.update(headers)
        request.headers["authorization"] = authorization
        request.url = request.url.copy_with(query=signing.canonical_query(query).encode("ascii"))

    def _sign_v1(self, request: httpx.Request) -> None:
        creds = self._credentials
        params = self._params(request)
        params.update(
            {
                "Action": self._action,
                "Version": API_VERSION,
                "Format": "JSON",
                "AccessKeyId": creds.access_key_id,
                "SignatureMethod": signing.V1_METHOD,
                "SignatureVersion": "1.0",
                "Timestamp": _timestamp(self._now()),
                "SignatureNonce": self._nonce(),
            }
        )
        if creds.security_token is not None:
            params["SecurityToken"] = creds.security_token.reveal()
        signed = signing.v1_sign(request.method, params, creds.access_key_secret.reveal())
        request.url = request.url.copy_with(query=signing.canonical_query(signed).encode("ascii"))
