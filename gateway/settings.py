"""Every setting of the gateway: read from the environment once, here and nowhere else.

A missing or malformed value fails start-up with one line that names the variable
(:class:`SettingsError`). Secrets are wrapped in :class:`~gateway.vod.credentials.Secret`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from gateway.vod.auth import SignatureVersion
from gateway.vod.credentials import Credentials, Secret
from gateway.vod.endpoints import endpoint_for_region

T = TypeVar("T")

CREDENTIAL_VARIABLES = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")


class SettingsError(ValueError):
    """A configuration problem, worded as the one line to print before exiting."""


@dataclass(frozen=True)
class Settings:
    credentials: Credentials | None
    vod_region: str = "cn-shanghai"
    vod_endpoint: str = "https://vod.cn-shanghai.aliyuncs.com"
    vod_qps: int = 15
    vod_qps_margin: float = 0.01
    vod_timeout: float = 5.0
    vod_max_wait: float = 10.0
    vod_signature: SignatureVersion = "v3"
    max_ids: int = 100
    coalesce: bool = True
    cache_ttl_active: float = 2.0
    cache_ttl_terminal: float = 30.0
    cache_ttl_not_found: float = 5.0
    cache_max_entries: int = 100_000
    response_cache_ttl: float = 1.0
    graphiql: bool = True
    introspection: bool = True
    api_keys: tuple[Secret, ...] = field(default=(), repr=False)
    cors_origins: tuple[str, ...] = ()
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2_000
    max_body_bytes: int = 64 * 1024
    redis_url: Secret | None = field(default=None, repr=False)
    replicas: int = 1
    log_level: str = "INFO"
    log_json: bool = True
    subscription_max_ids: int = 100
    subscription_max_per_connection: int = 20
    poll_interval: float = 1.0
    emulator: bool = False

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _get(env: Mapping[str, str], name: str, cast: Callable[[str], T], default: T, what: str) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return cast(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={_shown(raw)!r} is not valid: expected {what}") from None


def _shown(raw: str) -> str:
    """A value as an error message may show it: in a URL, everything up to the last ``@`` (a
    user name and a password, which may hold ``@``, ``/`` or spaces) is blanked."""
    scheme, sep, rest = raw.partition("://")
    if not sep or "@" not in rest:
        return raw
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise ValueError
    return value


def _positive_float(raw: str) -> float:
    value = _non_negative_float(raw)
    if value == 0:
        raise ValueError
    return value


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError


def _signature(raw: str) -> SignatureVersion:
    lowered = raw.lower()
    if lowered == "v3":
        return "v3"
    if lowered == "v1":
        return "v1"
    raise ValueError


def _url(raw: str) -> str:
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


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _api_keys(env: Mapping[str, str]) -> tuple[Secret, ...]:
    keys = list(_csv(env.get("GATEWAY_API_KEYS", "")))
    path = env.get("GATEWAY_API_KEYS_FILE", "").strip()
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"GATEWAY_API_KEYS_FILE={path!r} cannot be read: {exc.strerror}") from None
        listed = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
        if not listed:  # an empty or unpopulated secret file must not leave the gateway open
            raise SettingsError(f"GATEWAY_API_KEYS_FILE={path!r} holds no keys (one per line, # comments)")
        keys += listed
    return tuple(Secret(k) for k in keys)


def read_credentials(env: Mapping[str, str]) -> Credentials | None:
    key_id = env.get("ALIBABA_CLOUD_ACCESS_KEY_ID", "").strip()
    secret = env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "").strip()
    token = env.get("ALIBABA_CLOUD_SECURITY_TOKEN", "").strip()
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        missing = "ALIBABA_CLOUD_ACCESS_KEY_ID" if not key_id else "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
        raise SettingsError(f"{missing} is not set (both the key ID and its secret are needed)")
    return Credentials(key_id, Secret(secret), Secret(token) if token else None)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from ``env`` (the process environment by default)."""
    env = os.environ if env is None else env
    region = _get(env, "VOD_REGION", str, "cn-shanghai", "a region ID such as cn-shanghai")
    endpoint = _get(
        env,
        "VOD_ENDPOINT",
        _url,
        endpoint_for_region(region),
        "an http(s) URL such as https://vod.cn-shanghai.aliyuncs.com (no user, query or fragment)",
    )
    redis_url = env.get("GATEWAY_REDIS_URL", "").strip()
    return Settings(
        credentials=read_credentials(env),
        vod_region=region,
        vod_endpoint=endpoint,
        vod_qps=_get(env, "VOD_QPS", _positive_int, 15, "a whole number of calls per second >= 1"),
        vod_qps_margin=_get(env, "VOD_QPS_MARGIN", _non_negative_float, 0.01, "seconds >= 0"),
        vod_timeout=_get(env, "VOD_TIMEOUT", _positive_float, 5.0, "seconds > 0"),
        vod_max_wait=_get(env, "VOD_MAX_WAIT", _positive_float, 10.0, "seconds > 0"),
        vod_signature=_get(env, "VOD_SIGNATURE", _signature, "v3", "v3 or v1"),
        max_ids=_get(env, "GATEWAY_MAX_IDS", _positive_int, 100, "a whole number >= 1"),
        coalesce=_get(env, "GATEWAY_COALESCE", _bool, True, "true or false"),
        cache_ttl_active=_get(env, "GATEWAY_CACHE_TTL_ACTIVE", _non_negative_float, 2.0, "seconds >= 0"),
        cache_ttl_terminal=_get(env, "GATEWAY_CACHE_TTL_TERMINAL", _non_negative_float, 30.0, "seconds >= 0"),
        cache_ttl_not_found=_get(
            env, "GATEWAY_CACHE_TTL_NOT_FOUND", _non_negative_float, 5.0, "seconds >= 0"
        ),
        cache_max_entries=_get(env, "GATEWAY_CACHE_MAX_ENTRIES", _positive_int, 100_000, "a number >= 1"),
        response_cache_ttl=_get(env, "GATEWAY_RESPONSE_CACHE_TTL", _non_negative_float, 1.0, "seconds >= 0"),
        graphiql=_get(env, "GATEWAY_GRAPHIQL", _bool, True, "true or false"),
        introspection=_get(env, "GATEWAY_INTROSPECTION", _bool, True, "true or false"),
        api_keys=_api_keys(env),
        cors_origins=_get(env, "GATEWAY_CORS_ORIGINS", _csv, (), "comma-separated origins"),
        max_depth=_get(env, "GATEWAY_MAX_DEPTH", _positive_int, 12, "a whole number >= 1"),
        max_aliases=_get(env, "GATEWAY_MAX_ALIASES", _positive_int, 30, "a whole number >= 1"),
        max_tokens=_get(env, "GATEWAY_MAX_TOKENS", _positive_int, 2_000, "a whole number >= 1"),
        max_body_bytes=_get(env, "GATEWAY_MAX_BODY_BYTES", _positive_int, 64 * 1024, "bytes >= 1"),
        redis_url=Secret(redis_url) if redis_url else None,
        replicas=_get(env, "GATEWAY_REPLICAS", _positive_int, 1, "a whole number >= 1"),
        log_level=_get(env, "GATEWAY_LOG_LEVEL", _log_level, "INFO", "DEBUG, INFO, WARNING or ERROR"),
        log_json=_get(env, "GATEWAY_LOG_JSON", _bool, True, "true or false"),
        subscription_max_ids=_get(
            env, "GATEWAY_SUBSCRIPTION_MAX_IDS", _positive_int, 100, "a whole number >= 1"
        ),
        subscription_max_per_connection=_get(
            env, "GATEWAY_SUBSCRIPTIONS_PER_CONNECTION", _positive_int, 20, "a whole number >= 1"
        ),
        poll_interval=_get(env, "GATEWAY_POLL_INTERVAL", _positive_float, 1.0, "seconds > 0"),
    )


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError
    return level
