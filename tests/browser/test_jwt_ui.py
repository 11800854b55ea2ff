"""The built-in UI with JWT identity: each user's page shows only that user's threads and tasks."""

import pytest
from playwright.sync_api import Page, expect

from shared.auth import mint_jwt
from shared.settings import Settings
from tests.browser.harness import JWT_SECRET, Browsing, Stack, open_app

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def token(user: str) -> str:
    return mint_jwt(user, Settings(_env_file=None, jwt_secret=JWT_SECRET))


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")


def test_a_second_users_page_shows_none_of_the_first_users_threads_or_tasks(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    # Alice brings her token in the URL fragment; the page keeps it in sessionStorage.
    alice = open_app(browsing.page(), f"{jwt_stack.url}/?ui=builtin#token={token('alice')}")
    expect(alice.locator("#user-label")).to_have_text("Signed in as alice")
    assert "token=" not in alice.url
    send(alice, "add buy milk tomorrow")
    expect(alice.locator("#task-list li.panel-task", has_text="Buy milk")).to_have_count(1)
    expect(alice.locator("[data-item-type=widget]")).to_contain_text("Task added")

    # Bob signs in with the session cookie instead, in a browser context of his own.
    bob_page = browsing.page()
    bob_page.context.add_cookies(
        [{"name": "taskchat_session", "value": token("bob"), "url": jwt_stack.url}])
    bob = open_app(bob_page, f"{jwt_stack.url}/?ui=builtin")
    expect(bob.locator("#user-label")).to_have_text("Signed in as bob")
    expect(bob.locator("#threads")).to_contain_text("No chats yet.")
    expect(bob.locator("#tasks-summary")).to_have_text(
        "No tasks yet. Add one here or ask the chat.")
    expect(bob.locator("#task-list li.panel-task")).to_have_count(0)

    # Bob's own turn works over the cookie, and Alice still sees only her task.
    send(bob, "add call the plumber")
    expect(bob.locator("#task-list li.panel-task")).to_have_count(1)
    expect(bob.locator("#task-list li.panel-task")).to_contain_text("Call the plumber")
    alice.reload()
    alice.wait_for_selector("body[data-ready=true]")
    expect(alice.locator("#task-list li.panel-task")).to_have_count(1)
    expect(alice.locator("#task-list li.panel-task")).to_contain_text("Buy milk")
    expect(alice.locator("#threads li")).to_have_count(1)


def test_a_page_without_a_token_asks_the_user_to_sign_in(jwt_stack: Stack, browsing: Browsing
                                                         ) -> None:
    page = browsing.page()
    page.goto(f"{jwt_stack.url}/?ui=builtin")

    # No identity provider configured: the paste-a-token form, first and alone.
    page.wait_for_selector("body[data-ready=signin]")
    expect(page.locator("#signin-reason")).to_have_text("Sign in to see your tasks.")
    expect(page.locator("#signin").get_by_label("Token (JWT)")).to_be_visible()
    expect(page.locator("#notice")).to_be_hidden()
    expect(page.locator("#tasks")).to_be_hidden()


def test_a_pasted_token_signs_the_page_in(jwt_stack: Stack, browsing: Browsing) -> None:
    page = browsing.page()
    page.goto(f"{jwt_stack.url}/?ui=builtin")
    field = page.get_by_label("Token (JWT)")

    field.fill(token("carol"))
    field.press("Enter")

    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#user-label")).to_have_text("Signed in as carol")
    expect(page.locator("#notice")).to_be_hidden()
