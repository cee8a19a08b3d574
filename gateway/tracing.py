"""OpenTelemetry tracing, configured by OpenTelemetry's own variables and no others.

Off unless ``OTEL_TRACES_EXPORTER`` is set (``otlp`` or ``console``; ``none`` is off). The SDK then
reads the rest itself: ``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``, ``_HEADERS``, ``_TIMEOUT``,
``_COMPRESSION``, ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_BSP_*``,
``OTEL_TRACES_SAMPLER[_ARG]`` and ``OTEL_PROPAGATORS``. OTLP goes over HTTP (``http/protobuf``);
another ``OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`` fails start-up with one line.

The spans (docs/tracing.md): one SERVER span per GraphQL operation (``schema/tracing.py``), one
CLIENT span per upstream call (``loading/call.py``), linked both ways, since one call serves
several operations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from opentelemetry.trace import NoOpTracer, Tracer

from gateway.config.settings import SettingsError

SERVICE_NAME = "vod-gateway"
_EXPORTERS = ("otlp", "console")
_PROTOCOLS = ("http/protobuf",)


@dataclass
class Tracing:
    """The tracer the gateway's spans come from, and the provider to flush on shutdown."""

    tracer: Tracer = field(default_factory=NoOpTracer)
    provider: object | None = None  # an SDK TracerProvider when tracing is on

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def shutdown(self) -> None:
        """Export what is buffered and stop (at most the exporter's timeout)."""
        shutdown = getattr(self.provider, "shutdown", None)
        if shutdown is not None:
            shutdown()


OFF = Tracing()


def tracing_from_env(env: Mapping[str, str] | None = None) -> Tracing:
    """:class:`Tracing` as the OpenTelemetry variables in ``env`` (the process's) ask for."""
    env = os.environ if env is None else env
    exporter_name = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter_name in ("", "none"):
        return OFF
    if exporter_name not in _EXPORTERS:
        raise SettingsError(
            f"OTEL_TRACES_EXPORTER={exporter_name!r} is not supported: expected one of "
            f"{', '.join(_EXPORTERS)} or none"
        )
    variable = next(
        (
            v
            for v in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
            if env.get(v, "").strip()
        ),
        None,
    )
    if exporter_name == "otlp" and variable is not None and env[variable].strip() not in _PROTOCOLS:
        raise SettingsError(
            f"{variable}={env[variable].strip()!r} is not supported: expected http/protobuf "
            "(OTLP over gRPC is not installed)"
        )
    # imported only when on: the SDK costs start-up time that most deployments don't need
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    attributes: dict[str, str] = {"service.version": _version()}
    named = env.get("OTEL_SERVICE_NAME", "").strip() or "service.name=" in env.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if not named:
        attributes["service.name"] = SERVICE_NAME
    provider = TracerProvider(resource=Resource.create(attributes))  # sampler from OTEL_TRACES_SAMPLER
    exporter: SpanExporter
    if exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, timeout, compression from the environment
    else:
        exporter = ConsoleSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))  # OTEL_BSP_* from the environment
    return Tracing(provider.get_tracer("vod-gateway", _version()), provider)


def _version() -> str:
    try:
        return version("vod-gateway")
    except PackageNotFoundError:  # pragma: no cover - running from a checkout without install
        return "0"
