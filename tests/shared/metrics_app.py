"""A tiny app factory for the multi-process metrics test: counts hits, names its worker."""

import os

from prometheus_client import Counter, Gauge
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.metrics import METRICS_PATH, ForgetWorkerAtShutdown, metrics_endpoint

HITS = Counter("demo_hits", "Requests to /hit, in every worker.")
WORKERS = Gauge("demo_workers", "Worker processes alive.", multiprocess_mode="livesum")


async def hit(_request: Request) -> PlainTextResponse:
    HITS.inc()
    return PlainTextResponse(str(os.getpid()))


async def healthz(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def create_app() -> Starlette:
    """One app per worker process; each counts itself among the live workers."""
    WORKERS.set(1)
    app = Starlette(
        routes=[
            Route("/hit", hit),
            Route("/healthz", healthz),
            Route(METRICS_PATH, metrics_endpoint(None)),
        ]
    )
    app.add_middleware(ForgetWorkerAtShutdown)  # as shared.observability.observe() does
    return app
