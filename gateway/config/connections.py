"""The rows of the connection limits and shutdown (``http/protocol.py``, ``http/connections.py``,
``http/server.py`` enforce them), and the connection cap's default: what the descriptors allow."""

from __future__ import annotations

import resource
from collections.abc import Mapping
from dataclasses import replace

from gateway.config import casts
from gateway.config.rows import Row, value_of

CONNECTIONS = "Connections & shutdown"
FD_RESERVE = 128
"""Descriptors kept for everything but client connections: the upstream pool (64), Redis, logs."""
_WHOLE, _SECONDS_ON, _BYTES = "a whole number >= 1", "seconds > 0", "bytes >= 1"


def descriptor_cap() -> int:
    """The connections the process's descriptors allow: the soft RLIMIT_NOFILE less the reserve."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft = soft if soft != resource.RLIM_INFINITY else 1 << 20
    return max(1, soft - FD_RESERVE)


def _max_connections(env: Mapping[str, str]) -> object:
    row = next(r for r in connection_rows() if r.variable == "GATEWAY_MAX_CONNECTIONS")
    return value_of(env, replace(row, default=descriptor_cap()))


def connection_rows() -> tuple[Row, ...]:
    return (
        Row(CONNECTIONS, "max_connections", "GATEWAY_MAX_CONNECTIONS", casts.positive_int, descriptor_cap(),
            _WHOLE, "open client connections (HTTP and WebSocket); past it a new one gets 503 and is "
            "closed, with one log line per 10 s. Never more than the descriptors allow",
            read=_max_connections, shown_default=f"soft `RLIMIT_NOFILE` minus {FD_RESERVE}"),
        Row(CONNECTIONS, "max_header_bytes", "GATEWAY_MAX_HEADER_BYTES", casts.positive_int, 16 * 1024,
            _BYTES, "request line and headers, in bytes (431), counted as they arrive"),
        Row(CONNECTIONS, "max_url_bytes", "GATEWAY_MAX_URL_BYTES", casts.positive_int, 8 * 1024, _BYTES,
            "request URL, in bytes (414)"),
        Row(CONNECTIONS, "header_timeout", "GATEWAY_HEADER_TIMEOUT", casts.positive_float, 10.0, _SECONDS_ON,
            "seconds from a connection's opening (or its next request's first byte) to the end of the "
            "headers: then 408 and close (a connection that sent nothing is just closed)"),
        Row(CONNECTIONS, "body_timeout", "GATEWAY_BODY_TIMEOUT", casts.positive_float, 30.0, _SECONDS_ON,
            "seconds from the end of the headers to the end of the body: then 408 and close"),
        Row(CONNECTIONS, "shutdown_timeout", "GATEWAY_SHUTDOWN_TIMEOUT", casts.positive_float, 25.0,
            _SECONDS_ON, "seconds SIGTERM waits for requests in flight (subscriptions close at once "
            "with 1012); then the stragglers are cut off. Exit status 0"),
        Row(CONNECTIONS, "shutdown_drain", "GATEWAY_SHUTDOWN_DRAIN", casts.non_negative_float, 0.0,
            "seconds >= 0", "seconds SIGTERM keeps serving new requests, with `/readyz` answering 503 "
            "from the signal on, before the shutdown above begins: the time a load balancer needs to "
            "see the 503 and stop sending (`5` in the Kubernetes manifests; `0`: none)"),
    )  # fmt: skip
