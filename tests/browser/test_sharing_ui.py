"""Sharing a list from the tasks panel: the share dialog, member chips, the "shared" mark with
its owner, and "completed by" another member, live on the owner's page."""

import uuid

import pytest
from playwright.sync_api import Page, expect

from shared.auth import mint_jwt
from shared.settings import Settings
from tests.browser.harness import JWT_SECRET, Browsing, Stack, open_app
from tests.browser.test_live_ui import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def signed_in(browsing: Browsing, stack: Stack, user: str) -> Page:
    page = browsing.page(locale="en-US")
    token = mint_jwt(user, Settings(_env_file=None, jwt_secret=JWT_SECRET))
    page.context.add_cookies([{"name": "taskchat_session", "value": token, "url": stack.url}])
    page = open_app(page, f"{stack.url}/?ui=builtin")
    page.wait_for_selector("body[data-live=true]")
    return page


def test_a_shared_list_shows_on_the_members_page_and_their_tick_on_the_owners(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    tag = uuid.uuid4().hex[:6]
    owner, member = f"alice{tag}", f"bob{tag}"
    groceries = f"Groceries {tag}"
    alice = signed_in(browsing, jwt_stack, owner)
    added = alice.evaluate("""(list) => fetch('/api/tasks', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({title: 'Oat milk', list})}).then(r => r.status)""", groceries)
    assert added == 200
    alice.get_by_role("button", name="Refresh").click()
    alice.get_by_label("List", exact=True).select_option(label=groceries)
    alice.get_by_role("button", name=f"Share: {groceries}").click()

    dialog = alice.get_by_role("dialog", name=f"Share “{groceries}”")
    expect(dialog.get_by_label("User id")).to_be_focused()
    dialog.get_by_label("User id").fill(member)
    dialog.get_by_label("Role").select_option("editor")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.locator(".member > span")).to_have_text(["You · owner", f"{member} · can edit"])
    expect(dialog.get_by_role("button", name=f"Remove {member}")).to_be_visible()
    assert axe_violations(alice) == []
    dialog.get_by_role("button", name="Close").click()
    expect(alice.locator(".panel-task", has_text="Oat milk")).to_contain_text("Shared")

    bob = signed_in(browsing, jwt_stack, member)
    milk = bob.locator(".panel-task", has_text="Oat milk")
    expect(milk).to_contain_text(f"Shared by {owner}")
    bob.get_by_role("checkbox", name="Oat milk").click()
    expect(milk).to_have_attribute("data-completed", "true")

    # Live on the owner's page, with who did it.
    owners_row = alice.locator(".panel-task", has_text="Oat milk")
    expect(owners_row).to_have_attribute("data-completed", "true")
    expect(owners_row).to_contain_text(f"Completed by {member}")


def test_local_mode_says_why_it_cannot_share(local_stack: Stack, browsing: Browsing) -> None:
    tag = uuid.uuid4().hex[:6]
    page = open_app(browsing.page(locale="en-US"), f"{local_stack.url}/?ui=builtin")
    page.evaluate("""(list) => fetch('/api/tasks', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({title: 'Bins', list})})""", f"Chores {tag}")
    page.get_by_role("button", name="Refresh").click()
    page.get_by_label("List", exact=True).select_option(label=f"Chores {tag}")
    page.get_by_role("button", name=f"Share: Chores {tag}").click()

    dialog = page.get_by_role("dialog", name=f"Share “Chores {tag}”")
    expect(dialog).to_contain_text("local mode")
    expect(dialog.get_by_label("User id")).to_be_hidden()
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
