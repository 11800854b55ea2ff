"""Worker supervision: the reason a worker went, and the uvicorn internals that report it."""

import inspect
import signal

import pytest
from uvicorn.supervisors import multiprocess

from shared.workers import ReportingWorker, exit_reason, report_worker_deaths


def test_exit_reason_names_the_status_or_the_signal() -> None:
    assert exit_reason(0) == "exited with status 0"
    assert exit_reason(3) == "exited with status 3"
    assert exit_reason(-signal.SIGKILL) == "was killed by SIGKILL"
    assert exit_reason(-signal.SIGSEGV) == "was killed by SIGSEGV"
    assert exit_reason(-99) == "was killed by signal 99"
    assert exit_reason(None) == "is still running"


def test_uvicorn_still_builds_its_workers_by_the_name_report_worker_deaths_replaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The supervisor looks `Process` up in its module each time it starts a worker and asks
    # it `is_alive(timeout=<timeout_worker_healthcheck>)`: both are what the reporting relies on.
    monkeypatch.setattr(multiprocess, "Process", multiprocess.Process)
    report_worker_deaths()
    assert multiprocess.Process is ReportingWorker
    source = inspect.getsource(multiprocess.Multiprocess)
    assert "Process(self.config, self.sockets)" in source
    assert "process.is_alive(timeout=self.config.timeout_worker_healthcheck)" in source
    assert list(inspect.signature(multiprocess.Process.is_alive).parameters) == ["self", "timeout"]
    assert "timeout_worker_healthcheck" in inspect.signature(multiprocess.Config).parameters
