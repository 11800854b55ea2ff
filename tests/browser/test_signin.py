"""Signing in from the browser in JWT mode: a real OpenID Connect provider process (panva's
oidc-provider, testbed/oidc/), both real servers, and headless Chromium."""

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from shared.auth import mint_jwt
from shared.settings import Settings
from testbed.oidc_provider import start_oidc_provider
from testbed.servers import Server, free_port
from tests.browser.harness import JWT_SECRET, SERVICE_TOKEN, Browsing, Stack, start_stack
from tests.browser.test_live_ui import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CLIENT_ID = "taskchat-browser-test"
CLIENT_SECRET = "browser-test-client-secret"
# Requests a signed-out page must not make: each would fail and show an error.
SIGNED_IN_ONLY = ("/api/tasks", "/api/events", "/chatkit", "/api/me")


@pytest.fixture(scope="module")
def signin_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Server]]:
    """Both servers in JWT mode with OIDC configured, and the provider they send users to."""
    provider_port = free_port()
    stack = start_stack(
        tmp_path_factory.mktemp("signin"),
        JWT_SECRET=JWT_SECRET,
        MCP_SERVICE_TOKEN=SERVICE_TOKEN,
        OIDC_ISSUER=f"http://127.0.0.1:{provider_port}",
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_PROVIDER_NAME="Test ID",
    )
    try:
        provider = start_oidc_provider(
            provider_port, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
            redirect_uri=f"{stack.url}/auth/callback",
        )
    except BaseException:
        stack.stop()
        raise
    yield stack, provider
    provider.stop()
    stack.stop()


def watch_requests(page: Page) -> list[str]:
    """Paths the page asks this server for, in order."""
    seen: list[str] = []

    def record(request: Request) -> None:
        seen.append(urlsplit(request.url).path)

    page.on("request", record)
    return seen


def expect_signed_out(page: Page, reason: str) -> None:
    """Only the sign-in shows: no chats, no tasks panel, no banner."""
    page.wait_for_selector("body[data-ready=signin]")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-reason")).to_have_text(reason)
    expect(page.locator("#notice")).to_be_hidden()
    expect(page.locator("#tasks")).to_be_hidden()
    expect(page.locator("#chat")).to_be_hidden()


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")


def test_a_user_signs_in_through_the_provider_adds_a_task_and_signs_out(
    signin_stack: tuple[Stack, Server], browsing: Browsing
) -> None:
    stack, provider = signin_stack
    page = browsing.page()
    requests = watch_requests(page)
    page.goto(f"{stack.url}/?ui=builtin")

    # First thing seen: the sign-in, and nothing that fails for want of it.
    expect_signed_out(page, "Sign in to see your tasks.")
    assert not [path for path in requests if path.startswith(SIGNED_IN_ONLY)], requests
    expect(page.locator("body")).not_to_contain_text("reconnecting")
    expect(page.locator("body")).not_to_contain_text("Could not load your tasks")

    # The provider's login page asks Google for a font; answered here, nothing leaves the machine.
    page.route("https://fonts.googleapis.com/**",
               lambda route: route.fulfill(body="", content_type="text/css"))
    page.get_by_role("link", name="Sign in with Test ID").click()

    # The provider's own login form (oidc-provider's built-in one).
    page.wait_for_url(f"{provider.base_url}/**")
    page.locator("input[name=login]").fill("alice")
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()

    # Back on the page, signed in as the provider's user, with the view it started from.
    page.wait_for_selector("body[data-ready=true]")
    assert page.url == f"{stack.url}/?ui=builtin"
    expect(page.locator("#user-label")).to_have_text("Signed in as alice")
    expect(page.locator("#notice")).to_be_hidden()
    cookies = {c["name"]: c for c in page.context.cookies(stack.url)}
    assert cookies["taskchat_session"]["httpOnly"] is True
    assert cookies["taskchat_session"]["sameSite"] == "Strict"
    assert "taskchat_signin" not in cookies  # the sign-in in progress is spent

    send(page, "add buy milk tomorrow")
    expect(page.locator("#task-list li.panel-task", has_text="Buy milk")).to_have_count(1)
    expect(page.locator("[data-item-type=widget]")).to_contain_text("Task added")

    page.get_by_role("button", name="Sign out").click()
    expect_signed_out(page, "You have signed out.")
    assert "taskchat_session" not in {c["name"] for c in page.context.cookies(stack.url)}


def test_an_expired_sign_in_leads_back_to_the_sign_in_with_a_clear_line(
    signin_stack: tuple[Stack, Server], browsing: Browsing
) -> None:
    stack, _ = signin_stack
    settings = Settings(_env_file=None, jwt_secret=JWT_SECRET)
    page = browsing.page()
    # A session that runs out a few seconds after the page has loaded with it.
    page.context.add_cookies([{
        "name": "taskchat_session", "value": mint_jwt("dora", settings, ttl_seconds=4),
        "url": stack.url,
    }])
    page.goto(f"{stack.url}/?ui=builtin")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#user-label")).to_have_text("Signed in as dora")

    expect(page.locator("#signin-reason")).to_have_text(
        "Your sign-in has expired. Please sign in again.", timeout=20_000)
    expect_signed_out(page, "Your sign-in has expired. Please sign in again.")
    expect(page.get_by_role("link", name="Sign in with Test ID")).to_be_visible()

    # A reload keeps saying so while the browser still holds the expired session.
    page.reload()
    expect_signed_out(page, "Your sign-in has expired. Please sign in again.")


def test_the_sign_in_page_has_no_accessibility_violations(
    signin_stack: tuple[Stack, Server], browsing: Browsing
) -> None:
    stack, _ = signin_stack
    page = browsing.page()
    page.goto(f"{stack.url}/?ui=builtin")
    page.wait_for_selector("body[data-ready=signin]")
    assert axe_violations(page) == []
