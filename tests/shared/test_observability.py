"""The start-up line, request ids, and tracing staying off without an OTLP endpoint."""

import subprocess
import sys

import pytest

from shared.observability import request_id_from, startup_line
from shared.settings import Settings
from testbed.servers import ROOT

SECRET = "observability-test-secret-" + "s" * 20
PASSWORD = "hunter2-must-not-show"
POSTGRES = f"postgresql+psycopg://app:{PASSWORD}@db.internal:5432/tasks"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_outside_configuration(monkeypatch: pytest.MonkeyPatch):
    for name in ("WEB_CONCURRENCY", "MCP_WORKERS", "OAUTH_ISSUER"):
        monkeypatch.delenv(name, raising=False)


def test_the_start_up_line_names_mode_database_model_workers_and_metrics() -> None:
    line = startup_line(
        "chat", settings(database_url=POSTGRES), "http://127.0.0.1:8000", model="offline"
    )
    assert line == (
        "taskchat chat server on http://127.0.0.1:8000: mode=local "
        "database=postgresql+psycopg://app:***@db.internal:5432/tasks model=offline workers=1 "
        "metrics=http://127.0.0.1:8000/metrics log=text traces=off"
    )


def test_the_start_up_line_shows_no_secret_and_says_metrics_need_the_token() -> None:
    configured = settings(
        database_url=POSTGRES, jwt_secret=SECRET, metrics_token="metrics-secret-token"
    )
    line = startup_line("mcp", configured, "http://0.0.0.0:8001/mcp")
    assert "mode=JWT" in line
    assert "metrics=http://0.0.0.0:8001/metrics (METRICS_TOKEN)" in line
    for secret in (PASSWORD, SECRET, "metrics-secret-token"):
        assert secret not in line


def test_the_start_up_line_reads_workers_and_oauth_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    monkeypatch.setenv("MCP_WORKERS", "3")
    monkeypatch.setenv("OAUTH_ISSUER", "https://auth.example.com")
    assert " workers=2 " in startup_line("chat", settings(), "http://127.0.0.1:8000")
    mcp = startup_line("mcp", settings(jwt_secret=SECRET), "http://127.0.0.1:8001/mcp")
    assert "mode=OAuth" in mcp and " workers=3 " in mcp


def test_a_callers_request_id_is_kept_only_when_it_is_safe_to_log() -> None:
    assert request_id_from("turn-42") == "turn-42"
    for bad in (None, "", "two\nlines", "x" * 200, "quote\"d"):
        made_up = request_id_from(bad)
        assert len(made_up) == 32 and made_up != bad


def test_without_an_otlp_endpoint_nothing_of_opentelemetry_tracing_is_loaded() -> None:
    script = """
import sys
from chat_server.app import create_app
from mcp_server.server import build_app
from shared import tracing
from shared.db import make_engine
from shared.settings import Settings

settings = Settings(_env_file=None, otel_exporter_otlp_endpoint=None)
create_app(settings)
build_app(settings, make_engine("sqlite://"))
assert tracing.start_span("chat turn", {}) is None
ours = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation")
loaded = sorted(name for name in sys.modules if name.startswith(ours))
print(loaded)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
