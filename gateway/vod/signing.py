"""Alibaba Cloud RPC request signatures: V3 (ACS3-HMAC-SHA256) and V1 (HMAC-SHA1).

Pure functions over strings, shared by the gateway's client (to sign) and the emulator (to verify),
so both sides of the protocol compute the canonical forms in exactly one place.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

V3_ALGORITHM = "ACS3-HMAC-SHA256"
V1_METHOD = "HMAC-SHA1"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba wants it: only ``A-Za-z0-9-_.~`` stay, a space is ``%20``."""
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Parameters sorted by name, each ``name=value`` percent-encoded, joined by ``&``."""
    return "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))


# ---- V1 -------------------------------------------------------------------------------------


def v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&`` + the percent-encoded canonical query of every parameter but Signature."""
    unsigned = {k: v for k, v in params.items() if k != "Signature"}
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(unsigned))}"


def v1_signature(secret: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA1(secret + '&', string_to_sign))."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def v1_sign(method: str, params: Mapping[str, str], secret: str) -> dict[str, str]:
    """Return ``params`` with its ``Signature`` added."""
    signed = dict(params)
    signed["Signature"] = v1_signature(secret, v1_string_to_sign(method, params))
    return signed


# ---- V3 -------------------------------------------------------------------------------------


def v3_canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_headers: list[str],
    body_sha256: str,
) -> str:
    """The six-line canonical request; ``signed_headers`` are lowercase names, any order."""
    lowered = {k.lower(): v for k, v in headers.items()}
    names = sorted(signed_headers)
    canonical_headers = "".join(f"{n}:{lowered.get(n, '').strip()}\n" for n in names)
    return "\n".join(
        [
            method.upper(),
            path,
            canonical_query(query),
            canonical_headers,
            ";".join(names),
            body_sha256,
        ]
    )


def v3_string_to_sign(canonical_request: str) -> str:
    return f"{V3_ALGORITHM}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"


def v3_signature(secret: str, string_to_sign: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def v3_authorization(access_key_id: str, signed_headers: list[str], signature: str) -> str:
    return (
        f"{V3_ALGORITHM} Credential={access_key_id},"
        f"SignedHeaders={';'.join(sorted(signed_headers))},Signature={signature}"
    )


def v3_sign(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    access_key_id: str,
    secret: str,
    body_sha256: str = EMPTY_SHA256,
) -> str:
    """Sign every header given (host and ``x-acs-*`` included) and return the Authorization value."""
    names = sorted(k.lower() for k in headers)
    canonical = v3_canonical_request(method, path, query, headers, names, body_sha256)
    signature = v3_signature(secret, v3_string_to_sign(canonical))
    return v3_authorization(access_key_id, names, signature)


def parse_v3_authorization(value: str) -> tuple[str, list[str], str] | None:
    """Split an ACS3 Authorization header into (access key id, signed headers, signature)."""
    if not value.startswith(V3_ALGORITHM + " "):
        return None
    fields: dict[str, str] = {}
    for part in value[len(V3_ALGORITHM) + 1 :].split(","):
        name, sep, val = part.strip().partition("=")
        if not sep:
            return None
        fields[name] = val
    try:
        return fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]
    except KeyError:
        return None
