"""OpenTelemetry traces, only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Spans go out over OTLP/HTTP (the SDK reads the standard OTEL_* variables). Without the
endpoint nothing of OpenTelemetry is imported, and every helper here is a no-op. The chat
server puts the W3C trace context of each tool call in its `_meta` (the pool's HTTP
connections carry fixed headers), and the MCP server continues the trace from there, so one
chat turn is one trace across both processes.
"""

from collections.abc import Mapping, MutableMapping
from contextlib import nullcontext
from typing import Any

from shared.settings import Settings

_tracer: Any = None
"""The process's tracer once set_up() ran with an endpoint; None means tracing is off."""


def set_up(process: str, settings: Settings) -> bool:
    """Start exporting spans if OTEL_EXPORTER_OTLP_ENDPOINT is set; True when tracing is on."""
    global _tracer
    if not settings.otel_exporter_otlp_endpoint:
        return False
    if _tracer is None:  # once per process: a second provider would be refused anyway
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        name = settings.otel_service_name or f"taskchat-{process}"
        provider = TracerProvider(resource=Resource.create({"service.name": name}))
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        _tracer = provider.get_tracer("taskchat")
    return True


def start_span(
    name: str, attributes: Mapping[str, Any], parent: Mapping[str, Any] | None = None
) -> Any:
    """A started span (end it with `end`): a child of the trace context in `parent` (a
    `_meta` dict), else of the current span. None when tracing is off."""
    if _tracer is None:
        return None
    context = None
    if parent is not None and "traceparent" in parent:
        from opentelemetry.propagate import extract

        context = extract(parent)
    return _tracer.start_span(name, context=context, attributes=dict(attributes))


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


def inject(span: Any, carrier: MutableMapping[str, Any]) -> None:
    """Write `span`'s trace context (`traceparent`, `tracestate`) into `carrier`."""
    if span is None:
        return
    from opentelemetry.propagate import inject as inject_context
    from opentelemetry.trace import set_span_in_context

    inject_context(carrier, context=set_span_in_context(span))
