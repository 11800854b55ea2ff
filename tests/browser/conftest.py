"""Fixtures for the browser tests: Chromium, both servers (local and JWT mode), guarded pages."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.harness import (
    CHROMIUM_ARGS,
    JWT_SECRET,
    SERVICE_TOKEN,
    Browsing,
    Stack,
    chromium_path,
    start_stack,
)

# Real servers on a 2-core machine: give slow turns room before an assertion fails.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers in single-user local mode (no JWT_SECRET)."""
    stack = start_stack(tmp_path_factory.mktemp("local"), JWT_SECRET="", MCP_SERVICE_TOKEN="")
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def jwt_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers with JWT identity: users bring tokens, the chat server a service token."""
    stack = start_stack(tmp_path_factory.mktemp("jwt"), JWT_SECRET=JWT_SECRET,
                        MCP_SERVICE_TOKEN=SERVICE_TOKEN)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: Playwright's sync API keeps an asyncio loop running while
    # it is open, and pytest-asyncio's tests in later modules cannot start theirs under it.
    path = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browsing(browser: Browser) -> Iterator[Browsing]:
    browsing = Browsing(browser)
    yield browsing
    for context in browsing.contexts:
        context.close()
    assert browsing.guard.refused == [], "the page tried to reach another host"
