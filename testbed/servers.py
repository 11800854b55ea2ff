"""Start real server processes for end-to-end tests and wait until they answer."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import IO

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    port: int

    def stop(self) -> None:
        """Terminate the process and wait for it to exit."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    module: str,
    env: dict[str, str],
    port: int,
    *,
    # Generous: on a busy 2-core machine importing the chat server alone has taken 37 s
    # (5 s of CPU). Start-up speed is measured in bench/, not here.
    timeout: float = 120,
    args: tuple[str, ...] = (),
    log: IO[bytes] | None = None,
) -> Server:
    """Run `python -m module *args` with `env` added, and poll /healthz until it answers.

    With `log`, the process writes its stdout and stderr there instead of the test's.
    """
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        env=full_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )
    return _when_healthy(
        process,
        module,
        port,
        timeout,
        ready=lambda status: status < HTTPStatus.INTERNAL_SERVER_ERROR,
    )


def _when_healthy(
    process: subprocess.Popen[bytes],
    name: str,
    port: int,
    timeout: float,
    ready: Callable[[int], bool],
) -> Server:
    """Poll /healthz on `port` until `ready(status)`; kill the process if it never is."""
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} during start-up")
        try:
            if ready(httpx.get(f"{base_url}/healthz", timeout=1).status_code):
                return Server(process, base_url, port)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{name} did not answer on {base_url} within {timeout} s")


@contextmanager
def running(module: str, env: dict[str, str], port: int) -> Iterator[Server]:
    """Context manager around start_server that always stops the process."""
    server = start_server(module, env, port)
    try:
        yield server
    finally:
        server.stop()


HAPROXY_CONFIG = os.path.join(ROOT, "deploy", "haproxy.cfg")


def start_haproxy(addresses: dict[str, str], log: IO[bytes], timeout: float = 15) -> Server:
    """Run HAProxy in the foreground on deploy/haproxy.cfg, its addresses from `addresses`.

    `addresses` fills the config's variables (CHAT_BIND, MCP_BIND, CHAT1, ...); the
    returned Server is the chat frontend, ready once it answers /healthz.
    """
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", HAPROXY_CONFIG],
        env={**os.environ, **addresses},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    port = int(addresses["CHAT_BIND"].rsplit(":", 1)[1])
    # 200, not any answer: HAProxy says 503 until a chat instance passes its check.
    return _when_healthy(
        process, "haproxy", port, timeout, ready=lambda status: status == HTTPStatus.OK
    )
