"""What the MCP server measures per tool execution, served at GET /metrics.

Each execution is counted and timed by tool and outcome, logged in one line, and (when
tracing is on) a span in the caller's trace. A request id in
`_meta` (the chat server's) becomes this call's request id, so both processes log one id.
"""

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from prometheus_client import Counter, Histogram

from shared import tracing
from shared.contract import REQUEST_ID_META_KEY, TOOL_NAMES
from shared.metrics import METRICS_PATH, metrics_endpoint
from shared.observability import REQUEST_ID, request_id_from

log = logging.getLogger(__name__)

TOOL_CALLS = Counter(
    "taskchat_mcp_tool_calls",
    "Tool executions by outcome: ok, error (refused with a reason), crash (a bug).",
    ["tool", "outcome"],
)
TOOL_SECONDS = Histogram(
    "taskchat_mcp_tool_seconds",
    "Time to validate and run a tool call.",
    ["tool"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)

REMINDERS = Counter(
    "taskchat_reminders",
    "Reminders and digests by outcome: due (claimed by this process), late (claimed after "
    "their time), skipped (done task, no channels, empty digest); sent and failed count "
    "deliveries to one channel (a failed one may be retried in a later round).",
    ["kind", "outcome"],
)

# Every series is listed (at 0) from the start, as on the chat server.
for _kind in ("reminder", "digest"):
    for _outcome in ("due", "late", "sent", "failed", "skipped"):
        REMINDERS.labels(_kind, _outcome)
for _tool in TOOL_NAMES:
    TOOL_SECONDS.labels(_tool)
    for _outcome in ("ok", "error", "crash"):
        TOOL_CALLS.labels(_tool, _outcome)


def add_metrics_route(server: MCPServer, token: str | None, *, required: bool = False) -> None:
    """GET /metrics on the server's HTTP app (outside MCP auth: METRICS_TOKEN guards it)."""
    endpoint = metrics_endpoint(token, required=required)
    server.custom_route(METRICS_PATH, methods=["GET"])(endpoint)


def meta_of(context: Context[Any, Any]) -> Mapping[str, Any]:
    """The call's `_meta` (empty when there is none, or no request, as in unit tests)."""
    try:
        return context.request_context.meta or {}
    except ValueError:
        return {}


@contextmanager
def tool_execution(tool: str, meta: Mapping[str, Any]) -> Iterator[None]:
    """Count, time, trace and log one tool execution."""
    if REQUEST_ID_META_KEY in meta:
        REQUEST_ID.set(request_id_from(str(meta[REQUEST_ID_META_KEY])))
    # A child of the mcp SDK's span for the request, which continues the caller's trace.
    span = tracing.start_span(f"tool {tool}", {"taskchat.tool": tool})
    started = time.perf_counter()
    outcome = "crash"
    error: BaseException | None = None
    try:
        yield
        outcome = "ok"
    except BaseException as exc:
        error = exc
        if isinstance(exc, ToolError) and not isinstance(exc, UnexpectedToolError):
            outcome = "error"  # refused with a reason the caller sees: not our bug
        raise
    finally:
        seconds = time.perf_counter() - started
        TOOL_CALLS.labels(tool, outcome).inc()
        TOOL_SECONDS.labels(tool).observe(seconds)
        tracing.end(span, outcome, error)
        log.info(
            "tool %s %s in %.1f ms",
            tool,
            outcome,
            seconds * 1000,
            extra={"outcome": outcome, "tool": tool},
        )
