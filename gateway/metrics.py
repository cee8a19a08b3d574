"""The gateway's Prometheus metrics: one registry per app, made in ``create_app``."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
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
        self.cache_lookups = Counter(
            "gateway_cache_lookups", "Summary cache lookups, by result (hit, miss)", ["result"], registry=r
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
