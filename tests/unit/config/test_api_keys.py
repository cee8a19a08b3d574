"""API key entries: a key with its tenant's name, weight and cap; the tenant a header belongs to."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.keys import ApiKey, parse_entry, tenant_label
from gateway.config.settings import SettingsError, load_settings
from gateway.http.auth import ApiKeys


def test_a_plain_key_is_a_tenant_of_weight_one_labelled_by_a_digest() -> None:
    key = parse_entry("s3cret-key")
    assert (key.reveal(), key.name, key.weight, key.cap) == ("s3cret-key", None, 1.0, None)
    assert key.tenant == tenant_label("s3cret-key") and len(key.tenant) == 8
    assert "s3cret" not in key.tenant and "s3cret" not in repr(key) and "s3cret" not in str(key)


def test_options_name_weight_and_cap() -> None:
    key = parse_entry("k1 name=web weight=3 cap=50")
    assert (key.name, key.weight, key.cap, key.tenant) == ("web", 3.0, 50.0, "web")


@pytest.mark.parametrize(
    "entry",
    [
        "k weight=0",
        "k weight=-1",
        "k cap=inf",
        "k cap=x",
        "k colour=red",
        "k name=",
        "k name=a/b",
        "k weight",
    ],
)
def test_a_bad_option_is_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_entry(entry)


def test_the_settings_error_names_the_entry_by_its_place_never_the_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"GATEWAY_API_KEYS": "good-one,hidden-key weight=zero"})
    assert "entry 2" in str(info.value) and "hidden-key" not in str(info.value)
    keys_file = tmp_path / "keys"
    keys_file.write_text("# batch jobs\nfile-key name=batch weight=0.5 cap=20\n", encoding="utf-8")
    settings = load_settings(
        {"GATEWAY_API_KEYS": "env-key name=web", "GATEWAY_API_KEYS_FILE": str(keys_file)}
    )
    assert [(k.reveal(), k.tenant, k.weight, k.cap) for k in settings.api_keys] == [
        ("env-key", "web", 1.0, None),
        ("file-key", "batch", 0.5, 20.0),
    ]


def test_tenant_of_a_header() -> None:
    keys = ApiKeys((ApiKey("alpha", "web"), ApiKey("beta")))
    assert keys.tenant_of("Bearer alpha") == "web"
    assert keys.tenant_of("bearer beta") == tenant_label("beta")
    for header in ("", "Bearer", "Bearer ", "Basic alpha", "alpha", "Bearer alph", "Bearer alpha2"):
        assert keys.tenant_of(header) is None, header
    assert keys.allowed("Bearer alpha") and not keys.allowed("Bearer gamma")
