"""The settings that carry secrets (AccessKey, API keys, callback AuthKeys): read into
:class:`~gateway.vod.credentials.Secret` wrappers, and never shown in an error."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gateway.config import casts
from gateway.config.keys import ApiKey, parse_entry
from gateway.config.rows import SettingsError
from gateway.vod.callbacks import CallbackAuth
from gateway.vod.credentials import Credentials, Secret


def api_keys(env: Mapping[str, str]) -> tuple[ApiKey, ...]:
    keys = list(casts.csv(env.get("GATEWAY_API_KEYS", "")))
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
    entries = []
    for number, entry in enumerate(keys, 1):
        try:
            entries.append(parse_entry(entry))
        except ValueError as exc:  # the message names the entry by its place, never shows the key
            raise SettingsError(f"API key entry {number} is not valid: {exc or 'a number > 0'}") from None
    return tuple(entries)


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


def read_callbacks(env: Mapping[str, str]) -> CallbackAuth | None:
    """On when VOD_CALLBACK_AUTH_KEY is set; then VOD_CALLBACK_URL is required."""
    key, url, previous = (
        env.get(f"VOD_CALLBACK_{n}", "").strip() for n in ("AUTH_KEY", "URL", "AUTH_KEY_PREVIOUS")
    )
    if not key:
        if url or previous:
            raise SettingsError(
                "VOD_CALLBACK_URL or VOD_CALLBACK_AUTH_KEY_PREVIOUS is set without VOD_CALLBACK_AUTH_KEY"
            )
        return None
    if not url.startswith(("http://", "https://")):
        raise SettingsError(
            "VOD_CALLBACK_AUTH_KEY is set but VOD_CALLBACK_URL is not an http(s) URL: set it to the callback "
            "URL exactly as configured in VOD's SetMessageCallback (the signature covers it)"
        )
    return CallbackAuth(url, (Secret(key), Secret(previous)) if previous else (Secret(key),))
