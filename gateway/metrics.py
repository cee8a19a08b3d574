"""The gateway's Prometheus metrics: one registry per app, made in ``create_app``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.registry import Collector


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        GCCollector(registry=r)  # python_gc_collections_total{generation}, ... (bench/cpu.py --gc)
        self.upstream_calls = Counter(
            "vod_upstream_calls", "Upstream GetTranscodeSummary attempts, by outcome", ["outcome"], registry=r
        )
        self.upstream_seconds = Histogram(
            "vod_upstream_call_seconds", "Duration of upstream attempts", registry=r
        )
        self.ids_per_call = Histogram(
            "vod_upstream_ids_per_call",
            "Video IDs per upstream call",
            buckets=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
            registry=r,
        )
        self.limiter_wait = Histogram(
            "gateway_limiter_wait_seconds",
            "Time a call waited for the per-account limiter",
            buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
            registry=r,
        )
        self.callbacks = Counter(
            "gateway_vod_callbacks",
            "VOD event callbacks received, by result (accepted, ignored, forged, stale, missing, ...)",
            ["result"],
            registry=r,
        )
        self.cache_lookups = Counter(
            "gateway_cache_lookups", "Summary cache lookups, by result (hit, miss)", ["result"], registry=r
        )
        self.response_cache = Counter(
            "gateway_response_cache",
            "Repeated operations looked up in the response cache, by result (hit: answered from "
            "bytes; changed: a summary behind it changed, so it ran)",
            ["result"],
            registry=r,
        )
        self.operations = Counter(
            "gateway_graphql_operations",
            "GraphQL operations, by outcome (ok, partial, error, rejected)",
            ["outcome"],
            registry=r,
        )
        self.degraded = Gauge(
            "gateway_degraded_mode",
            "1 while the shared (Redis) limiter is unreachable and a local share is used",
            registry=r,
        )
        self.replicas = Gauge(
            "gateway_replicas",
            "Replicas the degraded-mode share is counted for: the live count on Redis over the last "
            "minute, never below GATEWAY_REPLICAS",
            registry=r,
        )
        self.subscribed_ids = Gauge(
            "gateway_subscribed_video_ids", "Distinct video IDs with live subscribers", registry=r
        )
        self.subscriptions = Gauge(
            "gateway_subscriptions", "Open transcodeSummaryUpdates subscriptions", registry=r
        )
        self.poll_rounds = Counter("gateway_poll_rounds", "Rounds of the subscription poller", registry=r)
        self.poll_round_ids = Histogram(
            "gateway_poll_round_ids",
            "Video IDs polled per round",
            buckets=(10, 50, 100, 500, 1000, 5000),
            registry=r,
        )
        self.poll_round_seconds = Histogram(
            "gateway_poll_round_seconds",
            "Duration of a poll round (it stretches when the call budget is busy)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=r,
        )

        # per tenant (an API key's name or digest label; "open" without keys; "poller")
        self.tenant_queued = Counter(
            "gateway_tenant_ids_queued",
            "Video IDs queued for an upstream call, by tenant",
            ["tenant"],
            registry=r,
        )
        self.tenant_refused = Counter(
            "gateway_tenant_ids_refused",
            "Video IDs refused at once (RATE_LIMITED): not servable within VOD_MAX_WAIT at their fair share",
            ["tenant"],
            registry=r,
        )
        self.tenant_served = Counter(
            "gateway_tenant_ids_served",
            "Video IDs sent upstream on the tenant's turn",
            ["tenant"],
            registry=r,
        )
        self.tenant_wait = Histogram(
            "gateway_tenant_wait_seconds",
            "Time a video ID waited in the fair queue before its call, by tenant",
            ["tenant"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
            registry=r,
        )

    def queued(self, tenant: str, queued: int, refused: int) -> None:
        if queued:
            self.tenant_queued.labels(tenant).inc(queued)
        if refused:
            self.tenant_refused.labels(tenant).inc(refused)

    def served(self, tenant: str, waits: list[float]) -> None:
        self.tenant_served.labels(tenant).inc(len(waits))
        histogram = self.tenant_wait.labels(tenant)
        for wait in waits:
            histogram.observe(wait)

    def waiting_by_tenant(self, read: Callable[[], Mapping[str, int]]) -> None:
        """``gateway_tenant_ids_waiting``: IDs waiting now, by tenant, read at each scrape."""
        self.registry.register(_Waiting(read))

    def upstream_attempt(self, outcome: str, ids: int, seconds: float) -> None:
        self.upstream_calls.labels(outcome).inc()
        self.upstream_seconds.observe(seconds)
        self.ids_per_call.observe(ids)
        logging.getLogger("gateway.upstream").info(
            "upstream call",
            extra={"fields": {"outcome": outcome, "ids": ids, "ms": round(seconds * 1000, 1)}},
        )

    def poll_round(self, ids: int, seconds: float) -> None:
        self.poll_rounds.inc()
        self.poll_round_ids.observe(ids)
        self.poll_round_seconds.observe(seconds)

    def cache(self, hits: int, misses: int) -> None:
        if hits:
            self.cache_lookups.labels("hit").inc(hits)
        if misses:
            self.cache_lookups.labels("miss").inc(misses)


class _Waiting(Collector):
    def __init__(self, read: Callable[[], Mapping[str, int]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "gateway_tenant_ids_waiting",
            "Video IDs waiting in the fair queue now, by tenant",
            labels=["tenant"],
        )
        for tenant, waiting in sorted(self._read().items()):
            family.add_metric([tenant], waiting)
        yield family
