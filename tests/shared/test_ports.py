"""A port already taken: refused in one line before either server says it starts."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from shared.startup import StartupError, check_port
from testbed.servers import ROOT


def test_a_free_port_passes_and_a_taken_one_is_refused_naming_its_variable() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StartupError) as refused:
            check_port("MCP_PORT", "127.0.0.1", port)
    assert str(refused.value) == (
        f"MCP_PORT: 127.0.0.1:{port} is already in use (another taskchat, or another "
        "program): stop it, or set MCP_PORT to a free port"
    )
    check_port("MCP_PORT", "127.0.0.1", port)  # closed again: free


@pytest.mark.parametrize(
    ("module", "variable"), [("chat_server", "CHAT_PORT"), ("mcp_server", "MCP_PORT")]
)
def test_a_server_on_a_taken_port_says_so_in_its_first_and_only_line(
    tmp_path: Path, module, variable
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", variable: str(port),
               "DATABASE_URL": f"sqlite:///{tmp_path / 'taskchat.db'}"}  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    process = "chat" if module == "chat_server" else "mcp"
    assert done.stderr.splitlines() == [
        f"taskchat-{process}: {variable}: 127.0.0.1:{port} is already in use (another taskchat, "
        f"or another program): stop it, or set {variable} to a free port"
    ]
