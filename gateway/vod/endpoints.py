"""Region → VOD host, as the official SDK's endpoint map resolves it."""

from __future__ import annotations

_SPECIAL = {"cn-hangzhou": "vod.cn-shanghai.aliyuncs.com"}
_CENTRAL = {
    "ap-northeast-2-pop", "ap-southeast-2", "ap-southeast-3", "cn-beijing-finance-1",
    "cn-beijing-finance-pop", "cn-beijing-gov-1", "cn-beijing-nu16-b01", "cn-chengdu", "cn-edge-1",
    "cn-fujian", "cn-haidian-cm12-c01", "cn-hangzhou-bj-b01", "cn-hangzhou-finance",
    "cn-hangzhou-internal-prod-1", "cn-hangzhou-internal-test-1", "cn-hangzhou-internal-test-2",
    "cn-hangzhou-internal-test-3", "cn-hangzhou-test-306", "cn-hongkong-finance-pop",
    "cn-huhehaote", "cn-huhehaote-nebula-1", "cn-qingdao", "cn-qingdao-nebula",
    "cn-shanghai-et15-b01", "cn-shanghai-et2-b01", "cn-shanghai-finance-1", "cn-shanghai-inner",
    "cn-shanghai-internal-test-1", "cn-shenzhen-finance-1", "cn-shenzhen-inner",
    "cn-shenzhen-st4-d01", "cn-shenzhen-su18-b01", "cn-wuhan", "cn-wulanchabu", "cn-yushanfang",
    "cn-zhangbei", "cn-zhangbei-na61-b01", "cn-zhangjiakou-na62-a01", "cn-zhengzhou-nebula-1",
    "eu-west-1-oxs", "me-east-1", "rus-west-1-pop", "us-east-1",
}  # fmt: skip


def host_for_region(region: str) -> str:
    if region in _SPECIAL:
        return _SPECIAL[region]
    if region in _CENTRAL:
        return "vod.aliyuncs.com"
    return f"vod.{region}.aliyuncs.com"


def endpoint_for_region(region: str) -> str:
    return f"https://{host_for_region(region)}"
