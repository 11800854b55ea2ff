"""Which requests get a span: every one but the probes and scrapes."""

import httpx
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared import tracing


async def test_health_checks_and_scrapes_make_no_span_and_other_requests_do() -> None:
    async def hello(_request):
        return PlainTextResponse("ok")

    paths = ["/healthz", "/readyz", "/metrics", "/chatkit", "/x/healthz", "/healthz2"]
    app = Starlette(routes=[Route(path, hello) for path in paths])
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    traced = OpenTelemetryMiddleware(
        app,
        excluded_urls=tracing.untraced_urls(),
        exclude_spans=["receive", "send"],
        tracer_provider=provider,
    )
    transport = httpx.ASGITransport(app=traced)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        for path in paths:
            assert (await client.get(f"{path}?probe=1")).status_code == 200
    assert sorted(span.name for span in exported.get_finished_spans()) == [
        "GET /chatkit",
        "GET /healthz2",
        "GET /x/healthz",
    ]
