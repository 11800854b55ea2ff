"""Worker processes of either server: how long one may take to start, and why one died.

uvicorn pings each worker it spawned and kills one that does not answer within
`timeout_worker_healthcheck` (default 5 s). A fresh worker answers only once Python has
started and imported the server's entry module; on a busy 2-core machine that took longer
than 5 s, so uvicorn killed every worker and started another, forever, logging only
"Child process [N] died". Both servers pass WORKER_STARTUP_TIMEOUT instead, and
`report_worker_deaths()` makes each replacement say why the worker went.

It relies on uvicorn's internals (the worker class its supervisor builds, looked up by its
module-level name); tests/shared/test_workers.py checks them, so an upgrade that changes
them fails there.
"""

import logging
import signal

from uvicorn.supervisors import multiprocess

log = logging.getLogger("taskchat.workers")


def exit_reason(exitcode: int | None) -> str:
    """How a worker process ended, e.g. "exited with status 1" or "was killed by SIGKILL"."""
    if exitcode is None:
        return "is still running"
    if exitcode >= 0:
        return f"exited with status {exitcode}"
    try:
        name = signal.Signals(-exitcode).name
    except ValueError:
        name = f"signal {-exitcode}"
    return f"was killed by {name}"


class ReportingWorker(multiprocess.Process):
    """uvicorn's worker process, logging why its supervisor is about to replace it."""

    def is_alive(self, timeout: float = 5) -> bool:
        """uvicorn's liveness check: the process runs and answers a ping within `timeout`."""
        if not self.process.is_alive():
            log.warning("worker process [%s] %s", self.pid, exit_reason(self.exitcode))
            return False
        if self.ping(timeout):
            return True
        log.warning(
            "worker process [%s] did not answer uvicorn's health check within %g s "
            "(WORKER_STARTUP_TIMEOUT): killing it",
            self.pid,
            timeout,
        )
        return False


def report_worker_deaths() -> None:
    """Make uvicorn's supervisor start ReportingWorkers (call before uvicorn.run)."""
    multiprocess.Process = ReportingWorker  # type: ignore[misc]
