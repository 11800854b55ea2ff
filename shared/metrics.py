"""`GET /metrics` for both processes, in Prometheus text format, from one or many workers.

With several worker processes, each writes its samples to files in PROMETHEUS_MULTIPROC_DIR
(prometheus-client's own variable, read when it is imported) and /metrics adds up every
worker's files, whichever worker answers. An entry point that starts more than one worker
calls `prepare_multiprocess_metrics(workers)` before starting them, and each app is wrapped
in `ForgetWorkerAtShutdown`.
"""

import atexit
import hmac
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"

RATE_LIMIT_REFUSALS = Counter(
    "taskchat_rate_limit_refusals",
    "Requests (chat) or tool calls (mcp) refused for being over the user's rate limit.",
    ["scope"],
)


def multiprocess_dir() -> str | None:
    """The folder workers share their samples in, or None in single-process mode."""
    return os.environ.get(MULTIPROC_DIR) or None


def prepare_multiprocess_metrics(workers: int) -> None:
    """Before starting `workers` worker processes: give them one empty folder to share samples in.

    Uses PROMETHEUS_MULTIPROC_DIR when it is set (emptied first: files left by an earlier run
    would count its dead workers), else a fresh temporary folder removed when this process
    exits. The workers inherit the variable. One worker needs none of this.
    """
    if workers <= 1:
        return
    folder = multiprocess_dir()
    if folder is None:
        folder = tempfile.mkdtemp(prefix="taskchat-metrics-")
        os.environ[MULTIPROC_DIR] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for stale in Path(folder).glob("*.db"):
        stale.unlink()


def exposition() -> bytes:
    """Every metric of this process, or of all workers in multi-process mode, as text."""
    folder = multiprocess_dir()
    if folder is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    # prometheus_client's multiprocess module has no annotations.
    multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


def metrics_endpoint(
    token: str | None, *, required: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """The /metrics handler; with `token`, only `Authorization: Bearer <token>` may read it.

    `required` (outside local mode): without a token /metrics is off and answers 404, since
    its labels name tools and outcomes nobody outside should read.
    """
    expected = token.encode() if token else None

    async def metrics(request: Request) -> Response:
        if expected is None and required:
            message = "/metrics is off: set METRICS_TOKEN (needed when JWT_SECRET or OAuth is set)"
            return JSONResponse({"error": "not_found", "message": message}, 404)
        if expected is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            # Compared in constant time, so the answer's timing does not spell the token out.
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected):
                message = "send Authorization: Bearer <METRICS_TOKEN>"
                return JSONResponse(
                    {"error": "unauthorized", "message": message},
                    401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics


class ForgetWorkerAtShutdown:
    """ASGI middleware: when this worker's app has shut down, drop its live gauges from the sums.

    Its counters stay, as they must. A hook on the worker's lifespan, because uvicorn ends a
    worker by re-raising SIGTERM, so atexit never runs; a worker killed outright is not seen.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" or multiprocess_dir() is None:
            await self.app(scope, receive, send)
            return

        async def send_then_forget(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
            await send(message)

        await self.app(scope, receive, send_then_forget)
