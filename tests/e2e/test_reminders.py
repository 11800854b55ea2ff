"""End to end: reminders from real task server processes to a real webhook receiver
process, and the chat server's signed reminder actions through a real task server."""

import base64
import json
import mailbox
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from mcp_server import tasks
from shared import channels
from shared.channels import DELIVERY_TABLE
from shared.db import make_engine
from shared.deployment_keys import b64url, link_key, sign_link
from shared.migrate import upgrade_all
from testbed.servers import Server, free_port, start_server
from tests.e2e.stack import SECRET, SERVICE_TOKEN, running_stack
from tests.mcp_server.test_outbox import Browser

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
FAST = {"REMINDER_INTERVAL_SECONDS": "0.2", "REMINDER_ALLOW_PRIVATE_URLS": "true",
        "TASKCHAT_TIMEZONE": "UTC"}  # fmt: skip


def eventually(check: Any, timeout: float = 30) -> Any:
    """`check()`'s first truthy answer, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port, got = free_port(), tmp_path / "received.jsonl"
    got.touch()
    process = subprocess.Popen([sys.executable, "-m", "tests.e2e.hook_receiver", str(port),
                                str(got)], cwd=ROOT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/hook"
    assert eventually(lambda: _answers(url), timeout=15), "the webhook receiver did not start"
    yield url, got
    process.terminate()
    process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def received(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def add_task(
    url: str, title: str, due: datetime, hook: str | None = None, user_id: str = "local"
) -> int:
    engine = make_engine(url)
    upgrade_all(engine)
    with Session(engine) as session:
        data = tasks.NewTask(title=title, due=due.isoformat(), reminders=[{"before": "PT0S"}])
        task_id = tasks.add_task(session, user_id=user_id, data=data,
                                 now=datetime.now(UTC) - timedelta(hours=1))["task_id"]  # fmt: skip
        session.commit()
        if hook:
            channels.add_channel(session, user_id=user_id, kind="webhook", target=hook,
                                 allow_private=True, now=datetime.now(UTC))  # fmt: skip
    engine.dispose()
    return task_id


def task_servers(url: str, count: int = 2, env: dict[str, str] | None = None) -> list[Server]:
    env = {**FAST, "DATABASE_URL": url, **(env or {})}
    servers = []
    for _ in range(count):
        port = free_port()
        servers.append(start_server("mcp_server", {**env, "MCP_PORT": str(port)}, port))
    return servers


def deliveries(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        sent = conn.execute(select(func.count()).select_from(DELIVERY_TABLE)
                            .where(DELIVERY_TABLE.c.status == "sent")).scalar_one()  # fmt: skip
    engine.dispose()
    return int(sent)


@pytest.mark.postgres
def test_two_task_servers_on_one_database_send_a_due_reminder_once_and_a_missed_one_late_once(
    postgres_url: str, receiver: tuple[str, Path]
) -> None:
    hook, got = receiver
    now = datetime.now(UTC)
    # Fell due while no process was running: sent late, once, when they start.
    missed = add_task(postgres_url, "missed while down", now - timedelta(minutes=10), hook)
    soon = add_task(postgres_url, "due in a moment", now + timedelta(seconds=3))
    # Sent well after the others, by whichever scheduler: by then both have had many
    # rounds in which to send the first two again, had their claims let them.
    last = add_task(postgres_url, "sentinel", now + timedelta(seconds=6))
    servers = task_servers(postgres_url)
    try:
        assert eventually(lambda: last in _task_ids(got))
    finally:
        for server in servers:
            server.stop()

    by_task = sorted((line["body"]["task"]["id"], line["body"]["late"]) for line in received(got))
    assert by_task == sorted([(missed, True), (soon, False), (last, False)])
    assert len({line["delivery"] for line in received(got)}) == 3
    assert deliveries(postgres_url) == 3


def _task_ids(path: Path) -> set[int]:
    return {line["body"]["task"]["id"] for line in received(path)}


def test_a_signed_link_completes_or_snoozes_and_a_forged_or_foreign_one_is_refused(
    sqlite_url: str,
) -> None:
    due = datetime.now(UTC) + timedelta(days=1)
    task_id = add_task(sqlite_url, "renew passport", due, user_id="ann")
    other = add_task(sqlite_url, "second task", due, user_id="ann")
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        key = link_key(conn)
    engine.dispose()
    now = time.time()
    snooze = sign_link(key, user_id="ann", task_id=task_id, action="snooze", now=now)
    complete = sign_link(key, user_id="ann", task_id=other, action="complete", now=now)
    foreign = sign_link(key, user_id="bob", task_id=task_id, action="complete", now=now)
    expired = sign_link(key, user_id="ann", task_id=task_id, action="complete",
                        now=now - 4 * 24 * 3600)  # fmt: skip
    mac = complete.split(".")[1]
    forged = b64url(json.dumps(["ann", task_id, "complete", int(now) + 60]).encode()) + "." + mac

    # Signed-in mode, and no session sent: the link alone is what lets its holder act.
    with running_stack(sqlite_url, JWT_SECRET=SECRET, MCP_SERVICE_TOKEN=SERVICE_TOKEN) as stack:
        act = f"{stack.chat_url}/api/reminders/act"
        snoozed = httpx.post(act, json={"token": snooze})
        done = httpx.post(act, json={"token": complete})
        refused = [httpx.post(act, json={"token": t}) for t in (forged, expired, "x")]
        bobs = httpx.post(act, json={"token": foreign})
        page = httpx.get(f"{stack.chat_url}/reminder")
        manifest = httpx.get(f"{stack.chat_url}/manifest.webmanifest")
        worker = httpx.get(f"{stack.chat_url}/sw.js")

    assert snoozed.status_code == 200, snoozed.text
    reminders = snoozed.json()["task"]["reminders"]
    assert reminders[0] == {"before": "PT0S"}
    snoozed_until = datetime.fromisoformat(reminders[1]["at"])
    assert timedelta(minutes=14) < snoozed_until - datetime.now(UTC) <= timedelta(minutes=15)
    assert done.status_code == 200 and done.json()["task"]["completed"] is True
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert "expired" in refused[1].json()["message"]
    assert bobs.status_code == 404  # bob has no such task: his link cannot reach ann's
    assert page.status_code == 200 and "reminder-link.js" in page.text
    assert manifest.headers["content-type"] == "application/manifest+json"
    assert manifest.json()["display"] == "standalone"
    assert "notificationclick" in worker.text


# --- the "done when": every channel, two instances, a restart, the digest ---------


def _channel_of(line: dict[str, Any]) -> str:
    return {"/hook": "webhook", "/": "ntfy"}.get(line["path"], "webpush")


def _said(line: dict[str, Any], browser: Browser) -> tuple[str, str, bool | None]:
    """(channel, what it was about, late) of one received POST."""
    channel = _channel_of(line)
    body = line["body"]
    if channel == "webpush":
        data = browser.decrypt(base64.b64decode(line["raw"]))
        return channel, data["title"], data["late"]
    if channel == "ntfy":
        return channel, body["title"], None
    about = f"Reminder: {body['task']['title']}" if body["type"] == "reminder" else "digest"
    return channel, about, body["late"]


def _mail(maildir: Path) -> list[str]:
    return sorted(str(message["Subject"]) for message in mailbox.Maildir(maildir))


@pytest.mark.postgres
def test_every_channel_is_reminded_once_across_a_restart_and_gets_the_digest_on_time(
    postgres_url: str, receiver: tuple[str, Path], tmp_path: Path
) -> None:
    hook, got = receiver
    base = hook.removesuffix("/hook")
    smtp_port, maildir = free_port(), tmp_path / "mail"
    smtp = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-l",
                             f"127.0.0.1:{smtp_port}", "-c", "aiosmtpd.handlers.Mailbox",
                             str(maildir)], cwd=ROOT)  # fmt: skip
    browser = Browser(f"{base}/push/local")
    engine = make_engine(postgres_url)
    upgrade_all(engine)
    with Session(engine) as session:
        for kind, target in (("webhook", hook), ("ntfy", f"{base}/reminders"),
                             ("email", "ann@example.com"), ("webpush", browser.subscription)):
            channels.add_channel(session, user_id="local", kind=kind, target=target,
                                 allow_private=True, now=datetime.now(UTC))  # fmt: skip
    env = {"SMTP_URL": f"smtp://127.0.0.1:{smtp_port}"}

    def said() -> list[tuple[str, str, bool | None]]:
        return sorted(_said(line, browser) for line in received(got))

    servers = task_servers(postgres_url, env=env)
    try:
        # Due in a moment with both instances up: every channel, once, within seconds.
        first = datetime.now(UTC) + timedelta(seconds=3)
        add_task(postgres_url, "water the plants", first)
        assert eventually(lambda: len(said()) == 3 and _mail(maildir))  # noqa: PLR2004
        arrived = datetime.now(UTC)
        assert arrived - first < timedelta(seconds=10)
        # Due while every process was down (five minutes of it): sent when they are back,
        # late, once.
        for server in servers:
            server.stop()
        add_task(postgres_url, "feed the cat", datetime.now(UTC) - timedelta(minutes=5))
        servers = task_servers(postgres_url, env=env)
        assert eventually(lambda: len(said()) == 6 and len(_mail(maildir)) == 2)  # noqa: PLR2004

        # The digest at the next minute of the user's own clock (a zone with a :45 offset).
        zone, now = ZoneInfo("Asia/Kathmandu"), datetime.now(UTC)
        at = (now.astimezone(zone) + timedelta(minutes=1)).strftime("%H:%M")
        due = channels.next_digest_at(at, zone, now)
        with Session(engine) as session:
            channels.set_digest(session, user_id="local", at=at, zone_name=zone.key, now=now)
        assert eventually(lambda: len(said()) == 9 and len(_mail(maildir)) == 3,  # noqa: PLR2004
                          timeout=120)  # fmt: skip
        assert timedelta(0) <= datetime.now(UTC) - due < timedelta(seconds=15)
    finally:
        for server in servers:
            server.stop()
        smtp.terminate()
        smtp.wait(timeout=10)
        engine.dispose()

    reminder, late = "Reminder: water the plants", "Reminder: feed the cat"
    assert said() == sorted([
        ("webhook", reminder, False), ("webhook", late, True), ("webhook", "digest", False),
        ("ntfy", reminder, None), ("ntfy", late, None), ("ntfy", _digest_subject(got), None),
        ("webpush", reminder, False), ("webpush", late, True),
        ("webpush", _digest_subject(got), False),
    ])  # fmt: skip
    assert _mail(maildir) == sorted([reminder, late, _digest_subject(got)])
    digest = next(line["body"] for line in received(got) if line["path"] == "/hook"
                  and line["body"]["type"] == "digest")  # fmt: skip
    assert digest["timezone"] == "Asia/Kathmandu"
    assert digest["date"] == due.astimezone(zone).date().isoformat()
    assert [task["title"] for task in digest["overdue"]] == ["feed the cat", "water the plants"]
    assert deliveries(postgres_url) == 12  # noqa: PLR2004


def _digest_subject(got: Path) -> str:
    return next(str(line["body"]["title"]) for line in received(got) if line["path"] == "/"
                and line["body"]["title"].startswith("Today:"))  # fmt: skip
