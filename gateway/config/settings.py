"""Every setting of the gateway: read from the environment once, here and nowhere else.

Each setting is one row of :data:`ROWS`; :class:`Settings` takes its defaults from the rows,
:func:`load_settings` reads them, and ``python -m gateway.config`` prints README.md's tables of them.
A missing or malformed value fails start-up with one line that names the variable
(:class:`SettingsError`). Secrets are wrapped in :class:`~gateway.vod.credentials.Secret`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.config import casts
from gateway.config.connections import connection_rows
from gateway.config.keys import ApiKey
from gateway.config.persisted import persisted_rows
from gateway.config.rows import Row as Row
from gateway.config.rows import SettingsError as SettingsError
from gateway.config.rows import value_of
from gateway.config.secrets import api_keys, read_callbacks, read_credentials
from gateway.vod.auth import SignatureVersion
from gateway.vod.callbacks import CallbackAuth
from gateway.vod.client import MAX_IDS_PER_CALL
from gateway.vod.credentials import Credentials, Secret
from gateway.vod.endpoints import endpoint_for_region

CREDENTIAL_VARIABLES = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")


def _max_ids(env: Mapping[str, str]) -> object:
    """What the account serves within VOD_MAX_WAIT, unless GATEWAY_MAX_IDS says otherwise."""
    qps, wait = value_of(env, row_of("VOD_QPS")), value_of(env, row_of("VOD_MAX_WAIT"))
    served = max(1, int(qps * MAX_IDS_PER_CALL * wait))  # type: ignore[operator]
    return value_of(env, replace(row_of("GATEWAY_MAX_IDS"), default=served))


def _endpoint(env: Mapping[str, str]) -> object:
    region = str(value_of(env, row_of("VOD_REGION")))
    return value_of(env, replace(row_of("VOD_ENDPOINT"), default=endpoint_for_region(region)))


UPSTREAM, LIMITS, CACHES = "Credentials & upstream", "Account limit & scheduling", "Caches"
CALLBACKS = "VOD callbacks"
EDGE, SUBSCRIPTIONS, REPLICAS, LOGGING = "Edge & security", "Subscriptions", "Replicas", "Logging & tracing"
PROCESS = "Process"
_REGION = "cn-shanghai"
_WHOLE, _BOOL, _SECONDS, _SECONDS_ON = "a whole number >= 1", "true or false", "seconds >= 0", "seconds > 0"

# Rows are read in this order (VOD_REGION before the VOD_ENDPOINT it defaults), and the README lists
# them in it. A row without a field is read by its neighbour's reader.
ROWS: tuple[Row, ...] = (
    Row(UPSTREAM, "credentials", "ALIBABA_CLOUD_ACCESS_KEY_ID", str, None, "",
        "the account's AccessKey ID (required, with its secret, unless `serve --emulator`)",
        read=read_credentials),
    Row(UPSTREAM, None, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", str, None, "", "the AccessKey's secret"),
    Row(UPSTREAM, None, "ALIBABA_CLOUD_SECURITY_TOKEN", str, None, "",
        "STS token, for temporary credentials"),
    Row(UPSTREAM, None, "VOD_REGION", str, _REGION, "a region ID such as cn-shanghai",
        "region, resolved to its host as the official SDK does (`cn-hangzhou` → "
        "`vod.cn-shanghai.aliyuncs.com`, smaller regions → `vod.aliyuncs.com`)"),
    Row(UPSTREAM, "vod_endpoint", "VOD_ENDPOINT", casts.url, endpoint_for_region(_REGION),
        "an http(s) URL such as https://vod.cn-shanghai.aliyuncs.com (no user, query or fragment)",
        "a full URL that overrides the region, e.g. `http://127.0.0.1:9000`",
        read=_endpoint, shown_default="from the region"),
    Row(UPSTREAM, "vod_signature", "VOD_SIGNATURE", casts.signature, "v3", "v3 or v1",
        "`v3` (ACS3-HMAC-SHA256) or `v1` (HMAC-SHA1)"),
    Row(UPSTREAM, "vod_timeout", "VOD_TIMEOUT", casts.positive_float, 5.0, _SECONDS_ON,
        "seconds per upstream attempt"),
    Row(LIMITS, "vod_qps", "VOD_QPS", casts.positive_int, 15, "a whole number of calls per second >= 1",
        "upstream calls allowed per second for the account"),
    Row(LIMITS, "vod_qps_margin", "VOD_QPS_MARGIN", casts.non_negative_float, 0.01, _SECONDS,
        "seconds a call keeps counting beyond 1 s after its answer (for the service's timestamp "
        "rounding)"),
    Row(LIMITS, "vod_max_wait", "VOD_MAX_WAIT", casts.positive_float, 10.0, _SECONDS_ON,
        "seconds a lookup may wait for the limiter (and throttling retries) before `RATE_LIMITED`"),
    Row(LIMITS, "max_ids", "GATEWAY_MAX_IDS", casts.positive_int, 1_500, _WHOLE,
        "IDs in total per operation across all fields, aliases and `_entities` representations: by "
        "default what the account serves within `VOD_MAX_WAIT` (`VOD_QPS` x 10 x `VOD_MAX_WAIT`); "
        "fair queuing keeps a large operation from slowing the others ([docs/fairness.md]"
        "(docs/fairness.md))", read=_max_ids, shown_default="`1500` (`VOD_QPS` x 10 x `VOD_MAX_WAIT`)"),
    Row(LIMITS, "max_list_ids", "GATEWAY_MAX_LIST_IDS", casts.positive_int, 100, _WHOLE,
        "IDs per list argument (`videoIds`, `ids`); never more than `GATEWAY_MAX_IDS`"),
    Row(LIMITS, "coalesce", "GATEWAY_COALESCE", casts.boolean, True, _BOOL,
        "`false` turns off cross-request batching (per-request DataLoader only; for comparison)"),
    Row(CACHES, "cache_ttl_active", "GATEWAY_CACHE_TTL_ACTIVE", casts.non_negative_float, 2.0, _SECONDS,
        "seconds to cache a `Processing`/`Partial` summary (`0`: off)"),
    Row(CACHES, "cache_ttl_terminal", "GATEWAY_CACHE_TTL_TERMINAL", casts.non_negative_float, 30.0,
        _SECONDS, "seconds to cache a finished summary (`0`: off)"),
    Row(CACHES, "cache_ttl_not_found", "GATEWAY_CACHE_TTL_NOT_FOUND", casts.non_negative_float, 5.0,
        _SECONDS, "seconds to cache a not-found answer (`0`: off)"),
    Row(CACHES, "cache_max_entries", "GATEWAY_CACHE_MAX_ENTRIES", casts.positive_int, 100_000,
        "a number >= 1", "bound of the in-memory cache, in entries"),
    Row(CACHES, "response_cache_ttl", "GATEWAY_RESPONSE_CACHE_TTL", casts.non_negative_float, 300.0, _SECONDS,
        "seconds a repeated, byte-identical POST is kept, answered from its first answer's bytes while "
        "every summary behind it is unchanged (each repeat looks them up as the operation would: the "
        "summary cache, else the upstream); only answers without errors other than "
        "`VIDEO_NOT_FOUND`; `0`: off ([docs/architecture.md](docs/architecture.md))"),
    Row(EDGE, "graphiql", "GATEWAY_GRAPHIQL", casts.boolean, True, _BOOL,
        "serve the explorer on `GET /graphql` for browsers; `false` in production"),
    Row(EDGE, "introspection", "GATEWAY_INTROSPECTION", casts.boolean, True, _BOOL,
        "`false` refuses `__schema`/`__type` queries"),
    Row(EDGE, "api_keys", "GATEWAY_API_KEYS", casts.csv, (), "comma-separated keys",
        "comma-separated keys; when set, `/graphql` needs `Authorization: Bearer <key>`. Each key "
        "is a tenant of the fair queue; an entry may add `name=<tenant>`, `weight=<share>` (default "
        "1) and `cap=<IDs per second>`, space-separated: `k1 name=reports weight=0.5 cap=50,k2`",
        read=api_keys),
    Row(EDGE, None, "GATEWAY_API_KEYS_FILE", str, None, "",
        "a file of keys, one entry per line (as above, `#` comments), added to the above; a file "
        "without any key stops start-up"),
    Row(EDGE, "cors_origins", "GATEWAY_CORS_ORIGINS", casts.csv, (), "comma-separated origins",
        "comma-separated origins allowed to call from browsers"),
    Row(EDGE, "max_depth", "GATEWAY_MAX_DEPTH", casts.positive_int, 12, _WHOLE, "maximum query depth"),
    Row(EDGE, "max_aliases", "GATEWAY_MAX_ALIASES", casts.positive_int, 30, _WHOLE,
        "maximum aliases per operation"),
    Row(EDGE, "max_tokens", "GATEWAY_MAX_TOKENS", casts.positive_int, 2_000, _WHOLE,
        "maximum tokens per document"),
    Row(EDGE, "max_body_bytes", "GATEWAY_MAX_BODY_BYTES", casts.positive_int, 64 * 1024, "bytes >= 1",
        "maximum request body, in bytes (413); also the largest WebSocket message (close 1009)"),
    Row(EDGE, "allowed_hosts", "GATEWAY_ALLOWED_HOSTS", casts.csv, (), "comma-separated host names",
        "comma-separated `Host` values served (`*.example.com` patterns; WebSocket handshakes too); "
        "any other is a 400. Unset: any host. Add what your probes send (a kubelet sends the pod IP)"),
    Row(EDGE, "csrf_prevention", "GATEWAY_CSRF_PREVENTION", casts.boolean, False, _BOOL,
        "Apollo's CSRF prevention: a GET or a POST with a content type a form can send (or none) "
        "needs a non-empty `Apollo-Require-Preflight` or `X-Apollo-Operation-Name` header, else 400"),
    Row(SUBSCRIPTIONS, "subscription_max_ids", "GATEWAY_SUBSCRIPTION_MAX_IDS", casts.positive_int, 100,
        _WHOLE, "IDs per subscription"),
    Row(SUBSCRIPTIONS, "subscription_max_per_connection", "GATEWAY_SUBSCRIPTIONS_PER_CONNECTION",
        casts.positive_int, 20, _WHOLE, "subscriptions per WebSocket connection"),
    Row(SUBSCRIPTIONS, "subscription_max_per_key", "GATEWAY_SUBSCRIPTIONS_PER_KEY", casts.positive_int,
        500, _WHOLE, "open WebSocket operations and HTTP subscription streams per API key (tenant) in this "
        "process; past it a new one gets an `error` message (`RATE_LIMITED`; an HTTP stream: 429), the "
        "others go on"),
    Row(SUBSCRIPTIONS, "subscription_max_total", "GATEWAY_SUBSCRIPTIONS_MAX", casts.positive_int, 2_000,
        _WHOLE, "open WebSocket operations and HTTP subscription streams in this process, all keys "
        "together (the same answer past it)"),
    Row(SUBSCRIPTIONS, "ws_init_timeout", "GATEWAY_WS_INIT_TIMEOUT", casts.positive_float, 10.0,
        _SECONDS_ON, "seconds a WebSocket may take to send `connection_init` (both subprotocols); "
        "then close 4408"),
    Row(SUBSCRIPTIONS, "poll_interval", "GATEWAY_POLL_INTERVAL", casts.positive_float, 1.0, _SECONDS_ON,
        "seconds between the subscription poller's rounds"),
    *connection_rows(),
    *persisted_rows(),
    Row(REPLICAS, "redis_url", "GATEWAY_REDIS_URL", Secret, None, "",
        "share the limiter and cache between replicas ([docs/deployment.md](docs/deployment.md))"),
    Row(REPLICAS, "replicas", "GATEWAY_REPLICAS", casts.positive_int, 1, _WHOLE,
        "replicas sharing the account, at least: each takes `VOD_QPS / n` if Redis is lost, `n` being "
        "this or the live count on Redis over the last minute, if higher ([docs/deployment.md]"
        "(docs/deployment.md#degraded-mode-redis-lost-while-running))"),
    Row(REPLICAS, "redis_timeout", "GATEWAY_REDIS_TIMEOUT", casts.positive_float, 0.25, _SECONDS_ON,
        "deadline of one Redis command; past it the gateway is degraded at once (probed in the background)"),
    Row(CALLBACKS, "callbacks", "VOD_CALLBACK_AUTH_KEY", str, None, "",
        "the AuthKey of VOD's callback authentication: set, `POST /vod/callback` is on "
        "([docs/callbacks.md](docs/callbacks.md))", read=read_callbacks),
    Row(CALLBACKS, None, "VOD_CALLBACK_URL", str, None, "",
        "the callback URL exactly as configured in `SetMessageCallback` (the signature covers it)"),
    Row(CALLBACKS, None, "VOD_CALLBACK_AUTH_KEY_PREVIOUS", str, None, "",
        "the previous AuthKey, during a rotation"),
    Row(CALLBACKS, "callback_max_skew", "VOD_CALLBACK_MAX_SKEW", casts.positive_float, 300.0, _SECONDS_ON,
        "seconds a callback's `X-VOD-TIMESTAMP` may differ from the gateway's clock"),
    Row(LOGGING, "log_level", "GATEWAY_LOG_LEVEL", casts.log_level, "INFO", "DEBUG, INFO, WARNING or ERROR",
        "`DEBUG`, `INFO`, `WARNING`, `ERROR`"),
    Row(LOGGING, "log_json", "GATEWAY_LOG_JSON", casts.boolean, True, _BOOL,
        "one JSON object per line (with the request ID); `false` for plain text"),
    Row(LOGGING, "trace_document", "GATEWAY_TRACE_DOCUMENT", casts.boolean, False, _BOOL,
        "put the operation's text on its span (`graphql.document`); tracing itself is on when "
        "`OTEL_TRACES_EXPORTER` is set ([docs/tracing.md](docs/tracing.md))"),
    Row(LOGGING, "ftv1_tenants", "GATEWAY_FTV1_TENANTS", casts.csv, (), "comma-separated tenant names",
        "tenants (API key `name=`s; `open` when keys are off) whose `apollo-federation-include-trace: ftv1` "
        "gets Apollo's federated trace; unset: never "
        "([docs/tracing.md](docs/tracing.md#apollo-federated-traces-ftv1))"),
    Row(PROCESS, "gc_freeze", "GATEWAY_GC_FREEZE", casts.boolean, True, _BOOL,
        "after start-up, move what exists then out of the garbage collector's sight (`gc.freeze()`): "
        "fewer, shorter full collections ([docs/benchmarks.md](docs/benchmarks.md#garbage-collection))"),
    Row(PROCESS, "prepared_queries", "GATEWAY_PREPARED_QUERIES", casts.boolean, True, _BOOL,
        "answer a repeated plain summary query (only `transcodeSummary`/`transcodeSummaries`, no directive) "
        "without the per-operation pipeline, and run a repeated plain `transcodeSummaryUpdates` over "
        "graphql-transport-ws without the per-event one; `false`: every operation the standard way "
        "([docs/benchmarks.md](docs/benchmarks.md#prepared-queries))"),
)  # fmt: skip

_BY_VARIABLE = {row.variable: row for row in ROWS}
_BY_ATTR = {row.attr: row for row in ROWS if row.attr is not None}


def row_of(variable: str) -> Row:
    """The row of an environment variable, e.g. for its default or meaning in a description."""
    return _BY_VARIABLE[variable]


def _default(attr: str) -> Any:
    return _BY_ATTR[attr].default


# Defaults from ROWS, so none is written twice; tests/unit/config/test_settings_table.py holds each
# field to one row
@dataclass(frozen=True)
class Settings:
    credentials: Credentials | None = _default("credentials")  # noqa: RUF009 - a frozen value
    vod_endpoint: str = _default("vod_endpoint")
    vod_qps: int = _default("vod_qps")
    vod_qps_margin: float = _default("vod_qps_margin")
    vod_timeout: float = _default("vod_timeout")
    vod_max_wait: float = _default("vod_max_wait")
    vod_signature: SignatureVersion = _default("vod_signature")  # noqa: RUF009 - a str
    max_ids: int = _default("max_ids")
    max_list_ids: int = _default("max_list_ids")
    coalesce: bool = _default("coalesce")
    cache_ttl_active: float = _default("cache_ttl_active")
    cache_ttl_terminal: float = _default("cache_ttl_terminal")
    cache_ttl_not_found: float = _default("cache_ttl_not_found")
    cache_max_entries: int = _default("cache_max_entries")
    response_cache_ttl: float = _default("response_cache_ttl")
    graphiql: bool = _default("graphiql")
    introspection: bool = _default("introspection")
    api_keys: tuple[ApiKey, ...] = field(default=_default("api_keys"), repr=False)
    cors_origins: tuple[str, ...] = _default("cors_origins")
    max_depth: int = _default("max_depth")
    max_aliases: int = _default("max_aliases")
    max_tokens: int = _default("max_tokens")
    max_body_bytes: int = _default("max_body_bytes")
    allowed_hosts: tuple[str, ...] = _default("allowed_hosts")
    csrf_prevention: bool = _default("csrf_prevention")
    max_connections: int = _default("max_connections")
    max_header_bytes: int = _default("max_header_bytes")
    max_url_bytes: int = _default("max_url_bytes")
    header_timeout: float = _default("header_timeout")
    body_timeout: float = _default("body_timeout")
    shutdown_timeout: float = _default("shutdown_timeout")
    shutdown_drain: float = _default("shutdown_drain")
    apq: bool = _default("apq")
    apq_max_entries: int = _default("apq_max_entries")
    apq_max_bytes: int = _default("apq_max_bytes")
    apq_max_document_bytes: int = _default("apq_max_document_bytes")
    persisted_only: bool = _default("persisted_only")
    persisted_documents: tuple[tuple[str, str], ...] = field(
        default=_default("persisted_documents"), repr=False
    )
    redis_url: Secret | None = field(default=_default("redis_url"), repr=False)
    replicas: int = _default("replicas")
    redis_timeout: float = _default("redis_timeout")
    log_level: str = _default("log_level")
    log_json: bool = _default("log_json")
    callbacks: CallbackAuth | None = field(default=_default("callbacks"), repr=False)
    callback_max_skew: float = _default("callback_max_skew")
    trace_document: bool = _default("trace_document")
    ftv1_tenants: tuple[str, ...] = _default("ftv1_tenants")
    gc_freeze: bool = _default("gc_freeze")
    prepared_queries: bool = _default("prepared_queries")
    subscription_max_ids: int = _default("subscription_max_ids")
    subscription_max_per_connection: int = _default("subscription_max_per_connection")
    subscription_max_per_key: int = _default("subscription_max_per_key")
    subscription_max_total: int = _default("subscription_max_total")
    ws_init_timeout: float = _default("ws_init_timeout")
    poll_interval: float = _default("poll_interval")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULTS = Settings()  # what an empty environment gives, e.g. ``DEFAULTS.max_ids`` for a description


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from ``env`` (the process environment by default)."""
    env = os.environ if env is None else env
    values = {row.attr: row.read(env) if row.read else value_of(env, row) for row in ROWS if row.attr}
    return Settings(**values)  # type: ignore[arg-type]


def _readme_default(row: Row) -> str:
    if row.shown_default is not None:
        return row.shown_default
    if row.default is None or row.default == ():
        return "—"
    if isinstance(row.default, bool):
        return f"`{str(row.default).lower()}`"
    return f"`{row.default:g}`" if isinstance(row.default, float) else f"`{row.default}`"


def configuration_markdown() -> str:
    """The settings tables of README.md's "Configuration" section, one table per group of rows."""
    lines = [
        "<!-- made by `python -m gateway.config` from ROWS in gateway/config/settings.py: edit those -->"
    ]
    for g in dict.fromkeys(row.group for row in ROWS):
        lines += ["", f"### {g}", "", "| variable | default | meaning |", "|---|---|---|"]
        lines += [f"| `{r.variable}` | {_readme_default(r)} | {r.meaning} |" for r in ROWS if r.group == g]
    return "\n".join(lines) + "\n"
