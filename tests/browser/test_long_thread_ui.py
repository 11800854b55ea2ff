"""A long chat in the built-in UI: the newest page first, older ones on scrolling up, the
DOM bounded however long the thread, and a second tab that follows the chat."""

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
)
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from chat_server.conversation.store import SQLStore
from chat_server.conversation.widgets import task_card
from shared.auth import Principal, mint_jwt
from shared.settings import Settings
from tests.browser.harness import JWT_SECRET, Browsing, Stack, open_app
from tests.chat_server.fakes import make_task

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

TURNS = 250  # a user message and a reply each: 500 messages, and a card every tenth turn
NODE_BOUND = 4000  # a new chat's page has about 400 elements; 500 messages drawn, 9,000+


def turn_items(thread_id: str, turn: int) -> list[ThreadItem]:
    """One seeded turn: 'message N', 'reply N', and every tenth turn a task card."""
    now = datetime.now()
    items: list[ThreadItem] = [
        UserMessageItem(id=f"msg_{turn:04d}_u", thread_id=thread_id, created_at=now,
                        content=[UserMessageTextContent(text=f"message {turn:04d}")],
                        attachments=[], inference_options={}),
        AssistantMessageItem(id=f"msg_{turn:04d}_a", thread_id=thread_id, created_at=now,
                             content=[AssistantMessageContent(text=f"reply {turn:04d}")]),
    ]
    if turn % 10 == 0:
        card = task_card(make_task(90_000 + turn, f"Seeded task {turn}"), status="Task added")
        items.append(WidgetItem(id=f"msg_{turn:04d}_w", thread_id=thread_id, created_at=now,
                                widget=card))
    return items


def seed_long_thread(stack: Stack, user_id: str) -> str:
    """A thread of TURNS turns for `user_id`, written through the chat server's own store."""

    async def seed() -> str:
        engine = create_engine(stack.env["DATABASE_URL"])
        store, user = SQLStore(engine), Principal(user_id)
        thread = ThreadMetadata(id=store.generate_thread_id(user), created_at=datetime.now(),
                                title="A long chat")
        await store.save_thread(thread, user)
        for turn in range(1, TURNS + 1):
            for item in turn_items(thread.id, turn):
                await store.add_thread_item(thread.id, item, user)
        engine.dispose()
        return thread.id

    # Playwright's sync API holds this thread's event loop: the seeding runs on its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, seed()).result()


def open_as(browsing: Browsing, stack: Stack, user_id: str) -> Page:
    token = mint_jwt(user_id, Settings(_env_file=None, jwt_secret=JWT_SECRET))
    return open_app(browsing.page(viewport={"width": 1280, "height": 860}),
                    f"{stack.url}/?ui=builtin#token={token}")


def element_count(page: Page) -> int:
    return int(page.evaluate("document.getElementsByTagName('*').length"))


def scroll_to_top(page: Page) -> None:
    page.locator("#messages").evaluate("log => { log.scrollTop = 0; }")


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")


def test_a_500_message_thread_opens_at_its_end_and_loads_older_messages_on_scrolling_up(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    user = f"reader-{uuid.uuid4().hex[:8]}"
    seed_long_thread(jwt_stack, user)
    page = open_as(browsing, jwt_stack, user)
    items = page.locator("#messages [data-item-id]")

    # The reload shows the newest page, scrolled to its end, with a way to older ones.
    expect(page.get_by_text("reply 0250", exact=True)).to_be_in_viewport()
    shown = items.count()
    assert 20 <= shown <= 60
    expect(page.get_by_text("message 0001", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Show older messages")).to_be_attached()

    # Scrolling up loads the page before, and what was at the top stays on screen.
    oldest = items.first
    oldest_text = oldest.inner_text()
    scroll_to_top(page)
    expect(items).not_to_have_count(shown)
    assert items.count() > shown
    expect(page.get_by_text(oldest_text, exact=True)).to_be_in_viewport()

    # Further up, page after page, until a message from the middle of the thread shows.
    middle = page.get_by_text("message 0150", exact=True)
    for _ in range(10):
        if middle.count():
            break
        before = items.count()
        scroll_to_top(page)
        expect(items).not_to_have_count(before)
    expect(middle).to_have_count(1)
    assert element_count(page) < NODE_BOUND

    # A reply in the long thread: shown at the end, and the page stays bounded.
    send(page, "add water the plants")
    expect(page.locator("[data-item-type=assistant_message]").last).to_contain_text(
        re.compile("water the plants", re.I))
    expect(page.locator("[data-item-type=widget]").last).to_contain_text("Task added")
    expect(page.get_by_text("add water the plants", exact=True)).to_be_in_viewport()
    assert element_count(page) < NODE_BOUND
    assert items.count() <= 160


def test_a_second_tab_sees_the_chat_change_and_cards_follow_an_undo(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    user = f"twotabs-{uuid.uuid4().hex[:8]}"
    first = open_as(browsing, jwt_stack, user)
    send(first, "add call the plumber")
    card = first.locator("[data-item-type=widget]").last
    expect(card).to_contain_text("Task added")

    second = open_as(browsing, jwt_stack, user)
    expect(second.locator("[data-item-type=user_message]")).to_have_text(
        ["add call the plumber"])

    # A turn in the first tab appears in the second, which sent nothing.
    send(first, "complete call the plumber")
    expect(second.locator("[data-item-type=user_message]")).to_have_text(
        ["add call the plumber", "complete call the plumber"])
    expect(second.locator("[data-item-type=widget]").last).to_contain_text("Task completed")

    # Undone from the panel: the cards say what is true now, not what last happened.
    first.locator("#task-list li.panel-task", has_text="Call the plumber").get_by_role(
        "checkbox").uncheck()
    done_card = first.locator("[data-item-type=widget]").last
    expect(done_card.locator(".w-status")).to_have_text("Task reopened")
    expect(done_card.get_by_role("button", name="Complete: Call the plumber")).to_be_visible()


def test_a_delete_from_a_chat_card_can_be_undone_and_brings_back_the_same_task(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    user = f"undoer-{uuid.uuid4().hex[:8]}"
    page = open_as(browsing, jwt_stack, user)
    send(page, "add renew the passport")
    card = page.locator("[data-item-type=widget]").last
    expect(card.locator(".w-status")).to_have_text("Task added")
    row = page.locator("#task-list li.panel-task", has_text="Renew the passport")
    task_id = row.get_attribute("data-task-id")

    card.get_by_role("button", name="Delete: Renew the passport").click()
    expect(card.locator(".w-status")).to_have_text("Task deleted")
    expect(row).to_have_count(0)

    card.get_by_role("button", name="Undo: Renew the passport").click()
    expect(card.locator(".w-status")).to_have_text("Task restored")
    expect(card.get_by_role("button", name="Complete: Renew the passport")).to_be_enabled()
    # The same task, not a copy: its id is the one it had.
    expect(row).to_have_attribute("data-task-id", task_id or "?")


def test_long_words_stay_inside_the_chat_and_right_to_left_titles_read_right_to_left(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    user = f"wide-{uuid.uuid4().hex[:8]}"
    page = open_as(browsing, jwt_stack, user)
    word = "x" * 180
    send(page, f"add {word}")
    expect(page.locator("[data-item-type=widget]").last).to_contain_text("Task added")
    send(page, "add اشتري الحليب")
    expect(page.locator("[data-item-type=widget]").last).to_contain_text("اشتري الحليب")

    # Nothing in the conversation is wider than the conversation.
    overflowing = page.locator("#messages").evaluate("""log => [...log.querySelectorAll(
        '.wf-content, .w-title, .w-status, .msg p, .progress')]
        .filter((node) => node.scrollWidth > log.clientWidth).length""")
    assert overflowing == 0
    assert page.locator("#messages").evaluate("log => log.scrollWidth <= log.clientWidth")
    # The browser picks each line's direction from its own text.
    title = page.locator("[data-item-type=widget]").last.locator(".w-title")
    expect(title).to_have_attribute("dir", "auto")
    expect(title).to_have_css("direction", "rtl")
    # ("add ..." starts with a left-to-right word, so the message itself reads ltr.)
    expect(page.locator("[data-item-type=user_message] p").last).to_have_attribute("dir", "auto")
