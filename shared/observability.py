"""What both processes tell an operator: log lines (text or JSON), request context, start-up line.

Each request gets an id (its `X-Request-ID`, or a new one), returned in the response's
`X-Request-ID` header; with the user and the thread it rides in context variables, so any
log line written while the request runs carries them. The chat server sends the id to the
MCP server in each tool call's `_meta`, so both processes log one id for one tool call.
"""

import logging
import re
from contextvars import ContextVar
from typing import Any, Literal
from uuid import uuid4

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import tracing
from shared.metrics import ForgetWorkerAtShutdown
from shared.settings import CommonSettings

Process = Literal["chat", "mcp"]
LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
USER: ContextVar[str | None] = ContextVar("user", default=None)
THREAD: ContextVar[str | None] = ContextVar("thread", default=None)
# Record attribute names; `thread` is taken (the OS thread id), so the formatter renames it.
_CONTEXT = {"request_id": REQUEST_ID, "user": USER, "chat_thread": THREAD}

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is echoed into logs and headers: short, printable, nothing a log parser trips on.
_GOOD_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# One line per MCP request would drown everything else (and costs time per call).
NOISY_LOGGERS = ("httpx", "httpx2", "mcp", "opentelemetry")


def request_id_from(value: str | None) -> str:
    """The caller's request id when it is a sane one, else a new one."""
    if value is not None and _GOOD_ID.fullmatch(value):
        return value
    return uuid4().hex


class ContextFilter(logging.Filter):
    """Adds the current request id, user and thread to every record that has none of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record; only adds attributes."""
        for name, var in _CONTEXT.items():
            value = var.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


class JsonLines(JsonFormatter):
    """One JSON object per line: time, level, process, logger, message, then the context."""

    def __init__(self, process: Process) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            timestamp="time",
            rename_fields={"levelname": "level", "name": "logger", "chat_thread": "thread"},
            # `process` is the record's pid attribute, so it goes in as a static field.
            static_fields={"process": process},
            # uvicorn adds a copy of each message with terminal colours.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )


def log_config(process: Process, log_format: LogFormat) -> dict[str, Any]:
    """A `logging.config.dictConfig` for this process; uvicorn takes it too (`log_config=`).

    Handed to uvicorn, it is applied again in every worker process it spawns, and uvicorn's
    own loggers propagate to the root handler, so they come out in the same format.
    """
    formatter: dict[str, Any] = (
        {"()": JsonLines, "process": process} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"main": formatter},
        "handlers": {
            "main": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["context"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["main"]},
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")},
            "uvicorn.access": {"handlers": [], "propagate": True},
            **{name: {"level": "WARNING"} for name in NOISY_LOGGERS},
        },
    }


class RequestContext:
    """ASGI middleware: a request id for every HTTP request, in the context and the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_header(scope, b"x-request-id"))
        REQUEST_ID.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def mode_of(settings: CommonSettings) -> str:
    """How callers are identified: OAuth, JWT or local."""
    if _setting(settings, "oauth_issuer"):
        return "OAuth"
    return "local" if settings.local_mode else "JWT"


def workers_of(settings: CommonSettings, variable: str) -> int:
    """How many worker processes serve this process's port (WEB_CONCURRENCY, MCP_WORKERS)."""
    value = _setting(settings, variable.lower())
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def shown_database(url: str) -> str:
    """The database URL with any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable DATABASE_URL)"


def startup_line(process: Process, settings: CommonSettings, url: str, **extra: object) -> str:
    """One line naming where the process serves and how it runs; never a secret."""
    base = url.removesuffix("/mcp")
    metrics = f"{base}/metrics" + (" (METRICS_TOKEN)" if settings.metrics_token else "")
    if settings.metrics_need_token and not settings.metrics_token:
        metrics = "off (set METRICS_TOKEN)"
    variable = "WEB_CONCURRENCY" if process == "chat" else "MCP_WORKERS"
    parts = {
        "mode": mode_of(settings),
        "database": shown_database(settings.database_url),
        **extra,
        "workers": workers_of(settings, variable),
        "metrics": metrics,
        "log": settings.log_format,
        "traces": settings.otel_exporter_otlp_endpoint or "off",
    }
    fields = " ".join(f"{name}={value}" for name, value in parts.items())
    return f"taskchat {process} server on {url}: {fields}"


def announce(line: str, log_format: LogFormat) -> None:
    """Print the start-up line: plain on stdout, or as a log record when logs are JSON."""
    if log_format == "json":
        logging.getLogger("taskchat").info(line)
    else:
        print(line, flush=True)


def _setting(settings: CommonSettings, name: str) -> Any:
    # A process's own class declares it (OAUTH_ISSUER, MCP_WORKERS on the task server;
    # WEB_CONCURRENCY on the chat server); the other process's variables do not apply.
    return getattr(settings, name, None)


def observe(app: Starlette, process: Process, settings: CommonSettings) -> None:
    """Give `app` request ids, multi-process metrics upkeep and, when OTEL_EXPORTER_OTLP_ENDPOINT
    is set, a span per request."""
    app.add_middleware(ForgetWorkerAtShutdown)
    app.add_middleware(RequestContext)
    if tracing.set_up(process, settings):
        # OpenTelemetry is loaded only when a collector is configured (see shared/tracing.py).
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware  # noqa: PLC0415

        # Outermost, so the request's span covers everything; one span per request, not one
        # more per streamed message.
        app.add_middleware(
            OpenTelemetryMiddleware,
            exclude_spans=["receive", "send"],
            excluded_urls=tracing.untraced_urls(),
        )
