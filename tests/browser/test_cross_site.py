"""A page on another port of the same host tries to drive the chat server from Chromium.

The default mode has no sign-in, so this is what stands between any web page the user
visits and their tasks: a cross-site form, a `no-cors` fetch and a CORS fetch must all
change nothing.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from testbed.servers import free_port
from tests.browser.harness import Browsing, Stack, start_stack
from tests.e2e.stack import ChatKit, user_input

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def attack(text: str) -> str:
    """The ChatKit request an attacker wants the server to run."""
    return json.dumps({"type": "threads.create", "params": {"input": user_input(text)}})


def form_page(target: str, text: str) -> str:
    # enctype=text/plain sends "name=value": the name carries the JSON up to a string the
    # value closes, the classic way to post JSON from a form without a preflight.
    body = attack(text)
    name, value = body[:-2] + ', "x": "', '"}}'
    return f"""<!doctype html><html><body>
<form id="f" method="POST" action="{target}" enctype="text/plain">
<input type="hidden" name='{name}' value='{value}'></form>
<script>document.getElementById("f").submit();</script></body></html>"""


class AttackerSite:
    """An HTTP server on 127.0.0.1 (another port: the same site, another origin)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                html = pages.get(self.path, "<!doctype html><title>blank</title>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(html)))
                self.end_headers()
                self.wfile.write(html)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers in local mode with one task, 'Keep me', as task 1."""
    stack = start_stack(tmp_path_factory.mktemp("victim"), JWT_SECRET="", MCP_SERVICE_TOKEN="")
    ChatKit(stack.url).create("add keep me")
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def attacker() -> Iterator[AttackerSite]:
    site = AttackerSite()
    yield site
    site.close()


def task_titles(stack: Stack) -> list[str]:
    return [task["title"] for task in httpx.get(f"{stack.url}/api/tasks").json()["tasks"]]


def thread_count(stack: Stack) -> int:
    return len(ChatKit(stack.url).threads())


def test_a_cross_site_form_cannot_delete_a_task(
    victim: Stack, attacker: AttackerSite, browsing: Browsing, tmp_path: Path
) -> None:
    threads = thread_count(victim)
    attacker.pages["/form"] = form_page(f"{victim.url}/chatkit", "delete task 1")
    page: Page = browsing.page()

    with page.expect_response(f"{victim.url}/chatkit") as posted:
        page.goto(f"{attacker.url}/form")

    assert posted.value.status == 415
    assert posted.value.request.headers["content-type"] == "text/plain"
    assert task_titles(victim) == ["Keep me"]
    assert thread_count(victim) == threads


def test_no_cors_and_cors_fetches_change_nothing(
    victim: Stack, attacker: AttackerSite, browsing: Browsing
) -> None:
    threads = thread_count(victim)
    page = browsing.page()
    page.goto(f"{attacker.url}/blank")
    outcomes = page.evaluate(
        """async ([url, body]) => {
            const noCors = await fetch(url, {method: "POST", mode: "no-cors", body,
                                             headers: {"Content-Type": "text/plain"}});
            let cors;
            try {
              cors = (await fetch(url, {method: "POST", body,
                                        headers: {"Content-Type": "application/json"}})).status;
            } catch (error) {
              cors = "blocked";
            }
            return {noCors: noCors.type, cors};
        }""",
        [f"{victim.url}/chatkit", attack("delete task 1")],
    )

    assert outcomes == {"noCors": "opaque", "cors": "blocked"}
    assert task_titles(victim) == ["Keep me"]
    assert thread_count(victim) == threads
