"""GET /metrics from several worker processes: one sum over all of them, dead workers left out."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route

from shared.metrics import MULTIPROC_DIR, metrics_endpoint, prepare_multiprocess_metrics
from shared.observability import startup_line
from shared.settings import Settings
from testbed.servers import ROOT, free_port

SERVE_TWO_WORKERS = """
import sys, uvicorn
from shared.metrics import prepare_multiprocess_metrics
prepare_multiprocess_metrics(2)
print(__import__("os").environ["PROMETHEUS_MULTIPROC_DIR"], flush=True)
uvicorn.run("tests.shared.metrics_app:create_app", factory=True, workers=2,
            host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def samples(base_url: str) -> dict[str, float]:
    """Every sample of /metrics by name (label-less metrics only)."""
    text = httpx.get(f"{base_url}/metrics").text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


def wait_for(condition, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def hit(base_url: str) -> int:
    """One request on a new connection (so either worker may take it); the worker's pid."""
    return int(httpx.get(f"{base_url}/hit", headers={"Connection": "close"}).text)


@pytest.fixture
def two_workers() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != MULTIPROC_DIR}
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_TWO_WORKERS, str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        folder = process.stdout.readline().strip()  # type: ignore[union-attr]
        wait_for(lambda: _answers(base_url))
        yield base_url, process
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert not Path(folder).exists()  # the temporary folder goes with the server


def _running(pid: int) -> bool:
    """Whether the process still runs (a zombie waiting for its parent has stopped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz").status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.e2e
def test_metrics_add_up_every_worker_and_forget_a_dead_workers_gauges(
    two_workers: tuple[str, subprocess.Popen[str]],
) -> None:
    base_url, _ = two_workers
    pids: set[int] = set()
    hits = 0
    while len(pids) < 2:
        pids.add(hit(base_url))
        hits += 1
        assert hits < 500, "one worker took every request"
    seen = samples(base_url)
    assert seen["demo_hits_total"] == hits  # whichever worker answered /metrics
    assert seen["demo_workers"] == 2

    dead = min(pids)
    os.kill(dead, signal.SIGTERM)  # uvicorn's supervisor starts a new worker in its place
    # A worker shutting down closes connections it accepted but has not read yet, as any
    # HTTP server may; a client retries those. Here we wait it out so every hit counts.
    wait_for(lambda: not _running(dead))

    while True:
        pid = hit(base_url)
        hits += 1
        if pid not in pids:
            break  # the new worker answers
    wait_for(lambda: samples(base_url)["demo_workers"] == 2)
    seen = samples(base_url)
    assert seen["demo_workers"] == 2  # 3 if the dead worker's gauge still counted
    assert seen["demo_hits_total"] == hits  # the dead worker's counts stay


def test_one_worker_needs_no_shared_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROC_DIR, raising=False)
    prepare_multiprocess_metrics(1)
    assert MULTIPROC_DIR not in os.environ


def test_a_configured_folder_is_emptied_of_an_earlier_runs_samples(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_123.db").write_bytes(b"old")
    monkeypatch.setenv(MULTIPROC_DIR, str(folder))
    prepare_multiprocess_metrics(2)
    assert list(folder.iterdir()) == []


async def metrics_answers(token: str | None, required: bool) -> list[int]:
    """The status of GET /metrics without a token, with a wrong one and with the right one."""
    app = Starlette(routes=[Route("/metrics", metrics_endpoint(token, required=required))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return [
            (await client.get("/metrics", headers=headers)).status_code
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "Basic the-metrics-token"},
                {"Authorization": "Bearer the-metrics-token"},
            )
        ]


async def test_metrics_want_the_bearer_token_when_one_is_set() -> None:
    assert await metrics_answers("the-metrics-token", required=True) == [401, 401, 401, 200]
    assert await metrics_answers("the-metrics-token", required=False) == [401, 401, 401, 200]


async def test_metrics_are_off_outside_local_mode_without_a_token_and_open_in_local_mode() -> None:
    assert await metrics_answers(None, required=True) == [404, 404, 404, 404]
    assert await metrics_answers(None, required=False) == [200, 200, 200, 200]


def test_metrics_need_a_token_whenever_jwt_or_oauth_is_set() -> None:
    secret = "s" * 32
    assert Settings(_env_file=None).metrics_need_token is False
    assert Settings(_env_file=None, jwt_secret=secret).metrics_need_token is True
    oauth = Settings(_env_file=None, oauth_issuer="https://auth.example.com")
    assert oauth.metrics_need_token is True
    line = startup_line("mcp", oauth, "http://127.0.0.1:8001/mcp")
    assert " metrics=off (set METRICS_TOKEN) " in line
