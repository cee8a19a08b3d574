"""How a setting's text becomes its value: each cast raises ValueError for a bad value, and
:func:`shown` is how an error message may show the text (credentials in a URL blanked)."""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.vod.auth import SignatureVersion


def shown(raw: str) -> str:
    """A value as an error message may show it: in a URL, everything up to the last ``@`` (a
    user name and a password, which may hold ``@``, ``/`` or spaces) is blanked."""
    scheme, sep, rest = raw.partition("://")
    if not sep or "@" not in rest:
        return raw
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError
    return value


def non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise ValueError
    return value


def positive_float(raw: str) -> float:
    value = non_negative_float(raw)
    if value == 0:
        raise ValueError
    return value


def boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError


def signature(raw: str) -> SignatureVersion:
    lowered = raw.lower()
    if lowered == "v3":
        return "v3"
    if lowered == "v1":
        return "v1"
    raise ValueError


def log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError
    return level


def url(raw: str) -> str:
    """An http(s) URL of a host (and port), without credentials, query or fragment."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError
    if parts.username is not None or parts.password is not None or "?" in raw or "#" in raw:
        raise ValueError
    return raw.rstrip("/")


def csv(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())
