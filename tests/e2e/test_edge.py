"""End to end: what both servers refuse at their HTTP edge, as real processes over real HTTP."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import Stack, running_stack, user_input

pytestmark = pytest.mark.e2e

CREATE = {"type": "threads.create", "params": {"input": user_input("add buy milk")}}


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers in the default mode: local, no sign-in, SQLite."""
    database = tmp_path_factory.mktemp("edge") / "taskchat.db"
    with running_stack(f"sqlite:///{database}", JWT_SECRET="", MCP_SERVICE_TOKEN="") as stack:
        yield stack


def chat_url(stack: Stack) -> str:
    assert stack.chat is not None
    return stack.chat.base_url


def thread_count(stack: Stack) -> int:
    return len(stack.client().threads())


def test_dns_rebinding_host_is_refused_by_both_servers(local_stack: Stack) -> None:
    assert local_stack.mcp is not None
    rebound = {"Host": "rebind.attacker.example:8000"}
    tasks = httpx.get(f"{chat_url(local_stack)}/api/tasks", headers=rebound)
    page = httpx.get(f"{chat_url(local_stack)}/", headers=rebound)
    mcp = httpx.post(
        f"{local_stack.mcp.base_url}/mcp", headers={**rebound, "Content-Type": "application/json"},
        content=b"{}",
    )

    assert (tasks.status_code, page.status_code, mcp.status_code) == (421, 421, 421)
    assert tasks.json()["error"] == "misdirected_request"


def test_a_form_style_text_plain_post_changes_nothing(local_stack: Stack) -> None:
    before = thread_count(local_stack)
    # What a cross-site <form enctype="text/plain"> or fetch(..., {mode: "no-cors"}) sends.
    response = httpx.post(
        f"{chat_url(local_stack)}/chatkit",
        content=httpx.Request("POST", "/", json=CREATE).content,
        headers={"Content-Type": "text/plain", "Origin": "http://evil.invalid",
                 "Sec-Fetch-Site": "cross-site"},
    )

    assert response.status_code == 415
    assert thread_count(local_stack) == before


def test_json_from_another_origin_is_refused(local_stack: Stack) -> None:
    before = thread_count(local_stack)
    other_port = "http://127.0.0.1:1"
    response = httpx.post(
        f"{chat_url(local_stack)}/chatkit", json=CREATE, headers={"Origin": other_port}
    )

    assert response.status_code == 403
    assert response.json()["message"] == f"requests from origin {other_port!r} are refused"
    assert thread_count(local_stack) == before


def test_same_origin_page_and_terminal_requests_work(local_stack: Stack) -> None:
    url = chat_url(local_stack)
    from_page = httpx.post(
        f"{url}/chatkit", json={"type": "threads.list", "params": {}},
        headers={"Origin": url, "Sec-Fetch-Site": "same-origin"},
    )
    turn = local_stack.client().create("add buy milk")

    assert from_page.status_code == 200
    assert "buy milk" in turn.reply.lower()


def test_every_response_forbids_framing_and_docs_are_off(local_stack: Stack) -> None:
    url = chat_url(local_stack)
    for ui in ("auto", "builtin", "chatkit"):
        page = httpx.get(f"{url}/?ui={ui}")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
    assert httpx.get(f"{url}/docs").status_code == 404
    assert httpx.get(f"{url}/openapi.json").status_code == 404


def test_chat_allowed_hosts_lets_a_proxy_name_through(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'proxy.db'}"
    with running_stack(database, CHAT_ALLOWED_HOSTS="tasks.example.com") as stack:
        url = chat_url(stack)
        proxied = httpx.get(f"{url}/api/tasks", headers={"Host": "tasks.example.com"})
        stranger = httpx.get(f"{url}/api/tasks", headers={"Host": "evil.example.com"})
        posted = httpx.post(
            f"{url}/chatkit", json={"type": "threads.list", "params": {}},
            headers={"Host": "tasks.example.com", "Origin": "https://tasks.example.com"},
        )

    assert (proxied.status_code, stranger.status_code, posted.status_code) == (200, 421, 200)
