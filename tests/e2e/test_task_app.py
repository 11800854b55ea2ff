"""The task list MCP App in Chromium, through a minimal host written from the MCP Apps
specification (io.modelcontextprotocol/ui): the host renders the app's `ui://` resource in
a sandboxed iframe, speaks the extension's postMessage JSON-RPC with it (`ui/initialize`,
`ui/notifications/tool-result`, `tools/call`) and forwards its tool calls to a real task
server over HTTP."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from testbed.servers import Server, free_port, running
from tests.browser.harness import CHROMIUM_ARGS, chromium_path

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

APP_URI = "ui://taskchat/tasks"
HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": "2025-11-25",
}

# The host: an iframe without same-origin rights, as hosts render apps, and a bridge that
# answers the app's requests and forwards its tools/call to the server (window.mcpCall).
HOST_PAGE = """<!doctype html>
<html><body>
<iframe id="app" sandbox="allow-scripts" style="width: 600px; height: 300px"></iframe>
<script>
const frame = document.getElementById("app");
window.calls = [];
window.sizes = [];
function post(message) { frame.contentWindow.postMessage({jsonrpc: "2.0", ...message}, "*"); }
window.addEventListener("message", async (event) => {
  if (event.source !== frame.contentWindow) return;
  const message = event.data;
  if (!message || message.jsonrpc !== "2.0") return;
  switch (message.method) {
    case "ui/initialize":
      post({id: message.id, result: {
        protocolVersion: "2026-01-26",
        hostInfo: {name: "test-host", version: "1"},
        hostCapabilities: {serverTools: {}},
        hostContext: {theme: "light", displayMode: "inline"},
      }});
      break;
    case "ui/notifications/initialized":
      post({method: "ui/notifications/tool-result", params: window.toolResult});
      break;
    case "ui/notifications/size-changed":
      window.sizes.push(message.params);
      break;
    case "tools/call":
      window.calls.push(message.params);
      post({id: message.id, result: await window.mcpCall(message.params)});
      break;
    default:
      if (message.id !== undefined) {
        post({id: message.id, error: {code: -32601, message: "Method not found"}});
      }
  }
});
</script>
</body></html>"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The task server in local mode (one user, no token)."""
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('app') / 'tasks.db'}",
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "MCP_ALLOWED_HOSTS": "",
        "JWT_SECRET": "",
    }
    with running("mcp_server", env, port) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def rpc(server: Server, method: str, params: dict[str, Any]) -> Any:
    """One JSON-RPC request to the server's /mcp, answered with JSON."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    response = httpx.post(f"{server.base_url}/mcp", json=body, headers=HEADERS, timeout=30)
    response.raise_for_status()
    return response.json()["result"]


def call(server: Server, tool: str, **arguments: Any) -> Any:
    result = rpc(server, "tools/call", {"name": tool, "arguments": arguments})
    assert not result.get("isError"), result
    return result


def open_app(page: Page, server: Server, html: str, tool_result: Any) -> None:
    page.expose_function(
        "mcpCall", lambda params: rpc(server, "tools/call", params)
    )
    page.set_content(HOST_PAGE)
    page.evaluate(
        "([html, result]) => { window.toolResult = result;"
        " document.getElementById('app').srcdoc = html; }",
        [html, tool_result],
    )


def test_ticking_a_box_in_the_app_completes_the_task_on_the_server(
    server: Server, browser: Browser
) -> None:
    rent = call(server, "add_task", title="rent", due="2025-03-01", priority="high")
    call(server, "add_task", title="milk")
    tools = {tool["name"]: tool for tool in rpc(server, "tools/list", {})["tools"]}
    assert tools["list_tasks"]["_meta"]["ui"]["resourceUri"] == APP_URI
    [app] = rpc(server, "resources/read", {"uri": APP_URI})["contents"]
    assert app["mimeType"] == "text/html;profile=mcp-app"
    assert app["_meta"]["ui"]["csp"] == {"connectDomains": [], "resourceDomains": []}
    listed = call(server, "list_tasks", status="pending")

    context = browser.new_context()
    refused: list[str] = []

    def no_network(route: Route) -> None:  # the app must load nothing from anywhere
        refused.append(route.request.url)
        route.abort("blockedbyclient")

    context.route("**/*", no_network)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        open_app(page, server, app["text"], listed)
        frame = page.frame_locator("#app")
        box = frame.get_by_role("checkbox", name="Complete rent")
        expect(box).not_to_be_checked()
        expect(frame.get_by_role("checkbox", name="Complete milk")).to_be_visible()
        expect(frame.locator("li", has_text="rent")).to_contain_text("2025-03-01")

        box.check()
        expect(frame.get_by_role("status")).to_have_text("Done: rent")
        expect(box).to_be_checked()
        task_id = rent["structuredContent"]["task_id"]
        assert page.evaluate("window.calls") == [
            {"name": "complete_task", "arguments": {"task_id": task_id, "completed": True}}
        ]
        assert page.evaluate("window.sizes")  # the app told the host its size
    finally:
        context.close()
    got = call(server, "get_task", task_id=task_id)["structuredContent"]
    assert got["completed"] is True
    assert refused == []
    assert problems == [], json.dumps(problems)
