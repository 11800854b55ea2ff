"""End to end: what an operator sees of both running processes: metrics, logs, traces."""

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.migrate import CHAT, TASKS, heads
from tests.e2e.otlp import otlp_receiver
from tests.e2e.stack import Stack, running_stack, user_input

pytestmark = pytest.mark.e2e

T = TypeVar("T")
METRICS_TOKEN = "metrics-token-for-the-operating-tests"
READ_METRICS = {"Authorization": f"Bearer {METRICS_TOKEN}"}
CREATE = {"type": "threads.create", "params": {"input": user_input("add buy milk")}}


def metric(base_url: str, name: str, **labels: str) -> float | None:
    """One sample's value from a process's /metrics, or None when it has no such sample."""
    response = httpx.get(f"{base_url}/metrics", headers=READ_METRICS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


def eventually(check: Callable[[], T | None], timeout: float = 20.0) -> T:
    """The first truthy result of `check`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"not true within {timeout} s")


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers with METRICS_TOKEN, 2 chat requests and 1 tool call a minute per user."""
    folder = tmp_path_factory.mktemp("metrics")
    env = {"METRICS_TOKEN": METRICS_TOKEN, "RATE_LIMIT": "2/minute", "MCP_RATE_LIMIT": "1/minute"}
    with running_stack(f"sqlite:///{folder / 'taskchat.db'}", log_dir=folder, **env) as stack:
        yield stack


def test_each_process_starts_with_a_line_saying_how_it_runs(metered: Stack) -> None:
    assert metered.chat is not None and metered.mcp is not None and metered.log_dir is not None
    database = metered.database_url
    chat, mcp = metered.chat.base_url, metered.mcp.base_url
    # Each names the newest revision this code knows: a fresh database goes straight there.
    (chat_head,), (tasks_head,) = heads(CHAT), heads(TASKS)
    first_lines = [
        (metered.log_dir / f"{name}.log").read_text().splitlines()[0] for name in ("chat", "mcp")
    ]
    assert first_lines == [
        f"taskchat chat server on {chat}: mode=local database={database} "
        f"schema=empty->{chat_head} model=offline "
        f"workers=1 metrics={chat}/metrics (METRICS_TOKEN) log=text traces=off",
        f"taskchat mcp server on {mcp}/mcp: mode=local database={database} "
        f"schema=empty->{tasks_head} workers=1 metrics={mcp}/metrics (METRICS_TOKEN) "
        "log=text traces=off",
    ]


def test_both_processes_count_turns_tool_calls_and_refusals(metered: Stack) -> None:
    assert metered.chat is not None and metered.mcp is not None
    chat = metered.client()
    first = chat.create("add buy milk")
    assert first.tools == ["add_task"]
    refused = chat.say(first.thread_id, "add buy eggs")  # over MCP_RATE_LIMIT: a tool error
    assert "rate limit" in refused.reply.lower()
    assert chat.post(CREATE).status_code == 429  # over RATE_LIMIT

    chat_url, mcp_url = metered.chat.base_url, metered.mcp.base_url
    assert metric(chat_url, "taskchat_chat_turns_total", outcome="ok") == 2
    assert metric(chat_url, "taskchat_chat_turn_seconds_count") == 2
    assert metric(chat_url, "taskchat_tool_calls_total", tool="add_task", outcome="ok") == 1
    assert metric(chat_url, "taskchat_tool_calls_total", tool="add_task", outcome="error") == 1
    assert metric(chat_url, "taskchat_mcp_pool_connections_in_use") == 0
    assert metric(chat_url, "taskchat_rate_limit_refusals_total", scope="chat") == 1

    assert metric(mcp_url, "taskchat_mcp_tool_calls_total", tool="add_task", outcome="ok") == 1
    assert metric(mcp_url, "taskchat_mcp_tool_calls_total", tool="add_task", outcome="error") == 1
    assert metric(mcp_url, "taskchat_mcp_tool_seconds_count", tool="add_task") == 2
    assert metric(mcp_url, "taskchat_rate_limit_refusals_total", scope="mcp") == 1


def test_metrics_are_refused_without_the_metrics_token(metered: Stack) -> None:
    assert metered.chat is not None and metered.mcp is not None
    for base_url in (metered.chat.base_url, metered.mcp.base_url):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
            response = httpx.get(f"{base_url}/metrics", headers=headers)
            assert response.status_code == 401, (base_url, headers)
            assert response.headers["www-authenticate"] == "Bearer"
            assert "taskchat_" not in response.text


def test_chat_metrics_answer_only_to_a_served_host_name(metered: Stack) -> None:
    assert metered.chat is not None
    url = f"{metered.chat.base_url}/metrics"
    assert httpx.get(url, headers={**READ_METRICS, "Host": "rebind.example"}).status_code == 421
    assert httpx.get(url, headers={**READ_METRICS, "Host": "localhost"}).status_code == 200


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a log file, each of which must be one JSON object with the basics."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for line in lines:
        assert {"time", "level", "process", "logger", "message"} <= line.keys(), line
    return lines


def test_json_logs_carry_the_chat_requests_id_into_the_mcp_servers_line(
    tmp_path: Path, sqlite_url: str
) -> None:
    with running_stack(sqlite_url, log_dir=tmp_path, LOG_FORMAT="json") as stack:
        chat = stack.client()
        chat.http.headers["X-Request-ID"] = "turn-42"
        turn = chat.create("add buy milk")
        assert turn.tools == ["add_task"]
        assert chat.http.get("/healthz").headers["x-request-id"] == "turn-42"
        del chat.http.headers["X-Request-ID"]
        made_up = chat.http.get("/healthz").headers["x-request-id"]
        assert len(made_up) == 32 and made_up != "turn-42"

    mcp_lines, chat_lines = json_lines(tmp_path / "mcp.log"), json_lines(tmp_path / "chat.log")
    assert chat_lines[0]["message"].startswith("taskchat chat server on http://127.0.0.1:")
    assert mcp_lines[0]["message"].startswith("taskchat mcp server on http://127.0.0.1:")
    assert {line["process"] for line in mcp_lines} == {"mcp"}
    assert {line["process"] for line in chat_lines} == {"chat"}
    assert any(line["logger"].startswith("uvicorn") for line in mcp_lines)  # its own lines too
    [tool_line] = [line for line in mcp_lines if line.get("tool") == "add_task"]
    assert tool_line["request_id"] == "turn-42"
    assert (tool_line["user"], tool_line["outcome"], tool_line["level"]) == ("local", "ok", "INFO")
    [turn_line] = [line for line in chat_lines if line["message"].startswith("chat turn")]
    assert turn_line["request_id"] == "turn-42"
    assert (turn_line["user"], turn_line["thread"]) == ("local", turn.thread_id)
    assert turn_line["outcome"] == "ok"


def test_one_chat_turn_is_one_trace_across_both_processes(sqlite_url: str) -> None:
    with otlp_receiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with running_stack(sqlite_url, **env) as stack:
            assert stack.client().create("add buy milk").tools == ["add_task"]

            def span(service: str, name: str) -> Any:
                return eventually(lambda: receiver.named(f"taskchat-{service}", name))[0]

            request = span("chat", "POST /chatkit")
            turn = span("chat", "chat turn")
            call = span("chat", "tool call add_task")
            sent = span("chat", "MCP send tools/call add_task")  # the mcp SDK's client span
            received = span("mcp", "tools/call add_task")  # and its server span
            execution = span("mcp", "tool add_task")
            posts = eventually(lambda: receiver.named("taskchat-mcp", "POST /mcp"))

    assert request.parent_id == ""  # the turn's trace starts at the chat request
    chain = [request, turn, call, sent, received, execution]
    assert {s.trace_id for s in chain} == {request.trace_id}
    assert [s.parent_id for s in chain[1:]] == [s.span_id for s in chain[:-1]]
    # The HTTP request that carried the call is in the trace too, under the SDK's client span.
    assert [p.trace_id for p in posts if p.parent_id == sent.span_id] == [request.trace_id]
