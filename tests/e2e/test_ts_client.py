"""The TypeScript SDK client (npm `@modelcontextprotocol/client`, on Node 22 from the npm
registry) against a real task server at both revisions: it calls every tool the server
lists, reads a task resource, completes a tag and, at 2026-07-28, hears a change it
subscribed to (testbed/conformance/ts_client.mjs)."""

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.auth import mint_jwt
from shared.settings import Settings
from testbed import conformance
from testbed.servers import Server, free_port, running

pytestmark = pytest.mark.e2e

SECRET = "ts-client-secret-" + "x" * 32
SCRIPT = conformance.SOURCE / "ts_client.mjs"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('ts') / 'tasks.db'}",
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "MCP_ALLOWED_HOSTS": "",
        "JWT_SECRET": SECRET,
    }
    with running("mcp_server", env, port) as server:
        yield server


def run_client(server: Server, revision: str) -> dict[str, Any]:
    folder = conformance.installed()
    token = mint_jwt(f"ts-{uuid.uuid4().hex[:8]}", Settings(_env_file=None, jwt_secret=SECRET))
    # The script lives in the repository; Node resolves its imports from the install.
    script = folder / SCRIPT.name
    script.write_text(SCRIPT.read_text())
    done = subprocess.run(
        [conformance.node(folder), str(script), f"{server.base_url}/mcp", token, revision],
        env=conformance.environment(folder), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(("revision", "negotiated"), [
    ("legacy", "2025-11-25"), ("2026-07-28", "2026-07-28"),
])  # fmt: skip
def test_the_typescript_client_calls_every_tool(
    server: Server, revision: str, negotiated: str
) -> None:
    seen = run_client(server, revision)
    assert seen["revision"] == negotiated
    assert {"add_tasks", "update_tasks", "complete_tasks", "delete_tasks"} <= set(seen["tools"])
    assert sorted({*seen["calls"], *seen["errors"]}) == seen["tools"]
    assert seen["errors"]["get_task"] == {"isError": True, "code": "not_found"}
    batch = seen["calls"]["complete_tasks"]
    assert (batch["succeeded"], batch["failed"]) == (2, 1)
    assert [item["ok"] for item in batch["results"]] == [True, True, False]
    assert seen["calls"]["delete_tasks"]["succeeded"] == 2
    assert seen["resource"] == "ts watched"
    assert seen["completion"] == ["home"]
    if negotiated == "2026-07-28":
        assert seen["updated"].startswith("task://")
    else:
        assert "updated" not in seen
