"""The built-in chat UI in headless Chromium, against both servers in local mode."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.harness import Browsing, Stack, open_app

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).date().isoformat()


def send(page: Page, text: str) -> None:
    """Type a message and press Enter, as a keyboard user would."""
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")


def panel_task(page: Page, title: str):  # noqa: ANN201 - a Playwright Locator
    return page.locator("#task-list li.panel-task", has_text=title)


def test_page_shows_the_built_in_ui_without_a_label(local_stack: Stack, browsing: Browsing) -> None:
    page = open_app(browsing.page(), f"{local_stack.url}/?ui=builtin")

    expect(page.locator("#ui-label")).to_be_hidden()
    expect(page.locator("body")).to_have_attribute("data-ui", "builtin")
    expect(page.locator("#user-label")).to_have_text("Local mode")


def test_add_complete_and_reload(local_stack: Stack, browsing: Browsing) -> None:
    page = open_app(browsing.page(), f"{local_stack.url}/?ui=builtin")
    page.get_by_role("button", name="New chat").click()
    with page.expect_response(lambda r: r.url.endswith("/chatkit")
                              and r.request.method == "POST") as turn:
        send(page, "add buy milk tomorrow")
    assert turn.value.headers["content-type"].startswith("text/event-stream")

    # The streamed reply, the tool activity, the widget and the tasks panel.
    reply = page.locator("[data-item-type=assistant_message]").last
    expect(reply).to_contain_text(re.compile("buy milk", re.I))
    expect(page.locator("[data-item-type=workflow]")).to_have_text("✓Added “Buy milk”")
    card = page.locator("[data-item-type=widget]").last
    expect(card).to_contain_text("Task added")
    expect(card).to_contain_text("Due Tomorrow")
    milk = panel_task(page, "Buy milk")
    expect(milk).to_have_attribute("data-completed", "false")
    expect(milk).to_contain_text("Tomorrow")
    expect(page.locator("#threads li.current")).to_contain_text("add buy milk tomorrow")

    # Complete it from the widget: the widget updates in place, the panel follows.
    card.get_by_role("button", name="Complete: Buy milk").click()
    expect(card).to_contain_text("Task completed")
    expect(card.get_by_role("button", name="Reopen: Buy milk")).to_be_visible()
    expect(milk).to_have_attribute("data-completed", "true")
    expect(page.locator("[data-item-type=widget]")).to_have_count(1)

    # After a reload the thread, its (updated) widget and the tasks are all still there.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("[data-item-type=user_message]")).to_have_text("add buy milk tomorrow")
    expect(page.locator("[data-item-type=assistant_message]")).to_contain_text(
        re.compile("buy milk", re.I))
    expect(page.locator("[data-item-type=widget]")).to_contain_text("Task completed")
    expect(panel_task(page, "Buy milk")).to_have_attribute("data-completed", "true")


def test_reopen_and_delete_from_a_task_list_widget(local_stack: Stack, browsing: Browsing
                                                   ) -> None:
    page = open_app(browsing.page(), f"{local_stack.url}/?ui=builtin")
    page.get_by_role("button", name="New chat").click()
    send(page, "add water the plants")
    expect(panel_task(page, "Water the plants")).to_have_count(1)
    send(page, "show my tasks")
    listing = page.locator("[data-item-type=widget]:has([data-widget=ListView])")
    expect(listing).to_contain_text("Water the plants")

    listing.get_by_role("button", name="Delete: Water the plants").click()

    expect(listing.locator("li", has_text="Water the plants")).to_contain_text("Deleted")
    expect(panel_task(page, "Water the plants")).to_have_count(0)


def test_threads_can_be_created_switched_renamed_and_deleted(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = open_app(browsing.page(), f"{local_stack.url}/?ui=builtin")
    page.get_by_role("button", name="New chat").click()
    send(page, "show my tasks")
    first = page.locator("#threads li.current")
    expect(first).to_contain_text("show my tasks")
    page.get_by_role("button", name="New chat").click()
    send(page, "what's due this week?")
    expect(page.locator("#threads li.current")).to_contain_text("what's due this week?")

    # Switch back to the first chat.
    page.locator("#threads").get_by_role("button", name="show my tasks", exact=True).click()
    expect(page.locator("[data-item-type=user_message]")).to_have_text("show my tasks")

    # Rename it with the keyboard.
    page.get_by_role("button", name="Rename chat: show my tasks").click()
    title = page.get_by_label("New chat title")
    title.fill("Weekly review")
    title.press("Enter")
    expect(page.locator("#threads li.current")).to_contain_text("Weekly review")

    # Delete it (the confirm dialog is accepted): the list no longer has it, even after reload.
    page.get_by_role("button", name="Delete chat: Weekly review").click()
    expect(page.locator("#threads")).not_to_contain_text("Weekly review")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator("#threads")).not_to_contain_text("Weekly review")
    expect(page.locator("#threads")).to_contain_text("what's due this week?")


def test_phone_width_keeps_the_chat_usable_and_opens_tasks_from_the_top_bar(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = open_app(browsing.page(viewport={"width": 390, "height": 800}),
                    f"{local_stack.url}/?ui=builtin")
    expect(page.get_by_label("Message")).to_be_visible()
    expect(page.locator("#tasks")).to_be_hidden()

    toggle = page.get_by_role("button", name="Tasks", exact=True)
    toggle.click()

    expect(page.locator("#tasks")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_widget_buttons_work_from_the_keyboard_and_keep_focus(local_stack: Stack,
                                                              browsing: Browsing) -> None:
    page = open_app(browsing.page(), f"{local_stack.url}/?ui=builtin")
    page.get_by_role("button", name="New chat").click()
    send(page, "add sort the post")
    card = page.locator("[data-item-type=widget]").last
    complete = card.get_by_role("button", name="Complete: Sort the post")

    complete.focus()
    page.keyboard.press("Enter")

    reopen = card.get_by_role("button", name="Reopen: Sort the post")
    expect(reopen).to_be_focused()
    page.keyboard.press("Enter")
    expect(card.get_by_role("button", name="Complete: Sort the post")).to_be_focused()
    expect(panel_task(page, "Sort the post")).to_have_attribute("data-completed", "false")


def test_an_earlier_card_of_a_task_deleted_later_is_marked_gone_with_its_buttons_off(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = open_app(browsing.page(), f"{local_stack.url}/?ui=builtin")
    page.get_by_role("button", name="New chat").click()
    send(page, "add feed the cat")
    stale = page.locator("[data-item-type=widget]").first
    expect(stale).to_contain_text("Task added")
    send(page, "delete the feed the cat task")
    expect(page.locator("[data-item-type=widget]").last).to_contain_text("Task deleted")
    expect(panel_task(page, "Feed the cat")).to_have_count(0)

    expect(stale).to_contain_text("Deleted")
    expect(stale.get_by_role("button", name="Complete: Feed the cat")).to_be_disabled()
    expect(stale.get_by_role("button", name="Delete: Feed the cat")).to_be_disabled()
