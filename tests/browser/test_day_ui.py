"""Parts of a day's triage the other browser tests leave out: the task server stopped and
started again mid-triage, Undo after the chat deleted several tasks at once, and due dates
in the browser's language."""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from testbed.servers import start_server
from tests.browser.harness import Browsing, Stack, open_app, start_stack
from tests.browser.test_live_ui import mcp_call, panel_task, send
from tests.browser.test_many_tasks_ui import seed

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def word() -> str:
    return uuid.uuid4().hex[:6]


def app(browsing: Browsing, stack: Stack, **options: object) -> Page:
    page = open_app(browsing.page(**options), f"{stack.url}/?ui=builtin")
    page.wait_for_selector("body[data-live=true]")
    return page


@pytest.fixture
def restartable(local_stack: Stack) -> Iterator[Stack]:
    """The local stack, its task server started again after the test whatever happens."""
    yield local_stack
    if local_stack.mcp.process.poll() is not None:
        local_stack.mcp = start_server("mcp_server", local_stack.env, local_stack.mcp.port)


def test_the_task_server_stopped_and_started_mid_triage_loses_nothing_typed(
    restartable: Stack, browsing: Browsing
) -> None:
    stack = restartable
    name = f"Triage {word()}"
    mcp_call(stack, "add_task", title=name)
    page = app(browsing, stack, locale="en-US")
    page.get_by_label("Search tasks").fill(name)
    box = page.get_by_role("checkbox", name=name)
    expect(box).to_be_visible()

    stack.mcp.stop()
    # A tick while it is down is rolled back on its row, in plain words, once.
    box.click()
    row = panel_task(page, name)
    expect(row.get_by_role("alert")).to_contain_text("Not saved")
    expect(box).not_to_be_checked()
    expect(box).to_be_focused()
    # A quick add while it is down keeps what was typed.
    typed = f"buy stamps {word()} tomorrow"
    quick = page.get_by_label("New task", exact=True)
    quick.fill(typed)
    quick.press("Enter")
    expect(page.locator("[role=alert]:visible").first).to_be_visible()
    expect(quick).to_have_value(typed)

    stack.mcp = start_server("mcp_server", stack.env, stack.mcp.port)
    box.click()
    expect(row).to_have_attribute("data-completed", "true")
    expect(row.get_by_role("alert")).to_have_count(0)
    quick.press("Enter")
    expect(quick).to_have_value("")
    page.get_by_label("Search tasks").fill(typed.split()[2])
    expect(page.locator("#task-list .panel-task")).to_have_count(1)
    expect(page.locator("#task-list .panel-task")).to_contain_text("Tomorrow")
    # Live again: a change made elsewhere reaches the open page.
    other = f"Elsewhere {typed.split()[2]}"
    mcp_call(stack, "add_task", title=other)
    expect(panel_task(page, other)).to_have_count(1)


def test_undo_on_each_row_after_the_chat_deletes_several_brings_back_the_same_tasks(
    local_stack: Stack, browsing: Browsing
) -> None:
    tag = word()
    names = [f"Bulk one {tag}", f"Bulk two {tag}"]
    ids = [mcp_call(local_stack, "add_task", title=name)["task_id"] for name in names]
    page = app(browsing, local_stack, locale="en-US")
    page.get_by_label("Search tasks").fill(tag)
    expect(page.locator("#task-list .panel-task")).to_have_count(2)

    send(page, f"delete tasks {ids[0]} and {ids[1]}")
    card = page.locator("[data-item-type=widget]").last
    expect(card).to_contain_text("Changed tasks: 2")
    expect(page.locator("#task-list .panel-task")).to_have_count(0)

    for name in names:
        card.get_by_role("button", name=f"Undo: {name}").click()
        expect(card.get_by_role("button", name=f"Undo: {name}")).to_be_disabled()
    expect(page.locator("#task-list .panel-task")).to_have_count(2)
    shown = {int(r.get_attribute("data-task-id") or 0)
             for r in page.locator("#task-list .panel-task").all()}
    assert shown == set(ids)  # the same tasks, not copies


GERMAN_WEEKDAYS = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"]


def test_due_dates_say_today_in_the_browsers_language_beside_its_weekday_names(
    local_stack: Stack, browsing: Browsing
) -> None:
    tag = word()
    today = datetime.now(UTC).date()
    later = today + timedelta(days=3)
    mcp_call(local_stack, "add_task", title=f"Heute {tag}", due=today.isoformat())
    mcp_call(local_stack, "add_task", title=f"Später {tag}", due=later.isoformat())
    page = app(browsing, local_stack, locale="de-DE", timezone_id="UTC")
    page.get_by_label("Search tasks").fill(tag)

    due_today = panel_task(page, f"Heute {tag}").locator(".due")
    due_later = panel_task(page, f"Später {tag}").locator(".due")
    expect(due_today).to_have_text("Heute")
    # ICU writes the short weekday alone as "Do", some versions as "Do.".
    expect(due_later).to_have_text(re.compile(rf"^{GERMAN_WEEKDAYS[later.weekday()]}\.?$"))


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_tasks_panels_header_buttons_stay_inside_the_panel(
    local_stack: Stack, browsing: Browsing, width: int
) -> None:
    page = app(browsing, local_stack, locale="en-US", viewport={"width": width, "height": 860})
    panel = page.locator("#tasks").bounding_box()
    assert panel is not None
    buttons = page.locator("#tasks .panel-head button:visible")
    assert buttons.count() >= 3  # Notify me, Reminder settings, Refresh
    for button in buttons.all():
        box = button.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], button.inner_text()


@pytest.fixture(scope="module")
def thousand_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Both servers with 1,000 real tasks (600 due over the coming month, 400 undated), added
    25 at a time through add_tasks, under the chat's default rate limit."""
    stack = start_stack(tmp_path_factory.mktemp("thousand"), JWT_SECRET="", MCP_SERVICE_TOKEN="",
                        RATE_LIMIT="60/minute", MCP_RATE_LIMIT="100000/minute")
    today = datetime.now(UTC).date()
    items: list[dict[str, Any]] = [
        {"title": f"Item {i:04}", **({"due": (today + timedelta(days=1 + i % 30)).isoformat()}
                                     if i < 600 else {})}
        for i in range(1000)
    ]
    seed(stack, [("add_tasks", {"items": items[start:start + 25]})
                 for start in range(0, len(items), 25)])
    yield stack
    stack.stop()


def test_a_thousand_real_tasks_load_counted_and_each_is_reachable(
    thousand_stack: Stack, browsing: Browsing
) -> None:
    page = open_app(browsing.page(locale="en-US"), f"{thousand_stack.url}/?ui=builtin")

    expect(page.locator("#tasks-summary")).to_have_text("1,000 open, 0 done")
    expect(page.locator("[data-group=nodate] .group-title")).to_have_text("No date 400")
    expect(page.locator("[data-group=upcoming] .group-title")).to_have_text("Upcoming 600")
    page.get_by_label("Search tasks").fill("Item 0999")
    expect(page.locator("#task-list .panel-task")).to_have_count(1)
    page.get_by_role("checkbox", name="Item 0999").click()
    expect(page.locator("#task-list .panel-task.done")).to_have_count(1)
    page.get_by_label("Search tasks").fill("")
    expect(page.locator("#tasks-summary")).to_have_text("999 open, 1 done")
