"""The page people keep open all day: live updates, the tasks panel, markdown, dates, dark
mode, phone sheets, reminders, errors, focus and axe, in headless Chromium."""

import asyncio
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from playwright.sync_api import Locator, Page, expect

from tests.browser.harness import Browsing, Stack, open_app

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SERIOUS = ("moderate", "serious", "critical")


def mcp_call(stack: Stack, tool: str, **args: Any) -> Any:
    """Another agent's call, straight to the MCP server (official client, own thread)."""
    url = f"{stack.mcp.base_url}/mcp"
    result: dict[str, Any] = {}

    async def call() -> None:
        async with Client(streamable_http_client(url)) as client:  # type: ignore[arg-type]
            answer = await client.call_tool(tool, args)
            assert not answer.is_error, answer.content
            result["value"] = answer.structured_content

    # Playwright's sync API owns this thread's event loop.
    thread = threading.Thread(target=lambda: asyncio.run(call()))
    thread.start()
    thread.join(30)
    return result["value"]


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


def panel_task(page: Page, title: str) -> Locator:
    return page.locator("#task-list li.panel-task", has_text=title)


def send(page: Page, text: str) -> None:
    box = page.get_by_label("Message")
    box.fill(text)
    box.press("Enter")


def live_app(page: Page, url: str) -> Page:
    open_app(page, f"{url}/?ui=builtin")
    page.wait_for_selector("body[data-live=true]")
    return page


def axe_violations(page: Page) -> list[str]:
    """axe-core's findings of moderate impact or worse, one line each."""
    # A sheet or banner still sliding in is half transparent: axe would measure its colours
    # mid-transition (the phone layout's tasks sheet did, on a loaded machine).
    page.evaluate(
        "Promise.all(document.getAnimations()"
        ".filter(a => a.effect?.getComputedTiming().iterations !== Infinity)"
        ".map(a => a.finished.catch(() => null)))"
    )
    page.evaluate(AXE)
    found = page.evaluate("axe.run(document).then(r => r.violations)")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
            for v in found if v["impact"] in SERIOUS]


def test_a_task_another_agent_adds_appears_in_the_panel_without_a_refresh(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = live_app(browsing.page(), local_stack.url)
    title = unique("Water the ferns")

    added = mcp_call(local_stack, "add_task", title=title)
    expect(panel_task(page, title)).to_have_count(1, timeout=3000)

    mcp_call(local_stack, "complete_task", task_id=added["task_id"])
    expect(panel_task(page, title)).to_have_attribute("data-completed", "true", timeout=3000)
    mcp_call(local_stack, "delete_task", task_id=added["task_id"])
    expect(panel_task(page, title)).to_have_count(0, timeout=3000)


def test_a_widget_already_shown_follows_changes_made_elsewhere(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = live_app(browsing.page(), local_stack.url)
    page.get_by_role("button", name="New chat").click()
    send(page, "add oil the hinges")
    card = page.locator("[data-item-type=widget]").last
    expect(card.get_by_role("button", name="Complete: Oil the hinges")).to_be_visible()
    task_id = int(panel_task(page, "Oil the hinges").first.get_attribute("data-task-id") or 0)

    mcp_call(local_stack, "complete_task", task_id=task_id)
    expect(card).to_contain_text("Done")
    expect(card.get_by_role("button", name="Reopen: Oil the hinges")).to_be_visible()

    mcp_call(local_stack, "delete_task", task_id=task_id)
    expect(card).to_contain_text("Deleted")
    for button in card.get_by_role("button").all():
        expect(button).to_be_disabled()


def test_a_checkbox_completes_a_task_and_undo_reopens_it(
    local_stack: Stack, browsing: Browsing
) -> None:
    title = unique("Post the letter")
    mcp_call(local_stack, "add_task", title=title)
    page = live_app(browsing.page(), local_stack.url)

    box = page.get_by_role("checkbox", name=title)
    box.check()
    expect(panel_task(page, title)).to_have_attribute("data-completed", "true")
    expect(page.locator("[data-group=done]")).to_contain_text(title)
    toast = page.locator("#toast")
    expect(toast).to_contain_text(f"Completed “{title}”")

    toast.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("checkbox", name=title)).not_to_be_checked()
    expect(panel_task(page, title)).to_have_attribute("data-completed", "false")


def test_quick_add_with_a_date_and_time_lands_under_upcoming_as_tomorrow(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = live_app(browsing.page(timezone_id="Pacific/Auckland"), local_stack.url)
    title = unique("Book the dentist")
    tomorrow = page.evaluate(
        "(() => { const d = new Date(); d.setDate(d.getDate() + 1);"
        " return d.toLocaleDateString('en-CA'); })()")

    page.get_by_label("New task", exact=True).fill(title)
    page.get_by_label("Due date").fill(tomorrow)
    page.get_by_label("Due time").fill("09:30")
    page.get_by_role("button", name="Add", exact=True).click()

    row = panel_task(page, title)
    expect(row).to_contain_text("Tomorrow 9:30 AM")
    expect(page.locator("[data-group=upcoming]")).to_contain_text(title)
    expect(page.get_by_label("New task", exact=True)).to_have_value("")
    # Stored as the instant the user meant: 09:30 in Auckland.
    tasks = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    due = next(t["due"] for t in tasks if t["title"] == title)
    assert due.endswith("Z") and due != f"{tomorrow}T09:30:00Z"


def test_deleting_from_the_panel_can_be_undone(local_stack: Stack, browsing: Browsing) -> None:
    title = unique("Renew the library card")
    mcp_call(local_stack, "add_task", title=title, priority="high", tags=["errands"])
    page = live_app(browsing.page(), local_stack.url)

    page.get_by_role("button", name=f"Delete: {title}").click()
    expect(panel_task(page, title)).to_have_count(0)
    page.locator("#toast").get_by_role("button", name="Undo").click()

    restored = panel_task(page, title)
    expect(restored).to_contain_text("High priority")
    expect(restored).to_contain_text("#errands")


def test_relative_dates_groups_and_overdue_in_the_users_zone(
    local_stack: Stack, browsing: Browsing
) -> None:
    today = datetime.now(UTC).date()
    names = {}
    for label, days in [("yesterday", -1), ("today", 0), ("tomorrow", 1), ("soon", 3),
                        ("later", 40)]:
        names[label] = unique(f"Due {label}")
        mcp_call(local_stack, "add_task", title=names[label],
                 due=(today + timedelta(days=days)).isoformat())
    page = live_app(browsing.page(timezone_id="UTC", locale="en-US"), local_stack.url)

    expect(panel_task(page, names["today"])).to_contain_text("Today")
    expect(panel_task(page, names["tomorrow"])).to_contain_text("Tomorrow")
    weekday = (today + timedelta(days=3)).strftime("%a")
    expect(panel_task(page, names["soon"])).to_contain_text(weekday)
    later = today + timedelta(days=40)
    expect(panel_task(page, names["later"])).to_contain_text(f"{later:%b} {later.day}")
    overdue = panel_task(page, names["yesterday"])
    expect(overdue).to_contain_text("Overdue · Yesterday")
    color = overdue.locator(".due").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(176, 42, 32)"  # --danger
    expect(page.locator("[data-group=overdue]")).to_contain_text(names["yesterday"])
    expect(page.locator("[data-group=today]")).to_contain_text(names["today"])
    # The default priority shows nothing.
    expect(panel_task(page, names["today"])).not_to_contain_text("Medium")


def test_a_hostile_title_in_a_reply_is_shown_as_text_and_runs_nothing(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = live_app(browsing.page(), local_stack.url)
    page.get_by_role("button", name="New chat").click()
    send(page, "add **bold move** and `code` <img src=x onerror=window.pwned=1> "
               "[link](javascript:window.pwned=2)")
    reply = page.locator("[data-item-type=assistant_message]").last
    # A title is anyone's text: the reply repeats it as written, never as markup.
    expect(reply).to_contain_text("**bold move** and `code` <img src=x onerror=window.pwned=1>")
    expect(reply).to_contain_text("[link](javascript:window.pwned=2)")
    assert reply.locator("strong, code, img").count() == 0
    for href in reply.locator("a").evaluate_all("links => links.map(a => a.href)"):
        assert not href.startswith("javascript:")
    assert page.evaluate("window.pwned") is None


def test_dark_mode_follows_the_system(local_stack: Stack, browsing: Browsing) -> None:
    page = live_app(browsing.page(color_scheme="dark"), local_stack.url)
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(17, 20, 24)"
    assert axe_violations(page) == []


def test_phone_width_opens_chats_and_tasks_as_sheets_that_close_after_a_choice(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = live_app(browsing.page(viewport={"width": 390, "height": 800}), local_stack.url)
    send(page, "show my tasks")
    expect(page.locator("[data-item-type=user_message]").last).to_have_text("show my tasks")

    page.get_by_role("button", name="Tasks", exact=True).click()
    sheet = page.locator("#tasks")
    box = sheet.bounding_box()
    assert box is not None and box["height"] >= 790 and box["width"] >= 385
    sheet.get_by_role("button", name="Close").click()
    expect(sheet).to_be_hidden()

    page.get_by_role("button", name="Chats", exact=True).click()
    chats = page.locator("#threads")
    expect(chats).to_be_visible()
    chats.locator(".thread-open").first.click()
    expect(chats).to_be_hidden()
    expect(page.get_by_label("Message")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


REMINDER_SPY = """
window.__notes = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notes.push([title, options.body]); }
};
"""


def test_a_reminder_shows_at_the_due_time_once_with_a_notification(
    local_stack: Stack, browsing: Browsing
) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    due = start + timedelta(minutes=10)
    title = unique("Take the bread out")
    mcp_call(local_stack, "add_task", title=title, due=due.isoformat().replace("+00:00", "Z"))
    page = browsing.page()
    page.add_init_script(REMINDER_SPY)
    page.clock.install(time=start)
    live_app(page, local_stack.url)
    expect(panel_task(page, title)).to_have_count(1)
    reminders = page.locator(".reminder", has_text=title)
    expect(reminders).to_have_count(0)

    page.clock.run_for(9 * 60 * 1000)
    expect(reminders).to_have_count(0)
    page.clock.run_for(61 * 1000)
    expect(reminders).to_have_count(1)
    notes = page.evaluate("window.__notes")
    assert [n for n in notes if title in n[1]] != []

    # Once: a reload at the same moment does not remind again.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.clock.run_for(5000)
    expect(page.locator(".reminder", has_text=title)).to_have_count(0)
    expect(panel_task(page, title)).to_contain_text("Overdue")


def test_an_error_shows_once_in_plain_words_and_clears_after_retry(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = browsing.page()
    failing = {"on": True}

    def tasks_route(route: Any) -> None:
        if failing["on"] and route.request.method == "GET":
            body = {"error": "task_server_unavailable", "message":
                    "I couldn't reach the task server: http://127.0.0.1:9/mcp refused."}
            route.fulfill(status=503, content_type="application/json", body=json.dumps(body))
        else:
            route.continue_()

    page.route("**/api/tasks", tasks_route)
    open_app(page, f"{local_stack.url}/?ui=builtin")
    notice = page.locator("#notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("The task server isn't answering right now")
    expect(notice).not_to_contain_text("http")
    assert page.locator("[role=alert]:visible").count() == 1

    failing["on"] = False
    notice.get_by_role("button", name="Retry").click()
    expect(notice).to_be_hidden()
    expect(page.locator("#tasks-summary")).not_to_contain_text("Could not load")


def test_focus_goes_to_the_composer_before_old_widgets_and_axe_finds_nothing(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = live_app(browsing.page(), local_stack.url)
    page.get_by_role("button", name="New chat").click()
    send(page, "add paint the fence")
    expect(page.locator("[data-item-type=widget]")).to_have_count(1)
    page.locator("#threads .thread-open").first.click()
    expect(page.get_by_label("Message")).to_be_focused()

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    first = page.evaluate("document.querySelector('a[href], button, input, textarea').className")
    assert first == "skip-link"
    page.get_by_role("link", name="Skip to the message box").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Message")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    # Every widget button comes after the composer in the tab path.
    assert page.evaluate("""() => {
        const composer = document.getElementById('composer-input');
        return [...document.querySelectorAll('[data-item-type=widget] button')].every(
            (b) => composer.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert page.locator("[data-item-type=widget] [role=region], [data-item-type=widget] section"
                        ).count() == 0
    assert axe_violations(page) == []
