"""Issue 23's "Done when", with every part real: both servers in JWT mode, each user with their
own token, working on one shared list at once from an MCP client (the official client over
streamable HTTP), an open page (Chromium) and the terminal client (`python -m taskchat_cli`
against the chat server).

ann shares her groceries through MCP; bob's open page shows the list and, live, what ann
adds; bob completes a task from his terminal and ann's MCP client sees it done by bob; cat, a
viewer, is refused in clear words and nothing changes; once ann unshares, bob's page no longer
hears the list, and on reloading it shows none of the list's tasks.
"""

import asyncio
import os
import re
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from playwright.sync_api import Page, expect

from shared.auth import mint_jwt
from shared.settings import Settings
from tests.browser.harness import JWT_SECRET, Browsing, Stack, open_app

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def token(user: str) -> str:
    return mint_jwt(user, Settings(_env_file=None, jwt_secret=JWT_SECRET))


def mcp(stack: Stack, user: str, tool: str, **args: Any) -> Any:
    """One tool call by `user`, over HTTP with their token; the result, or the refusal.

    In a thread of its own: Playwright's sync API keeps an asyncio loop on this one."""

    async def call() -> Any:
        headers = {"Authorization": f"Bearer {token(user)}"}
        async with create_mcp_http_client(headers=headers) as http:
            transport = streamable_http_client(f"{stack.mcp.base_url}/mcp", http_client=http)
            async with Client(transport) as client:
                result = await client.call_tool(tool, args)
                return result.is_error, result.structured_content, str(result.content)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, call()).result(timeout=60)


def ok(stack: Stack, user: str, tool: str, **args: Any) -> Any:
    is_error, content, text = mcp(stack, user, tool, **args)
    assert not is_error, text
    return content


def terminal(stack: Stack, user: str, *args: str) -> str:
    """`taskchat --url … --token … ARGS` as its own process; what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKCHAT_")}
    done = subprocess.run(
        [sys.executable, "-m", "taskchat_cli", "--url", stack.url, "--token", token(user), *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def signed_in(browsing: Browsing, stack: Stack, user: str) -> Page:
    page = browsing.page(locale="en-US")
    page.context.add_cookies(
        [{"name": "taskchat_session", "value": token(user), "url": stack.url}])
    page = open_app(page, f"{stack.url}/?ui=builtin")
    page.wait_for_selector("body[data-live=true]")
    return page


def test_two_users_share_a_list_from_mcp_the_page_and_the_terminal(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    tag = uuid.uuid4().hex[:6]
    ann, bob, cat = f"ann{tag}", f"bob{tag}", f"cat{tag}"
    groceries = f"Groceries {tag}"
    milk = ok(jwt_stack, ann, "add_task", title="Oat milk", list=groceries)["task"]
    ok(jwt_stack, ann, "share_list", list=groceries, user_id=bob, role="editor")
    ok(jwt_stack, ann, "share_list", list=groceries, user_id=cat, role="viewer")

    # Both pages open; bob's, opened after the share, shows the list as ann's.
    anns_rows = signed_in(browsing, jwt_stack, ann).locator("#task-list li.panel-task")
    page = signed_in(browsing, jwt_stack, bob)
    rows = page.locator("#task-list li.panel-task")
    expect(rows.filter(has_text="Oat milk")).to_contain_text(f"Shared by {ann}")

    # What ann adds and changes through MCP reaches bob's open page live.
    bread = ok(jwt_stack, ann, "add_task", title="Bread", list=groceries)["task"]
    expect(rows.filter(has_text="Bread")).to_have_count(1)
    ok(jwt_stack, ann, "update_task", task_id=bread["id"], title="Rye bread")
    expect(rows.filter(has_text="Rye bread")).to_have_count(1)

    # bob completes the milk from his terminal; ann's MCP client sees who did it.
    said = terminal(jwt_stack, bob, "-m", f"mark task {milk['id']} as complete")
    assert "Completed “Oat milk”" in said, said
    seen = {t["id"]: t for t in ok(jwt_stack, ann, "list_tasks", status="all")["tasks"]}
    assert (seen[milk["id"]]["completed"], seen[milk["id"]]["changed_by"]) == (True, bob)
    for row in rows.filter(has_text="Oat milk"), anns_rows.filter(has_text="Oat milk"):
        expect(row).to_have_attribute("data-completed", "true")
    expect(anns_rows.filter(has_text="Oat milk")).to_contain_text(f"Completed by {bob}")
    listing = terminal(jwt_stack, bob, "tasks")
    assert f"{groceries} (shared by {ann}; you: editor)" in listing, listing

    # cat may only read: a write is refused in words that say why, and nothing changes.
    is_error, _, text = mcp(jwt_stack, cat, "complete_task", task_id=bread["id"])
    assert is_error and "shared with you as a viewer" in text, text
    said = terminal(jwt_stack, cat, "-m", f"mark task {bread['id']} as complete")
    assert "shared with you as a viewer" in said and "nothing was changed" in said, said
    assert ok(jwt_stack, ann, "get_task", task_id=bread["id"])["completed"] is False

    # Unshared, bob's page stops hearing the list: ann's next task never shows there, while
    # bob's own task, added after it, does.
    ok(jwt_stack, ann, "unshare_list", list=groceries, user_id=bob)
    ok(jwt_stack, ann, "add_task", title="Eggs", list=groceries)
    terminal(jwt_stack, bob, "-m", "add call the plumber")
    expect(rows.filter(has_text="Call the plumber")).to_have_count(1)
    expect(rows.filter(has_text="Eggs")).to_have_count(0)
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(rows).to_have_text([re.compile("Call the plumber")])
