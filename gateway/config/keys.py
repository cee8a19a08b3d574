"""API key entries (``GATEWAY_API_KEYS``, ``GATEWAY_API_KEYS_FILE``): a key, and optionally the
tenant's name, weight and cap, as ``<key> [name=<name>] [weight=<w>] [cap=<IDs/s>]``.

A plain key is a tenant of weight 1, without a cap, labelled (in metrics and logs) by the first 8
hex digits of its SHA-256: never by the key. Keys that share a ``name`` are one tenant.
"""

from __future__ import annotations

import hashlib
import re

from gateway.vod.credentials import Secret

_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")


class ApiKey(Secret):
    """A key (it prints as a secret) with its tenant's name and budget."""

    __slots__ = ("cap", "name", "weight")

    def __init__(
        self, value: str, name: str | None = None, weight: float = 1.0, cap: float | None = None
    ) -> None:
        super().__init__(value)
        self.name = name
        self.weight = weight
        self.cap = cap

    @property
    def tenant(self) -> str:
        return self.name or tenant_label(self.reveal())


def tenant_label(key: str) -> str:
    """A key's non-reversible label: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def _positive(raw: str) -> float:
    value = float(raw)
    if not 0 < value < float("inf"):
        raise ValueError
    return value


def parse_entry(text: str) -> ApiKey:
    """``<key> [name=<name>] [weight=<w>] [cap=<IDs/s>]``; raises ValueError (without the key)."""
    key, *options = text.split()
    name: str | None = None
    weight, cap = 1.0, None
    for option in options:
        field, sep, value = option.partition("=")
        if field == "name" and sep and _NAME.fullmatch(value):
            name = value
        elif field == "weight" and sep:
            weight = _positive(value)
        elif field == "cap" and sep:
            cap = _positive(value)
        else:
            raise ValueError(f"unknown option {field!r}: expected name=, weight= or cap=")
    return ApiKey(key, name, weight, cap)
