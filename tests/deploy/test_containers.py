"""deploy/Containerfile and deploy/compose.yaml: the image builds, the stack serves a turn."""

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.auth import mint_jwt
from shared.settings import Settings
from testbed.servers import ROOT, free_port
from tests.e2e.stack import ChatKit

pytestmark = pytest.mark.e2e

DEPLOY = Path(ROOT) / "deploy"
BASE = "localhost/taskchat-base:bookworm"
IMAGE = "localhost/taskchat:test"
SECRET = "container-test-secret-long-enough-for-hs256"
SERVICE_TOKEN = "container-test-service-token-of-32-chars-plus"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
# This machine's kernel mounts cgroups in hybrid mode, which crun (podman's default runtime
# here) refuses, and its root lacks CAP_SYS_RESOURCE, so raising rlimits fails: runc, and
# ulimits no higher than the ones we have.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
"""


def run(*args: str, env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def podman_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment podman runs in; the test fails in CI when podman is missing."""
    missing = [tool for tool in ("podman", "podman-compose", "runc") if not shutil.which(tool)]
    if missing:
        packages = "podman podman-compose runc debootstrap"
        message = f"{', '.join(missing)} missing (Debian: apt-get install {packages})"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (in CI)")
        pytest.skip(message)
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


@pytest.fixture(scope="module")
def image(podman_env: dict[str, str]) -> str:
    """The taskchat image, built from deploy/Containerfile on a Debian base made here."""
    exists = subprocess.run(["podman", "image", "exists", BASE], env=podman_env, check=False)
    if exists.returncode != 0:
        # No registry is reachable here: the base comes from Debian's packages.
        run(str(DEPLOY / "debian-base.sh"), BASE, env=podman_env)
    ca = [f"--volume={HOST_CA}:/run/build-ca.crt:ro", "--build-arg=PIP_CERT=/run/build-ca.crt"]
    run(
        "podman", "build", f"--build-arg=BASE={BASE}", *(ca if HOST_CA.exists() else []),
        "-f", str(DEPLOY / "Containerfile"), "-t", IMAGE, ".",
        env=podman_env,
    )  # fmt: skip
    return IMAGE


@pytest.fixture
def stack(image: str, podman_env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """deploy/compose.yaml up on free ports; the chat and MCP base URLs. Down (-v) afterwards."""
    chat_port, mcp_port = free_port(), free_port()
    env = {
        **podman_env,
        "TASKCHAT_IMAGE": image,
        "JWT_SECRET": SECRET,
        "MCP_SERVICE_TOKEN": SERVICE_TOKEN,
        "CHAT_PUBLISH": f"127.0.0.1:{chat_port}",
        "MCP_PUBLISH": f"127.0.0.1:{mcp_port}",
    }
    compose = ["podman-compose", "-p", f"taskchat{uuid.uuid4().hex[:8]}"]
    compose += ["-f", str(DEPLOY / "compose.yaml")]
    run(*compose, "up", "-d", env=env, timeout=300)
    try:
        yield f"http://127.0.0.1:{chat_port}", f"http://127.0.0.1:{mcp_port}"
    finally:
        logs = subprocess.run(
            [*compose, "logs"], env=env, capture_output=True, text=True, check=False
        )
        print(logs.stdout, logs.stderr)
        run(*compose, "down", "-v", env=env, timeout=300)


def healthy(base_url: str, timeout: float = 120) -> int:
    """Poll /healthz until it answers 200 or the time is up; the last status (0: no answer)."""
    status, deadline = 0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status = httpx.get(f"{base_url}/healthz", timeout=2).status_code
        except httpx.HTTPError:
            status = 0
        if status == 200:
            break
        time.sleep(0.5)
    return status


def test_the_compose_stack_starts_both_servers_and_a_chat_turn_adds_a_task(
    stack: tuple[str, str],
) -> None:
    chat_url, mcp_url = stack

    assert healthy(mcp_url) == 200
    assert healthy(chat_url) == 200
    token = mint_jwt("ann", Settings(_env_file=None, jwt_secret=SECRET))  # type: ignore[call-arg]
    # The chat container reaches the MCP container by its service name, through the tools.
    turn = ChatKit(chat_url, token).create("add water the plants")
    assert turn.tools == ["add_task"]
    assert "water the plants" in turn.reply.lower()
