"""What the chat server measures: turns, tool calls, pool connections; served at GET /metrics.

Each turn and each tool call is also a span when tracing is on (shared/tracing.py), and each
turn ends with one log line carrying its outcome.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from mcp.types import CallToolResult
from prometheus_client import Counter, Gauge, Histogram

from shared import tracing
from shared.contract import REQUEST_ID_META_KEY, TOOL_NAMES
from shared.metrics import METRICS_PATH, metrics_endpoint
from shared.observability import REQUEST_ID, THREAD

log = logging.getLogger(__name__)

TURNS = Counter(
    "taskchat_chat_turns",
    "Chat turns (agent runs) by how they ended: ok, error, cancelled.",
    ["outcome"],
)
TURN_SECONDS = Histogram(
    "taskchat_chat_turn_seconds",
    "Time from a user message to the turn's last event.",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TOOL_CALLS = Counter(
    "taskchat_tool_calls",
    "Task tool calls made through the MCP pool: ok, error (the tool refused), failed (no answer).",
    ["tool", "outcome"],
)
# Every series is listed (at 0) from the start, so a dashboard or alert sees it before the
# first event; with several workers a series would otherwise appear only once one of them
# had counted something.
for _outcome in ("ok", "error", "cancelled"):
    TURNS.labels(_outcome)
for _tool in TOOL_NAMES:
    for _outcome in ("ok", "error", "failed"):
        TOOL_CALLS.labels(_tool, _outcome)

POOL_IN_USE = Gauge(
    "taskchat_mcp_pool_connections_in_use",
    "MCP pool connections lent to a request right now.",
    multiprocess_mode="livesum",
)


def metrics_router(token: str | None, *, required: bool = False) -> APIRouter:
    """GET /metrics (a GET, so the edge checks only its Host header)."""
    router = APIRouter()
    router.add_api_route(
        METRICS_PATH,
        metrics_endpoint(token, required=required),
        methods=["GET"],
        include_in_schema=False,
    )
    return router


@dataclass
class Turn:
    """One chat turn being measured; `outcome` stays `cancelled` unless the turn sets it."""

    span: Any
    outcome: str = "cancelled"
    error: BaseException | None = field(default=None, repr=False)


@contextmanager
def observed_turn(thread_id: str) -> Iterator[Turn]:
    """Count, time, trace and log one turn; log lines inside it name the thread."""
    THREAD.set(thread_id)
    turn = Turn(tracing.start_span("chat turn", {"taskchat.thread": thread_id}))
    started = time.perf_counter()
    try:
        yield turn
    finally:
        seconds = time.perf_counter() - started
        TURNS.labels(turn.outcome).inc()
        TURN_SECONDS.observe(seconds)
        tracing.end(turn.span, turn.outcome, turn.error)
        log.info(
            "chat turn %s in %.0f ms", turn.outcome, seconds * 1000, extra={"outcome": turn.outcome}
        )


@dataclass
class ToolCall:
    """One tool call being measured; `meta` is the `_meta` to send with it."""

    meta: dict[str, Any]
    outcome: str = "failed"

    def answered(self, result: CallToolResult) -> CallToolResult:
        """Note the server's answer (ok, or error when the tool refused) and pass it on."""
        self.outcome = "error" if result.is_error else "ok"
        return result


@contextmanager
def observed_tool_call(tool: str, meta: dict[str, Any] | None) -> Iterator[ToolCall]:
    """Count and trace one tool call, whose `_meta` gains the request id.

    Its span is the current one while the call runs, so the mcp SDK's request span, and
    through `_meta` the MCP server's spans, nest under it.
    """
    sent = dict(meta or {})
    if (request_id := REQUEST_ID.get()) is not None:
        sent[REQUEST_ID_META_KEY] = request_id
    span = tracing.start_span(f"tool call {tool}", {"taskchat.tool": tool})
    call = ToolCall(sent)
    error: BaseException | None = None
    try:
        with tracing.activated(span):
            yield call
    except BaseException as exc:
        error = exc
        raise
    finally:
        TOOL_CALLS.labels(tool, call.outcome).inc()
        tracing.end(span, call.outcome, error)
