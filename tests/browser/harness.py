"""Helpers for the browser tests: both real servers, and guarded Chromium pages.

Every browser context refuses, and records, any request that is not for 127.0.0.1, and
Chromium resolves no other host; tests assert nothing tried to leave the machine.
"""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from testbed.servers import Server, free_port, start_server

JWT_SECRET = "browser-test-secret-long-enough-for-hs256"
SERVICE_TOKEN = "browser-test-service-token-of-32-chars-or-more"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's Chromium; .ci/run installs it. Missing: skip locally, fail in CI."""
    path = os.environ.get("TASKCHAT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "Chromium is not installed: apt-get install -y chromium (see docs/browser.md)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Stack:
    """An MCP server and a chat server on one SQLite database."""

    mcp: Server
    chat: Server
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.chat.base_url

    def stop(self) -> None:
        """Stop the chat server, then the MCP server."""
        self.chat.stop()
        self.mcp.stop()


def start_stack(tmp: Path, **extra: str) -> Stack:
    """Start `python -m mcp_server` then `python -m chat_server`, as ./scripts/start does."""
    mcp_port, chat_port = free_port(), free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'taskchat.db'}",
        "TASKCHAT_MODEL": "offline",
        "TASKCHAT_TIMEZONE": "UTC",
        "RATE_LIMIT": "1000/minute",
        "MCP_PORT": str(mcp_port),
        "CHAT_PORT": str(chat_port),
        "MCP_SERVER_URL": f"http://127.0.0.1:{mcp_port}/mcp",
        # Never OpenAI's CDN in tests: a local address nothing listens on, which a test may
        # answer itself with a stand-in component.
        "CHATKIT_SCRIPT_URL": f"http://127.0.0.1:{free_port()}/chatkit.js",
        "CHATKIT_DOMAIN_KEY": "domain_pk_browser_test",
        **extra,
    }
    mcp = start_server("mcp_server", env, mcp_port)
    try:
        chat = start_server("chat_server", env, chat_port, timeout=60)
    except Exception:
        mcp.stop()
        raise
    return Stack(mcp, chat, env)


@dataclass
class Guard:
    """Requests the page tried to send anywhere but 127.0.0.1 (all refused)."""

    refused: list[str] = field(default_factory=list)

    def __call__(self, route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1" or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort("blockedbyclient")


@dataclass
class Browsing:
    """Opens isolated browser contexts (separate cookies and storage), each guarded."""

    browser: Browser
    guard: Guard = field(default_factory=Guard)
    contexts: list[BrowserContext] = field(default_factory=list)

    def page(self, **options: Any) -> Page:
        context = self.browser.new_context(**options)
        context.route("**/*", self.guard)
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        return page


def open_app(page: Page, url: str) -> Page:
    """Load the page with the built-in UI and wait until it has loaded its threads."""
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    return page
