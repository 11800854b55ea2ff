"""The tasks panel by hand and by keyboard: quick add that reads like the chat, shortcuts
and where focus goes, search and views, edit in place."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.harness import Browsing, Stack, open_app
from tests.browser.test_live_ui import axe_violations, mcp_call, send

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def word() -> str:
    return uuid.uuid4().hex[:6]


def row(page: Page, title: str) -> Locator:
    return page.locator("#task-list li.panel-task", has_text=title)


def app(browsing: Browsing, stack: Stack, **options: object) -> Page:
    page = open_app(browsing.page(locale="en-US", **options), f"{stack.url}/?ui=builtin")
    page.wait_for_selector("body[data-live=true]")
    return page


def test_quick_add_reads_date_time_priority_and_tags_and_each_can_be_removed(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = app(browsing, local_stack, timezone_id="Pacific/Auckland")
    tag = f"home{word()}"
    title = page.get_by_label("New task", exact=True)
    title.fill(f"water plants {tag[4:]} tomorrow 8am !high #{tag} #extra")

    preview = page.locator("#quick-add-preview")
    expect(preview).to_contain_text("📅 Tomorrow")
    expect(preview).to_contain_text("⏰ 8:00 AM")
    expect(preview).to_contain_text("! high")
    expect(preview).to_contain_text(f"#{tag}")
    page.get_by_role("button", name="Remove tag extra").click()
    expect(preview).not_to_contain_text("#extra")
    expect(title).to_be_focused()
    page.get_by_role("button", name="Add", exact=True).click()

    added = row(page, f"Water plants {tag[4:]}")
    expect(added).to_contain_text("Tomorrow 8:00 AM")
    expect(added).to_contain_text("High priority")
    expect(added).to_contain_text(f"#{tag}")
    expect(added).not_to_contain_text("#extra")
    expect(title).to_have_value("")
    expect(preview).to_be_empty()


def test_a_title_over_the_limit_is_refused_visibly_and_kept(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = app(browsing, local_stack)
    long = "Remember " + "very " * 60 + word()
    title = page.get_by_label("New task", exact=True)
    title.fill(long)
    title.press("Enter")

    error = page.locator("#quick-add-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("200")
    expect(title).to_have_value(long)  # not cut, not lost
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(row(page, long[-6:])).to_have_count(0)


def tab_from_search_to_the_list(page: Page) -> None:
    """Past the five view buttons (All, Today, Upcoming, Done, Deleted), one stop reaches
    the list."""
    for _ in range(6):
        page.keyboard.press("Tab")
    # The list picker shows once the user has two lists (earlier tests on this shared
    # stack may have made some): then it is one more stop.
    picker = page.locator("#list-view")
    if picker.is_visible():
        expect(picker).to_be_focused()
        page.keyboard.press("Tab")


def test_keyboard_triage_moves_completes_edits_deletes_and_undoes_keeping_focus(
    local_stack: Stack, browsing: Browsing
) -> None:
    tag = f"kb{word()}"
    names = [f"Key {n} {tag}" for n in ("one", "two", "three")]
    for name in names:
        mcp_call(local_stack, "add_task", title=name, tags=[tag])
    page = app(browsing, local_stack)
    search = page.get_by_label("Search tasks")

    page.get_by_role("heading", name="Your tasks").click()  # out of the message box
    page.keyboard.press("/")
    expect(search).to_be_focused()
    search.fill(tag)
    expect(page.locator("#task-list .panel-task")).to_have_count(3)
    # A load still running may redraw the list (and the controls before it) under the Tabs.
    expect(page.locator("#task-list")).not_to_have_attribute("aria-busy", "true")
    tab_from_search_to_the_list(page)
    first = page.get_by_role("checkbox", name=names[0])
    expect(first).to_be_focused()
    page.keyboard.press("j")
    expect(page.get_by_role("checkbox", name=names[1])).to_be_focused()
    page.keyboard.press("k")
    expect(first).to_be_focused()

    # x completes; focus stays in the list, on the task that took its place.
    page.keyboard.press("x")
    expect(row(page, names[0])).to_have_attribute("data-completed", "true")
    expect(page.get_by_role("checkbox", name=names[1])).to_be_focused()
    expect(page.locator("#toast")).to_contain_text(f"Completed “{names[0]}”")
    page.keyboard.press("u")
    expect(row(page, names[0])).to_have_attribute("data-completed", "false")
    expect(first).to_be_focused()

    # e edits in place; Escape cancels and gives focus back to the edit button.
    page.keyboard.press("e")
    editor = page.get_by_role("textbox", name="Title")
    expect(editor).to_be_focused()
    editor.press("Escape")
    expect(page.get_by_role("button", name=f"Edit: {names[0]}")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(first).to_be_focused()

    # Delete removes it, focus moves on; Ctrl+Z brings it back.
    page.keyboard.press("Delete")
    expect(row(page, names[0])).to_have_count(0)
    expect(page.get_by_role("checkbox", name=names[1])).to_be_focused()
    expect(page.locator("#toast")).to_contain_text(f"Deleted “{names[0]}”")
    page.keyboard.press("Control+z")
    expect(row(page, names[0])).to_have_count(1)
    expect(page.get_by_role("checkbox", name=names[0])).to_be_focused()

    # Only the current row is in the tab order: Tab leaves the list in one step.
    assert page.locator("#task-list [tabindex='0']").count() == 3

    page.keyboard.press("?")
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Quick add a task")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()
    page.keyboard.press("q")
    expect(page.get_by_label("New task", exact=True)).to_be_focused()


def test_edit_in_place_changes_title_notes_date_time_and_priority(
    local_stack: Stack, browsing: Browsing
) -> None:
    name = f"Edit me {word()}"
    mcp_call(local_stack, "add_task", title=name)
    page = app(browsing, local_stack, timezone_id="UTC")
    page.locator(f"#task-list .panel-title:text-is('{name}')").dblclick()

    page.get_by_role("textbox", name="Title").fill(f"{name} edited")
    page.get_by_role("textbox", name="Notes").fill("bring the receipt")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    page.get_by_label("Due date", exact=True).last.fill(tomorrow)
    page.get_by_label("Time", exact=True).fill("14:30")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Save").click()

    edited = row(page, f"{name} edited")
    expect(edited).to_contain_text("Tomorrow 2:30 PM")
    expect(edited).to_contain_text("High priority")
    expect(page.get_by_role("button", name=f"Edit: {name} edited")).to_be_focused()
    tasks = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    saved = next(t for t in tasks if t["title"] == f"{name} edited")
    assert saved["description"] == "bring the receipt"
    assert saved["priority"] == "high"


def test_views_today_upcoming_by_day_and_done_with_search(
    local_stack: Stack, browsing: Browsing
) -> None:
    tag = f"v{word()}"
    today = datetime.now(UTC).date()
    mcp_call(local_stack, "add_task", title=f"Today {tag}", due=today.isoformat())
    mcp_call(local_stack, "add_task", title=f"In three days {tag}",
             due=(today + timedelta(days=3)).isoformat())
    done = mcp_call(local_stack, "add_task", title=f"Finished {tag}")
    mcp_call(local_stack, "complete_task", task_id=done["task_id"])
    page = app(browsing, local_stack, timezone_id="UTC")
    page.get_by_label("Search tasks").fill(tag)

    page.get_by_role("button", name="Today", exact=True).click()
    expect(page.locator("#task-list .panel-task")).to_have_count(1)
    expect(page.locator("[data-group=today]")).to_contain_text(f"Today {tag}")

    page.get_by_role("button", name="Upcoming", exact=True).click()
    expect(page.locator("#task-list .task-group")).to_have_count(7)
    day3 = page.locator("[data-group=day3]")
    heading = (today + timedelta(days=3)).strftime("%a, %b ") + str((today + timedelta(days=3)).day)
    expect(day3.locator(".group-title")).to_have_text(re.compile(f"^{heading} 1$"))
    expect(day3).to_contain_text(f"In three days {tag}")
    expect(page.locator("[data-group=day1]")).to_contain_text("Nothing planned.")

    page.get_by_role("button", name="Done", exact=True).click()
    expect(page.locator("#task-list .panel-task")).to_have_count(1)
    expect(page.locator("#task-list")).to_contain_text(f"Finished {tag}")
    expect(page.get_by_role("button", name="Done", exact=True)).to_have_attribute(
        "aria-pressed", "true")
    assert axe_violations(page) == []


@pytest.mark.parametrize("options", [
    {"color_scheme": "light"},
    {"color_scheme": "dark"},
    {"viewport": {"width": 390, "height": 800}},
], ids=["light", "dark", "phone"])
def test_the_panel_with_its_new_parts_has_no_axe_findings(
    local_stack: Stack, browsing: Browsing, options: dict[str, object]
) -> None:
    mcp_call(local_stack, "add_task", title=f"Axe {word()}", priority="high", tags=["a11y"])
    page = app(browsing, local_stack, **options)
    # A card in the conversation: its h3 title must follow an h2 on every layout.
    send(page, f"add call the vet {word()} tomorrow")
    expect(page.locator("#chat h3").first).to_be_attached()
    if "viewport" in options:
        page.get_by_role("button", name="Tasks", exact=True).click()
    page.get_by_label("New task", exact=True).fill("call mum friday 6pm !low #family")
    expect(page.locator("#quick-add-preview .chip")).to_have_count(4)
    assert axe_violations(page) == []


def test_undo_after_a_delete_brings_back_the_same_task_with_its_subtasks(
    local_stack: Stack, browsing: Browsing
) -> None:
    name = f"Parent {word()}"
    parent = mcp_call(local_stack, "add_task", title=name, description="keep these notes")
    child = mcp_call(local_stack, "add_task", title=f"Child of {name}",
                     parent_id=parent["task_id"])
    page = app(browsing, local_stack)
    page.get_by_label("Search tasks").fill(name)
    expect(page.locator("#task-list .panel-task")).to_have_count(2)

    page.get_by_role("button", name=f"Delete: {name}").click()
    expect(page.locator("#task-list .panel-task")).to_have_count(0)
    page.locator("#toast").get_by_role("button", name="Undo").click()

    expect(page.locator("#task-list .panel-task")).to_have_count(2)
    expect(page.get_by_role("checkbox", name=name, exact=True)).to_be_focused()
    tasks = {t["id"]: t for t in page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]}
    assert tasks[parent["task_id"]]["title"] == name  # the same id, not a copy
    assert tasks[parent["task_id"]]["description"] == "keep these notes"
    assert tasks[child["task_id"]]["parent_id"] == parent["task_id"]


def test_quick_add_reads_a_repeat_rule_and_a_reminder_and_the_row_says_the_rule(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = app(browsing, local_stack, timezone_id="Europe/Paris")
    name = f"Standup {word()}"
    title = page.get_by_label("New task", exact=True)
    title.fill(f"{name} every weekday at 9:30 remind me 10 minutes before")

    preview = page.locator("#quick-add-preview")
    expect(preview).to_contain_text("↻ Every weekday")
    expect(preview).to_contain_text("🔔 10 min before")
    expect(preview).to_contain_text("⏰ 9:30 AM")
    page.get_by_role("button", name="Remove reminder 10 min before").click()
    expect(preview).not_to_contain_text("🔔")
    title.press("Enter")

    added = row(page, name)
    expect(added).to_contain_text("↻ Every weekday")
    expect(added).to_contain_text("9:30 AM")
    tasks = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    saved = next(t for t in tasks if t["title"] == name)
    assert saved["repeat"] == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    assert saved["timezone"] == "Europe/Paris"  # 9:30 stays 9:30 across DST
    assert saved["reminders"] == []


def test_subtasks_sit_under_their_parent_and_a_lists_view_shows_only_that_list(
    local_stack: Stack, browsing: Browsing
) -> None:
    tag = f"l{word()}"
    groceries = f"Groceries {tag}"
    parent = mcp_call(local_stack, "add_task", title=f"Move house {tag}")
    mcp_call(local_stack, "add_task", title=f"Book the van {tag}", parent_id=parent["task_id"])
    mcp_call(local_stack, "add_task", title=f"Milk {tag}", list=groceries)
    page = app(browsing, local_stack)
    page.get_by_label("Search tasks").fill(tag)

    rows = page.locator("#task-list .panel-task")
    expect(rows).to_have_count(3)
    nodate = page.locator("[data-group=nodate] .panel-task")
    expect(nodate.nth(0)).to_contain_text(f"Move house {tag}")
    expect(nodate.nth(1)).to_contain_text(f"Book the van {tag}")
    expect(nodate.nth(1)).to_have_class(re.compile("subtask"))
    expect(row(page, f"Milk {tag}")).to_contain_text(f"≡ {groceries}")

    page.get_by_label("List", exact=True).select_option(label=groceries)
    expect(rows).to_have_count(1)
    expect(row(page, f"Milk {tag}")).not_to_contain_text("≡")
    # Quick add in a list's view adds to that list.
    page.get_by_label("New task", exact=True).fill(f"Eggs {tag}")
    page.get_by_label("New task", exact=True).press("Enter")
    expect(rows).to_have_count(2)
    tasks = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    assert next(t for t in tasks if t["title"] == f"Eggs {tag}")["list"] == groceries


def test_a_lists_view_renames_the_list_and_deletes_it_moving_its_tasks_to_the_inbox(
    local_stack: Stack, browsing: Browsing
) -> None:
    tag = f"r{word()}"
    mcp_call(local_stack, "add_task", title=f"Milk {tag}", list=f"Shop {tag}")
    page = app(browsing, local_stack)
    picker = page.get_by_label("List", exact=True)
    picker.select_option(label=f"Shop {tag}")
    expect(page.get_by_role("button", name="Rename list: Inbox")).to_have_count(0)

    page.get_by_role("button", name=f"Rename list: Shop {tag}").click()
    page.get_by_label("New list name").fill(f"Groceries {tag}")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(picker.locator("option:checked")).to_have_text(f"Groceries {tag}")
    expect(row(page, f"Milk {tag}")).to_be_visible()

    # Without a choice for its task the list stays: a 409 in the task server's words.
    refused = page.evaluate(
        """id => fetch(`/api/lists/${id}`, {method: "DELETE", body: "{}",
             headers: {"Content-Type": "application/json"}})
           .then(async r => [r.status, (await r.json()).message])""",
        picker.input_value(),
    )
    assert refused[0] == 409 and "move_tasks_to" in refused[1]
    page.get_by_role("button", name=f"Delete list: Groceries {tag}").click()
    asked = page.get_by_role("form", name=f"Delete list “Groceries {tag}”")
    expect(asked).to_contain_text(f"Delete the list “Groceries {tag}”? Its 1 task move to Inbox.")
    asked.get_by_role("button", name="Delete", exact=True).click()
    expect(picker.locator("option", has_text=tag)).to_have_count(0)
    tasks = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    assert next(t for t in tasks if t["title"] == f"Milk {tag}")["list"] == "Inbox"

    # Or, said explicitly, the tasks go with it.
    mcp_call(local_stack, "add_task", title=f"Bin bags {tag}", list=f"Junk {tag}")
    page.get_by_role("button", name="Refresh", exact=True).click()
    picker.select_option(label=f"Junk {tag}")
    page.get_by_role("button", name=f"Delete list: Junk {tag}").click()
    asked = page.get_by_role("form", name=f"Delete list “Junk {tag}”")
    asked.get_by_label("Delete its tasks too").check()
    asked.get_by_role("button", name="Delete", exact=True).click()
    expect(picker.locator("option", has_text=tag)).to_have_count(0)
    tasks = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    assert [t["title"] for t in tasks if tag in t["title"]] == [f"Milk {tag}"]


def test_edit_in_place_moves_a_task_to_a_list_and_sets_its_repeat_and_reminder(
    local_stack: Stack, browsing: Browsing
) -> None:
    tag = f"e{word()}"
    mcp_call(local_stack, "add_task", title=f"Other list {tag}", list=f"Work {tag}")
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    mcp_call(local_stack, "add_task", title=f"Water plants {tag}", due=due)
    page = app(browsing, local_stack, timezone_id="UTC")
    page.get_by_role("button", name=f"Edit: Water plants {tag}").click()

    form = page.locator(".panel-edit-form")
    form.get_by_label("List", exact=True).select_option(label=f"Work {tag}")
    # What a rule counts from is asked only once there is a rule.
    expect(form.get_by_label("Repeat from")).to_be_hidden()
    form.get_by_label("Repeat", exact=True).select_option(label="Every weekday")
    form.get_by_label("Repeat from").select_option(label="After I finish it")
    form.get_by_label("Reminder").select_option(label="30 min before")
    page.get_by_role("button", name="Save").click()

    edited = row(page, f"Water plants {tag}")
    expect(edited).to_contain_text("↻ Every weekday after it's done")
    expect(edited).to_contain_text(f"≡ Work {tag}")
    tasks = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    saved = next(t for t in tasks if t["title"] == f"Water plants {tag}")
    assert saved["list"] == f"Work {tag}"
    assert (saved["repeat"], saved["repeat_from"]) == (
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "completion"
    )  # fmt: skip
    assert saved["reminders"] == [{"before": "PT30M"}]


def test_dragging_a_task_onto_another_group_reschedules_it_keeping_its_time(
    local_stack: Stack, browsing: Browsing
) -> None:
    tag = f"d{word()}"
    later = (datetime.now(UTC) + timedelta(days=3)).replace(hour=18, minute=15, second=0)
    mcp_call(local_stack, "add_task", title=f"Someday {tag}")
    mcp_call(local_stack, "add_task", title=f"Timed {tag}",
             due=later.isoformat().replace("+00:00", "Z"))
    page = app(browsing, local_stack, timezone_id="UTC")
    page.get_by_label("Search tasks").fill(tag)
    page.get_by_role("button", name="Today", exact=True).click()
    page.get_by_role("button", name="All", exact=True).click()
    expect(page.locator("[data-group=nodate]")).to_contain_text(f"Someday {tag}")

    row(page, f"Someday {tag}").drag_to(page.locator("[data-group=upcoming]"))
    expect(page.locator("[data-group=upcoming]")).to_contain_text(f"Someday {tag}")
    expect(row(page, f"Someday {tag}")).to_contain_text("Tomorrow")

    page.get_by_role("button", name="Upcoming", exact=True).click()
    row(page, f"Timed {tag}").drag_to(page.locator("[data-group=day1]"))
    expect(row(page, f"Timed {tag}")).to_contain_text("Tomorrow 6:15 PM")
    expect(page.locator(".panel-task.pending")).to_have_count(0)  # saved, not only shown
    tasks = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    saved = {t["title"]: t for t in tasks}
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert saved[f"Someday {tag}"]["due"] == tomorrow
    assert saved[f"Timed {tag}"]["due"] == f"{tomorrow}T18:15:00Z"
    page.keyboard.press("Control+z")  # the last move undone
    expect(row(page, f"Timed {tag}")).not_to_contain_text("Tomorrow")


def test_a_row_being_edited_keeps_the_focus_when_a_change_elsewhere_moves_it(
    local_stack: Stack, browsing: Browsing
) -> None:
    # Another client changes the task being edited: the panel redraws it in its new group,
    # and the editor (a node that moved, not one drawn anew) must keep the user's focus.
    name = f"Moving {word()}"
    task = mcp_call(local_stack, "add_task", title=name)
    page = app(browsing, local_stack, timezone_id="UTC")
    page.get_by_label("Search tasks").fill(name)
    page.get_by_role("button", name=f"Edit: {name}").click()
    editor = page.get_by_role("textbox", name="Title")
    expect(editor).to_be_focused()
    editor.press("End")
    editor.type(" typed")

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    mcp_call(local_stack, "update_task", task_id=task["task_id"], due=tomorrow)
    expect(page.locator("[data-group=upcoming] .panel-edit-form")).to_have_count(1)
    expect(editor).to_be_focused()
    expect(editor).to_have_value(f"{name} typed")
    editor.press("Escape")
    expect(page.get_by_role("button", name=f"Edit: {name}")).to_be_focused()
