"""OpenTelemetry traces, only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Spans go out over OTLP/HTTP (the SDK reads the standard OTEL_* variables). Without the
endpoint nothing here imports OpenTelemetry, and every helper is a no-op.

One chat turn is one trace across both processes: the mcp SDK opens a client span for each
request and puts its W3C trace context (`traceparent`, `tracestate`) in the request's
`_meta`, and the MCP server's SDK continues the trace from there. Our spans (the turn, each
tool call, each tool execution) are started as children of the current span, so they nest
with the SDK's. The chat server's MCP pool copies that context into the HTTP request's
headers too, so the MCP server's span for the HTTP request joins the same trace.
"""

import re
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from shared.settings import CommonSettings


@dataclass
class _Tracing:
    tracer: Any = None
    """The process's tracer once set_up() ran with an endpoint; None means tracing is off."""


_TRACING = _Tracing()


def set_up(process: str, settings: CommonSettings) -> bool:
    """Start exporting spans if OTEL_EXPORTER_OTLP_ENDPOINT is set; True when tracing is on."""
    if not settings.otel_exporter_otlp_endpoint:
        return False
    if _TRACING.tracer is None:  # once per process: a second provider would be refused anyway
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = settings.otel_service_name or f"taskchat-{process}"
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _TRACING.tracer = provider.get_tracer("taskchat")
    return True


def enabled() -> bool:
    """Whether this process exports spans."""
    return _TRACING.tracer is not None


def context_headers(meta: Mapping[str, Any]) -> dict[str, str]:
    """The W3C trace context headers (`traceparent`, `tracestate`) a request's `_meta` holds."""
    return {key: value for key in CONTEXT_KEYS if isinstance(value := meta.get(key), str)}


CONTEXT_KEYS = ("traceparent", "tracestate")

# Probes and scrapes get no span: a load balancer's health check every few seconds would
# outnumber the real requests' traces (and count as spans), and says nothing about one.
UNTRACED_PATHS = ("/healthz", "/readyz", "/metrics")


def untraced_urls() -> str:
    """The `excluded_urls` for OpenTelemetry's ASGI middleware: these paths, nothing more."""
    # The middleware searches each request's URL without its query: scheme://host/path.
    return ",".join(rf"^[a-z]+://[^/]+{re.escape(path)}$" for path in UNTRACED_PATHS)


def start_span(name: str, attributes: Mapping[str, Any]) -> Any:
    """A started child of the current span (end it with `end`); None when tracing is off."""
    if _TRACING.tracer is None:
        return None
    return _TRACING.tracer.start_span(name, attributes=dict(attributes))


def activated(span: Any) -> Any:
    """A context manager making `span` the current one, without ending it on exit."""
    if span is None:
        return nullcontext()
    from opentelemetry.trace import use_span

    return use_span(span, end_on_exit=False)


def end(span: Any, outcome: str, error: BaseException | None = None) -> None:
    """End a span from start_span, marking it failed unless `outcome` is ok."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("taskchat.outcome", outcome)
    if error is not None:
        span.record_exception(error)
    if outcome != "ok":
        span.set_status(Status(StatusCode.ERROR, outcome))
    span.end()
