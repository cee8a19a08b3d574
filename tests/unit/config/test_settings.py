"""Settings from the environment: defaults, overrides, regions, and errors that name the variable."""

from __future__ import annotations

import pytest

from gateway.config.settings import SettingsError, load_settings
from gateway.vod.endpoints import host_for_region


def test_defaults_without_credentials() -> None:
    settings = load_settings({})
    assert settings.credentials is None
    assert settings.vod_endpoint == "https://vod.cn-shanghai.aliyuncs.com"
    assert (settings.vod_qps, settings.vod_signature, settings.max_ids, settings.vod_max_wait) == (
        15,
        "v3",
        1500,  # what the account serves within VOD_MAX_WAIT: 15 calls x 10 IDs x 10 s
        10.0,
    )


def test_credentials_and_overrides() -> None:
    settings = load_settings(
        {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "AK",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "topsecret",
            "ALIBABA_CLOUD_SECURITY_TOKEN": "tok",
            "VOD_REGION": "ap-southeast-1",
            "VOD_QPS": "10",
            "VOD_SIGNATURE": "V1",
            "GATEWAY_MAX_IDS": "50",
        }
    )
    assert settings.credentials is not None and settings.credentials.access_key_id == "AK"
    assert settings.vod_endpoint == "https://vod.ap-southeast-1.aliyuncs.com"
    assert (settings.vod_qps, settings.vod_signature, settings.max_ids) == (10, "v1", 50)
    shown = repr(settings) + str(settings.credentials)
    assert "topsecret" not in shown and "tok'" not in shown


def test_endpoint_overrides_region() -> None:
    settings = load_settings({"VOD_REGION": "cn-beijing", "VOD_ENDPOINT": "http://127.0.0.1:9000/"})
    assert settings.vod_endpoint == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("cn-shanghai", "vod.cn-shanghai.aliyuncs.com"),
        ("cn-hangzhou", "vod.cn-shanghai.aliyuncs.com"),
        ("cn-qingdao", "vod.aliyuncs.com"),
        ("eu-central-1", "vod.eu-central-1.aliyuncs.com"),
    ],
)
def test_region_hosts(region: str, host: str) -> None:
    assert host_for_region(region) == host


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VOD_QPS", "0"),
        ("VOD_QPS", "fast"),
        ("VOD_TIMEOUT", "-1"),
        ("VOD_SIGNATURE", "v2"),
        ("VOD_ENDPOINT", "ftp://x"),
        ("GATEWAY_GRAPHIQL", "maybe"),
        ("GATEWAY_CACHE_TTL_ACTIVE", "nan"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_half_credentials_is_an_error() -> None:
    with pytest.raises(SettingsError, match="ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        load_settings({"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK"})


@pytest.mark.parametrize(
    ("url", "shown", "password"),
    [
        ("https://alice:p@ss@host", "https://***@host", "p@ss"),
        ("https://alice:pa/ss@host", "https://***@host", "pa/ss"),
        ("https://alice:pa ss@host/x", "https://***@host/x", "pa ss"),
    ],
)
def test_a_bad_url_never_shows_its_password(url: str, shown: str, password: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"VOD_ENDPOINT": url})
    assert f"'{shown}'" in str(caught.value)
    assert password not in str(caught.value) and "alice" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://h?", "http://h#", "http://h/?a=1", "ftp://h", "http://", "http://h:99999"]
)
def test_an_endpoint_is_a_plain_http_url(url: str) -> None:
    with pytest.raises(SettingsError, match="VOD_ENDPOINT"):
        load_settings({"VOD_ENDPOINT": url})
