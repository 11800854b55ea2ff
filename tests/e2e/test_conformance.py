"""The MCP conformance suite (npm `@modelcontextprotocol/conformance`, on Node 22 from the
npm registry) against a real task server: every server scenario passes or is not
applicable, for a reason stated here and checked against how it failed.

Run alone with `scripts/conformance` (`-rs` lists the reasons).
"""

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testbed import conformance
from testbed.servers import Server, free_port, running

pytestmark = pytest.mark.e2e

# Scenarios built around the reference server's own fixtures (tools, prompts and resources
# named test_*), which a task server does not have: each fails by not finding one.
FIXTURE = "needs the reference server's fixture {}; a task server has none"
NOT_APPLICABLE: dict[str, tuple[str, str]] = {
    # scenario: (reason, what its failure says)
    "tools-call-image": (FIXTURE.format("tool test_image_content"), "No image content found"),
    "tools-call-audio": (FIXTURE.format("tool test_audio_content"), "No audio content found"),
    "tools-call-embedded-resource": (
        FIXTURE.format("tool test_embedded_resource"), "No resource content found"
    ),
    "tools-call-mixed-content": (
        FIXTURE.format("tool test_multiple_content_types"), "Missing image content"
    ),
    "tools-call-sampling": (
        FIXTURE.format("tool test_sampling") + " (and it asks no model for anything)",
        "Server did not request sampling",
    ),
    "tools-call-elicitation": (
        FIXTURE.format("tool test_elicitation") + "; delete_tasks asks (elicitation) where "
        "the revision allows it, tests/mcp_server/test_batches.py",
        "Server did not request elicitation",
    ),
    "elicitation-sep1034-defaults": (
        FIXTURE.format("tool test_elicitation_sep1034_defaults"),
        "Server did not request elicitation",
    ),
    "elicitation-sep1330-enums": (
        FIXTURE.format("tool test_elicitation_sep1330_enums"),
        "Server did not request elicitation",
    ),
    "json-schema-2020-12": (
        FIXTURE.format("tool json_schema_2020_12_tool"), "Tool 'json_schema_2020_12_tool' not found"
    ),
    "tools-call-with-progress": (
        FIXTURE.format("tool test_tool_with_progress") + "; batches of 5 or more report "
        "progress at 2026-07-28 (tests/mcp_server/test_current_revision.py)",
        "No progress notifications received",
    ),
    "resources-read-text": (FIXTURE.format("resource test://static-text"), "Unknown resource"),
    "resources-read-binary": (FIXTURE.format("resource test://static-binary"), "Unknown resource"),
    "resources-templates-read": (
        FIXTURE.format("template test://template/{id}/data"), "Unknown resource"
    ),
    "prompts-get-simple": (FIXTURE.format("prompt test_simple_prompt"), "Unknown prompt"),
    "prompts-get-with-args": (
        FIXTURE.format("prompt test_prompt_with_arguments"), "Unknown prompt"
    ),
    "prompts-get-embedded-resource": (
        FIXTURE.format("prompt test_prompt_with_embedded_resource"), "Unknown prompt"
    ),
    "prompts-get-with-image": (FIXTURE.format("prompt test_prompt_with_image"), "Unknown prompt"),
    # Features the server does not offer, and says so in its capabilities.
    "logging-set-level": (
        "logging is not offered (the 2026-07-28 revision deprecates it; no `logging` "
        "capability is advertised)",
        "Method not found",
    ),
    "tools-call-with-logging": (
        FIXTURE.format("tool test_tool_with_logging") + ", and logging is not offered",
        "Method not found",
    ),
    "resources-subscribe": (
        "the server is stateless: at 2025-11-25 there is no standing stream to notify on, so "
        "it advertises resources.subscribe: false there; subscriptions are offered at "
        "2026-07-28 (subscriptions/listen), docs/mcp-server.md",
        "Method not found",
    ),
    "resources-unsubscribe": (
        "resources/subscribe is not offered at 2025-11-25 (see resources-subscribe)",
        "Method not found",
    ),
}
# tools-call-simple-text and tools-call-error call fixture tools too, and pass on the shape of
# our answer (a text block; an error result naming the unknown tool).
PASSING = [
    "server-initialize", "ping", "completion-complete", "tools-list", "tools-call-simple-text",
    "tools-call-error", "resources-list", "prompts-list", "dns-rebinding-protection",
    "server-sse-multiple-streams", "server-sse-polling",
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[Any]]]:
    """Every server scenario's checks, from one run of the whole suite."""
    folder = conformance.installed()
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('conf') / 'tasks.db'}",
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "MCP_ALLOWED_HOSTS": "",
        "JWT_SECRET": "",
    }
    out = tmp_path_factory.mktemp("conformance")
    with running("mcp_server", env, port) as server:
        run_suite(folder, server, out)
    yield {
        re.sub(r"^server-|-\d{4}-\d\d-\d\dT.*$", "", path.parent.name): json.loads(
            path.read_text()
        )
        for path in out.glob("*/checks.json")
    }


def run_suite(folder: Path, server: Server, out: Path) -> None:
    # The exit status counts the not-applicable scenarios as failures: read the results.
    subprocess.run(
        [conformance.node(folder), str(folder / "node_modules" / ".bin" / "conformance"),
         "server", "--url", f"{server.base_url}/mcp", "--suite", "all", "-o", str(out)],
        env=conformance.environment(folder), capture_output=True, timeout=900, check=False,
    )  # fmt: skip


def test_the_suite_has_exactly_the_scenarios_listed_here(results: dict[str, list[Any]]) -> None:
    assert sorted(results) == sorted([*PASSING, *NOT_APPLICABLE])


@pytest.mark.parametrize("scenario", PASSING)
def test_scenario_passes(results: dict[str, list[Any]], scenario: str) -> None:
    failures = [check for check in results[scenario] if check["status"] == "FAILURE"]
    assert failures == []


@pytest.mark.parametrize("scenario", sorted(NOT_APPLICABLE))
def test_scenario_not_applicable(results: dict[str, list[Any]], scenario: str) -> None:
    reason, failure = NOT_APPLICABLE[scenario]
    said = [
        check.get("errorMessage") or json.dumps(check.get("details"))
        for check in results[scenario]
        if check["status"] == "FAILURE"
    ]
    # It fails, and only for the stated reason; anything else is ours to fix.
    assert said and all(failure in text for text in said), said
    pytest.skip(f"{scenario} is not applicable: {reason}")
