"""The tasks panel's "Calendar, import and export": a calendar URL made and revoked from the
page, CalDAV app passwords made, copied, listed and revoked, a Todoist file uploaded with its
report shown and its tasks in the panel, and an export downloaded, all with a JWT page
against both real servers."""

import uuid
from pathlib import Path

import httpx
import icalendar
import pytest
from playwright.sync_api import expect

from tests.browser.harness import Browsing, Stack, open_app
from tests.browser.test_jwt_ui import token
from tests.browser.test_live_ui import axe_violations
from tests.chat_server.test_imports import TODOIST_CSV

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def test_the_panel_makes_and_revokes_a_feed_url_imports_a_file_and_exports(
    jwt_stack: Stack, browsing: Browsing, tmp_path: Path
) -> None:
    page = open_app(browsing.page(accept_downloads=True),
                    f"{jwt_stack.url}/?ui=builtin#token={token('dana')}")
    page.locator("#transfer summary").click()

    page.get_by_role("button", name="New calendar URL").click()
    url_field = page.get_by_label("Your calendar feed URL")
    expect(url_field).to_be_visible()
    first = url_field.input_value()
    assert first.startswith(f"{jwt_stack.url}/calendar/") and first.endswith(".ics")
    feed = httpx.get(first, timeout=30)
    assert feed.status_code == 200
    assert icalendar.Calendar.from_ical(feed.content).walk("VTODO") == []

    source = tmp_path / "Home.csv"
    source.write_text(TODOIST_CSV)
    page.locator("#import-file").set_input_files(str(source))
    page.get_by_role("button", name="Import", exact=True).click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("5 imported, 0 already there, 1 not imported.")
    expect(report.locator("li", has_text="row 8")).to_contain_text("it has no title")
    expect(page.locator("#task-list li.panel-task", has_text="Water plants")).to_have_count(1)
    assert axe_violations(page) == []  # the open section: URL, form, report and buttons
    # The imported weekly task is in the feed now.
    todos = icalendar.Calendar.from_ical(httpx.get(first, timeout=30).content).walk("VTODO")
    assert "Water plants" in {str(todo["SUMMARY"]) for todo in todos}

    with page.expect_download() as downloaded:
        page.locator("[data-export=ics]").click()
    saved = tmp_path / "out.ics"
    downloaded.value.save_as(saved)
    assert downloaded.value.suggested_filename == "taskchat-tasks.ics"
    exported = icalendar.Calendar.from_ical(saved.read_bytes()).walk("VTODO")
    assert len(exported) == 5

    page.get_by_role("button", name="Turn off").click()
    expect(page.locator("#feed-status")).to_have_text("Calendar feed off: its URL no longer works.")
    assert httpx.get(first, timeout=30).status_code == 404


PROPFIND = '<?xml version="1.0"?><propfind xmlns="DAV:"><prop><displayname/></prop></propfind>'


def signs_in(stack: Stack, user: str, password: str) -> int:
    """The status a CalDAV client gets for the user's home with this app password."""
    return httpx.request(
        "PROPFIND", f"{stack.url}/caldav/{user}/", auth=(user, password), timeout=30,
        headers={"Depth": "0", "Content-Type": "application/xml"},
        content=PROPFIND,
    ).status_code  # fmt: skip


def test_the_panel_makes_copies_lists_and_revokes_caldav_app_passwords(
    jwt_stack: Stack, browsing: Browsing
) -> None:
    user = f"erin-{uuid.uuid4().hex[:8]}"
    page = open_app(
        browsing.page(permissions=["clipboard-read", "clipboard-write"]),
        f"{jwt_stack.url}/?ui=builtin#token={token(user)}",
    )
    page.locator("#transfer summary").click()
    passwords = page.get_by_role("list", name="Your app passwords")
    expect(passwords).to_have_text("No app passwords yet.")
    server = page.get_by_role("textbox", name="Server address")
    expect(server).to_have_value(f"{jwt_stack.url}/caldav/")

    page.get_by_role("button", name="New app password").click()
    shown = page.get_by_role("textbox", name="App password", exact=True)
    expect(shown).to_be_focused()  # ready to copy or read out
    first = shown.input_value()
    expect(page.get_by_role("textbox", name="User name")).to_have_value(user)
    assert signs_in(jwt_stack, user, first) == 207
    page.get_by_role("button", name="Copy app password").click()
    expect(page.locator("#caldav-status")).to_have_text("App password copied.")
    assert page.evaluate("navigator.clipboard.readText()") == first

    page.get_by_role("button", name="New app password").click()
    expect(shown).not_to_have_value(first)
    second = shown.input_value()
    expect(passwords.get_by_role("listitem")).to_have_count(2)
    assert axe_violations(page) == []  # the open section with both passwords listed
    bearer = {"Authorization": f"Bearer {token(user)}"}
    listed = httpx.get(f"{jwt_stack.url}/api/app-passwords", headers=bearer, timeout=30).json()
    ids = [made["id"] for made in listed["app_passwords"]]

    page.get_by_role("button", name=f"Revoke app password {ids[0]}").click()
    expect(passwords.get_by_role("listitem")).to_have_count(1)
    # Focus goes to the revoke button now in the removed one's place, not to the page's top.
    expect(page.get_by_role("button", name=f"Revoke app password {ids[1]}")).to_be_focused()
    assert [signs_in(jwt_stack, user, pw) for pw in (first, second)] == [401, 207]

    page.get_by_role("button", name=f"Revoke app password {ids[1]}").click()
    expect(passwords).to_have_text("No app passwords yet.")
    expect(page.get_by_role("button", name="New app password")).to_be_focused()
    # The revoked password is no longer on show.
    expect(page.get_by_role("textbox", name="User name")).to_be_hidden()
    assert signs_in(jwt_stack, user, second) == 401
