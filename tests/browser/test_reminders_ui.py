"""Reminders in the page, in headless Chromium against both real servers: the settings
dialog (channels added, refused and removed; the daily digest), a failing channel said in
the page, and the service worker showing a pushed reminder whose Done button completes
the task through its signed link."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from mcp_server.delivery import Message, push_data
from mcp_server.scheduler import Links
from shared import channels
from shared.db import make_engine
from shared.deployment_keys import link_key
from tests.browser.harness import Browsing, Stack
from tests.browser.test_live_ui import live_app, mcp_call, unique

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
LOCAL_USER = "local"  # the one user of a server without JWT_SECRET


def tasks_of(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("fetch('/api/tasks').then(r => r.json())")["tasks"]
    return found


def test_channels_are_added_refused_and_removed_and_the_digest_is_kept_in_the_dialog(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = live_app(browsing.page(timezone_id="Europe/Berlin"), local_stack.url)
    page.get_by_role("button", name="Reminder settings").click()
    dialog = page.get_by_role("dialog", name="Reminder settings")
    expect(dialog).to_be_visible()
    status = dialog.get_by_role("status")

    dialog.get_by_label("Type").select_option("webhook")
    dialog.get_by_label("Webhook url").fill("http://127.0.0.1:9/hook")
    dialog.get_by_role("button", name="Add channel").click()
    # Loopback is refused unless the operator allows private addresses: said, not added.
    expect(status).to_contain_text("private")
    expect(dialog.locator("li[data-channel-id]")).to_have_count(0)

    dialog.get_by_label("Type").select_option("email")
    address = f"{unique('ann').replace(' ', '.')}@example.com"
    dialog.get_by_label("Email address").fill(address)
    dialog.get_by_role("button", name="Add channel").click()
    expect(status).to_have_text("Email added.")
    channel = dialog.locator("li[data-channel-id]", has_text=address)
    expect(channel).to_have_count(1)

    dialog.get_by_label("Every day at").fill("07:30")
    dialog.get_by_role("button", name="Save digest").click()
    expect(status).to_contain_text("every day at 07:30 (Europe/Berlin)")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()

    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_role("button", name="Reminder settings").click()
    expect(dialog.get_by_label("Every day at")).to_have_value("07:30")
    dialog.get_by_role("button", name=f"Remove email {address}").click()
    expect(status).to_have_text("Channel removed.")
    expect(dialog.locator("li[data-channel-id]", has_text=address)).to_have_count(0)
    dialog.get_by_role("button", name="No digest").click()
    expect(status).to_have_text("No daily digest.")
    assert page.evaluate("fetch('/api/digest').then(r => r.json())")["time"] is None


def test_the_default_reminder_chosen_in_the_dialog_is_what_a_new_timed_task_gets(
    local_stack: Stack, browsing: Browsing
) -> None:
    page = live_app(browsing.page(), local_stack.url)
    page.get_by_role("button", name="Reminder settings").click()
    dialog = page.get_by_role("dialog", name="Reminder settings")
    choice = dialog.get_by_label("Remind me of a new task with a time")
    expect(choice).to_have_value("")
    try:
        choice.select_option(label="30 min before")
        expect(dialog.get_by_role("status")).to_have_text(
            "New tasks with a time get a reminder 30 min before.")
        due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
        timed = mcp_call(local_stack, "add_task", title=unique("Dentist"), due=due)
        assert timed["task"]["reminders"] == [{"before": "PT30M"}]
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        page.get_by_role("button", name="Reminder settings").click()
        expect(choice).to_have_value("PT30M")
    finally:
        choice.select_option(label="None")
        expect(dialog.get_by_role("status")).to_contain_text("no reminder")


def test_a_failing_channel_is_reported_in_the_page_with_its_last_error(
    local_stack: Stack, browsing: Browsing
) -> None:
    engine = make_engine(local_stack.env["DATABASE_URL"])
    now = datetime.now(UTC)
    with Session(engine) as session:
        channel_id = channels.add_channel(
            session, user_id=LOCAL_USER, kind="webhook", target="https://hooks.example.com/x",
            allow_private=True, now=now)["id"]  # fmt: skip
        channels.note_delivery(session.connection(), channel_id, "answered HTTP 500", now)
        session.commit()
    try:
        page = live_app(browsing.page(), local_stack.url)
        note = page.locator("[data-channels=failing]")
        expect(note).to_contain_text("A reminder channel is failing (answered HTTP 500).")
        note.get_by_role("button", name="Open reminder settings").click()
        dialog = page.get_by_role("dialog", name="Reminder settings")
        expect(dialog.locator(f"li[data-channel-id='{channel_id}']")).to_contain_text(
            "Failing: answered HTTP 500")
        expect(note).to_have_count(0)
    finally:
        with Session(engine) as session:
            channels.delete_channel(session, user_id=LOCAL_USER, channel_id=channel_id)
        engine.dispose()


SHOW_PUSH = """async (data) => {
  self.dispatchEvent(new PushEvent("push", { data: JSON.stringify(data) }));
  for (let i = 0; i < 100; i++) {
    const shown = await self.registration.getNotifications({ tag: data.tag });
    if (shown.length) {
      return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag,
        actions: n.actions.map((a) => a.title) }));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [];
}"""
CLICK = """async ([tag, action]) => {
  const [notification] = await self.registration.getNotifications({ tag });
  self.dispatchEvent(new NotificationEvent("notificationclick", { notification, action }));
  return true;
}"""


def test_the_service_worker_shows_a_pushed_reminder_and_done_completes_the_task(
    local_stack: Stack, browsing: Browsing
) -> None:
    title = unique("Call the plumber")
    due = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    task_id = mcp_call(local_stack, "add_task", title=title, due=due.isoformat())["task_id"]
    page = browsing.page(timezone_id="UTC")
    page.context.grant_permissions(["notifications"], origin=local_stack.url)
    live_app(page, local_stack.url)
    page.evaluate("navigator.serviceWorker.register('/sw.js')"
                  ".then(() => navigator.serviceWorker.ready).then(() => true)")  # fmt: skip
    worker = next(iter(page.context.service_workers), None) or page.context.wait_for_event(
        "serviceworker")  # fmt: skip

    # What the scheduler pushes for this reminder, with links signed by the deployment's key.
    engine = make_engine(local_stack.env["DATABASE_URL"])
    with engine.connect() as conn:
        links = Links(link_key(conn), None, time.time())
    engine.dispose()
    payload = {"type": "reminder", "task": {"id": task_id}, "late": False,
               **links.for_task(LOCAL_USER, task_id)}  # fmt: skip
    occurrence = f"reminder:{task_id}:test"
    data = push_data(Message(occurrence, payload, f"Reminder: {title}", f"{title}\nDue: soon"))

    shown = worker.evaluate(SHOW_PUSH, data)
    assert shown == [{"title": f"Reminder: {title}", "body": f"{title}\nDue: soon",
                      "tag": occurrence, "actions": ["Done", "Snooze 15 min"]}]  # fmt: skip
    worker.evaluate(CLICK, [occurrence, "complete"])
    expect(page.get_by_role("checkbox", name=title)).to_be_checked()
    assert next(t for t in tasks_of(page) if t["id"] == task_id)["completed"] is True
