"""The task list as an MCP App, and the server's icon.

`ui://taskchat/tasks` is a self-contained HTML page (`text/html;profile=mcp-app`, the
`io.modelcontextprotocol/ui` extension) that hosts which render apps show beside a
list_tasks result: the tasks with checkboxes that complete them through the host's
`tools/call`. It loads nothing from anywhere (no script, style or font from a network):
its own Content-Security-Policy allows only its inline script and style, by hash, and its
`_meta.ui.csp` asks the host for no domains at all.
"""

import base64
import hashlib
import re
from importlib import resources
from typing import Any

from mcp.server.apps import Apps, ResourceCsp
from mcp_types import Icon

APP_URI = "ui://taskchat/tasks"
APP_TOOL = "list_tasks"
CSP_PLACEHOLDER = "{csp}"


def _asset(name: str) -> str:
    return (resources.files("mcp_server") / "assets" / name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def app_html() -> str:
    """The app's page, its CSP naming the hashes of its one script and one style."""
    page = _asset("tasks.html")
    [script] = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    [style] = re.findall(r"<style>(.*?)</style>", page, flags=re.S)
    csp = (
        f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(style)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return page.replace(CSP_PLACEHOLDER, csp, 1)


def task_app() -> Apps:
    """The Apps extension holding the task list page."""
    apps = Apps()
    apps.add_html_resource(
        APP_URI,
        app_html(),
        name="tasks",
        title="Tasks",
        description="Your tasks with checkboxes that complete them.",
        csp=ResourceCsp(connect_domains=[], resource_domains=[]),
        prefers_border=True,
    )
    return apps


def app_meta() -> dict[str, Any]:
    """The tool `_meta` that links list_tasks to the app, as the extension specifies."""
    return {"ui": {"resourceUri": APP_URI}}


def icons() -> list[Icon]:
    """The server's (and its tools') icon, as a data URI: hosts fetch nothing for it."""
    svg = _asset("icon.svg").strip()
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return [Icon(src=uri, mime_type="image/svg+xml", sizes=["any"])]
