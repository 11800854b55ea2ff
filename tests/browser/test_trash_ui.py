"""The tasks panel's "Recently deleted": the task server's trash, live, restored by keyboard
as the same task (its id, notes and subtasks)."""

import uuid

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.harness import Browsing, Stack, open_app
from tests.browser.test_live_ui import axe_violations, mcp_call

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def word() -> str:
    return uuid.uuid4().hex[:6]


def app(browsing: Browsing, stack: Stack, **options: object) -> Page:
    page = open_app(browsing.page(locale="en-US", **options), f"{stack.url}/?ui=builtin")
    page.wait_for_selector("body[data-live=true]")
    return page


def deleted_row(page: Page, title: str) -> Locator:
    return page.locator("#deleted-view li", has_text=title)


def test_recently_deleted_shows_deletes_from_anywhere_live_and_restores_the_same_task(
    local_stack: Stack, browsing: Browsing
) -> None:
    name, other = f"Pack {word()}", f"Water {word()}"
    parent = mcp_call(local_stack, "add_task", title=name, description="keep these notes")
    child = mcp_call(local_stack, "add_task", title=f"Tape for {name}", parent_id=parent["task_id"])
    mcp_call(local_stack, "add_task", title=other)
    page = app(browsing, local_stack)
    # One deleted from the panel itself, before the view is open.
    page.get_by_label("Search tasks").fill(other)
    page.get_by_role("button", name=f"Delete: {other}").click()
    expect(page.locator("#task-list .panel-task", has_text=other)).to_have_count(0)
    page.get_by_label("Search tasks").fill("")

    page.get_by_role("button", name="Deleted", exact=True).click()
    expect(page.get_by_role("heading", name="Recently deleted")).to_be_visible()
    expect(page.locator("#task-list")).to_be_hidden()
    expect(deleted_row(page, other)).to_contain_text("Deleted")
    # Another client (the chat, an MCP agent) deletes one while the view is open.
    mcp_call(local_stack, "delete_task", task_id=parent["task_id"], subtasks="delete")
    expect(deleted_row(page, name)).to_contain_text(f"with 1 subtask: Tape for {name}")
    assert page.locator("#deleted-view li").first.inner_text().startswith(name)  # newest first

    # By keyboard: Enter on its Restore button.
    restore = page.get_by_role("button", name=f"Restore “{name}”")
    restore.focus()
    page.keyboard.press("Enter")
    expect(deleted_row(page, name)).to_have_count(0)
    expect(page.locator("#deleted-view .deleted-summary")).to_contain_text(f"Restored “{name}”.")
    # The focus stays in the view, on the next task's Restore button.
    expect(page.locator("#deleted-view li button:focus")).to_have_count(1)
    tasks = {t["id"]: t for t in page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]}
    assert tasks[parent["task_id"]]["description"] == "keep these notes"  # the same task
    assert tasks[child["task_id"]]["parent_id"] == parent["task_id"]

    page.get_by_role("button", name="All", exact=True).click()
    expect(page.locator("#deleted-view")).to_be_hidden()
    page.get_by_label("Search tasks").fill(name)
    expect(page.locator("#task-list .panel-task")).to_have_count(2)  # with its subtask


def test_a_task_restored_elsewhere_leaves_the_view_at_once(
    local_stack: Stack, browsing: Browsing
) -> None:
    name = f"Undone {word()}"
    task = mcp_call(local_stack, "add_task", title=name)
    mcp_call(local_stack, "delete_task", task_id=task["task_id"])
    page = app(browsing, local_stack)
    page.get_by_role("button", name="Deleted", exact=True).click()
    expect(deleted_row(page, name)).to_have_count(1)

    # The chat's "undo" (restore_task) in another client: nothing is left to restore here.
    mcp_call(local_stack, "restore_task", task_id=task["task_id"])
    expect(deleted_row(page, name)).to_have_count(0)


@pytest.mark.parametrize(
    "options",
    [
        {"color_scheme": "light"},
        {"color_scheme": "dark"},
        {"viewport": {"width": 390, "height": 800}},
    ],
    ids=["light", "dark", "phone"],
)
def test_recently_deleted_has_no_axe_findings(
    local_stack: Stack, browsing: Browsing, options: dict[str, object]
) -> None:
    name = f"Axe bin {word()}"
    parent = mcp_call(local_stack, "add_task", title=name)
    mcp_call(local_stack, "add_task", title=f"Sub {name}", parent_id=parent["task_id"])
    mcp_call(local_stack, "delete_task", task_id=parent["task_id"], subtasks="delete")
    page = app(browsing, local_stack, **options)
    if "viewport" in options:
        page.get_by_role("button", name="Tasks", exact=True).click()
    page.get_by_role("button", name="Deleted", exact=True).click()
    expect(deleted_row(page, name)).to_contain_text("1 subtask")
    assert axe_violations(page) == []
