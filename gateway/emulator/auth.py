"""Request verification for both signatures the service accepts, built on :mod:`gateway.vod.signing`.

V3 (``Authorization: ACS3-HMAC-SHA256 ...``) is rebuilt from exactly the SignedHeaders it lists,
with the body's real SHA-256 checked against ``x-acs-content-sha256``; V1 (HMAC-SHA1 parameters)
is rebuilt from every query and form parameter but ``Signature``. Checks run in the service's order:
missing pieces, unknown key, timestamp, signature, STS token, then nonce (recorded only for calls
whose signature is valid, so forged calls cannot burn nonces).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from calendar import timegm
from collections.abc import Callable
from dataclasses import dataclass, field
from time import strptime
from typing import Literal
from urllib.parse import parse_qsl

from gateway.emulator import errors
from gateway.emulator.config import AccessKey, EmulatorConfig
from gateway.emulator.limiter import NonceStore
from gateway.vod import signing

TIMESTAMP_TOLERANCE = 15 * 60
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
# V3 headers that must be signed when present: without them a signature could be replayed or
# re-targeted (another action, date or nonce, or someone else's token)
V3_REQUIRED = ("x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce")
V3_MUST_SIGN = (*V3_REQUIRED, "x-acs-content-sha256", "x-acs-security-token", "x-acs-accesskey-id")
V1_REQUIRED = (
    "AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp", "Action", "Version"
)  # fmt: skip


def decode_form(text: str) -> dict[str, str]:
    """Form rules: ``+`` is a space, ``%XX`` is UTF-8; blank values are kept (they are signed)."""
    return dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"))


@dataclass(frozen=True)
class Incoming:
    """The parts of an HTTP request that signatures and parameters come from."""

    method: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]  # lower-case names; repeated headers joined by ","
    body: bytes = field(repr=False)

    @classmethod
    def build(
        cls, method: str, query_string: bytes, raw_headers: list[tuple[bytes, bytes]], body: bytes
    ) -> Incoming:
        headers: dict[str, list[str]] = {}
        for name, value in raw_headers:
            headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1").strip())
        joined = {name: ",".join(sorted(values)) for name, values in headers.items()}
        form: dict[str, str] = {}
        if joined.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
            form = decode_form(body.decode("utf-8", "replace"))
        query = decode_form(query_string.decode("utf-8", "replace"))
        return cls(method.upper(), query, form, joined, body)

    @property
    def params(self) -> dict[str, str]:
        """API parameters: the query string, then a form body over it."""
        return {**self.query, **self.form}

    @property
    def is_v3(self) -> bool:
        return self.headers.get("authorization", "").startswith("ACS3-")

    @property
    def claimed_key(self) -> str | None:
        if self.is_v3:
            parsed = signing.parse_v3_authorization(self.headers["authorization"])
            return parsed[0] if parsed else None
        return self.params.get("AccessKeyId")


@dataclass(frozen=True)
class Caller:
    access_key_id: str
    action: str
    version: str
    signature: Literal["v1", "v3"]
    security_token: str | None


class Verifier:
    def __init__(self, config: EmulatorConfig, nonces: NonceStore, wall: Callable[[], float]) -> None:
        self._config = config
        self._nonces = nonces
        self._wall = wall

    def verify(self, req: Incoming) -> Caller:
        """The authenticated caller, or :class:`~gateway.emulator.errors.ApiError`."""
        return self._verify_v3(req) if req.is_v3 else self._verify_v1(req)

    def _verify_v3(self, req: Incoming) -> Caller:
        authorization = req.headers["authorization"]
        if not authorization.startswith(signing.V3_ALGORITHM + " "):
            raise errors.incomplete_signature(f"Only {signing.V3_ALGORITHM} is supported.")
        parsed = signing.parse_v3_authorization(authorization)
        if parsed is None:
            raise errors.incomplete_signature("The Authorization header is malformed.")
        key_id, signed_headers, signature = parsed
        for name in (*V3_REQUIRED, "x-acs-content-sha256"):
            if not req.headers.get(name):
                raise errors.missing_parameter(name)
        key = self._key(key_id)
        unsigned = [h for h in V3_MUST_SIGN if h in req.headers and h not in signed_headers]
        if unsigned:
            raise errors.incomplete_signature(f"Header {unsigned[0]} must be signed.")
        if req.headers.get("x-acs-accesskey-id", key_id) != key_id:
            raise errors.incomplete_signature("x-acs-accesskey-id does not match the Credential.")
        self._check_timestamp(req.headers["x-acs-date"])
        declared = req.headers["x-acs-content-sha256"]
        actual = hashlib.sha256(req.body).hexdigest()
        if not hmac.compare_digest(declared.lower().encode(), actual.encode()):
            raise errors.ApiError(
                400,
                "SignatureDoesNotMatch",
                "The x-acs-content-sha256 header does not match the SHA-256 of the request body.",
            )
        canonical = signing.v3_canonical_request(
            req.method, "/", req.query, req.headers, signed_headers, declared
        )
        expected = signing.v3_signature(key.secret, signing.v3_string_to_sign(canonical))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise errors.signature_mismatch()
        token = req.headers.get("x-acs-security-token")
        self._check_token(key, token)
        self._use_nonce(key_id, req.headers["x-acs-signature-nonce"])
        return Caller(key_id, req.headers["x-acs-action"], req.headers["x-acs-version"], "v3", token)

    def _verify_v1(self, req: Incoming) -> Caller:
        params = req.params
        for name in V1_REQUIRED:
            if not params.get(name):
                raise errors.missing_parameter(name)
        key = self._key(params["AccessKeyId"])
        if params["SignatureMethod"] != signing.V1_METHOD:
            raise errors.incomplete_signature(f"SignatureMethod must be {signing.V1_METHOD}.")
        if params.get("SignatureVersion", "1.0") != "1.0":
            raise errors.incomplete_signature("SignatureVersion must be 1.0.")
        self._check_timestamp(params["Timestamp"])
        string_to_sign = signing.v1_string_to_sign(req.method, params)
        expected = signing.v1_signature(key.secret, string_to_sign)
        if not hmac.compare_digest(expected.encode(), params["Signature"].encode()):
            raise errors.signature_mismatch(string_to_sign)
        token = params.get("SecurityToken")
        self._check_token(key, token)
        self._use_nonce(key.access_key_id, params["SignatureNonce"])
        return Caller(key.access_key_id, params["Action"], params["Version"], "v1", token)

    def _key(self, key_id: str) -> AccessKey:
        key = self._config.key(key_id)
        if key is None:
            raise errors.access_key_not_found()
        return key

    def _check_timestamp(self, value: str) -> None:
        if not _TIMESTAMP.fullmatch(value):
            raise errors.timestamp_format()
        try:
            stamp = timegm(strptime(value, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            raise errors.timestamp_format() from None
        if abs(stamp - self._wall()) > TIMESTAMP_TOLERANCE:
            raise errors.timestamp_expired()

    @staticmethod
    def _check_token(key: AccessKey, token: str | None) -> None:
        # any token is accepted (it is covered by the signature) unless the key pins one
        if key.security_token is not None and not hmac.compare_digest(
            (token or "").encode(), key.security_token.encode()
        ):
            raise errors.token_mismatch()

    def _use_nonce(self, key_id: str, nonce: str) -> None:
        if not self._nonces.use(key_id, nonce):
            raise errors.nonce_used()
