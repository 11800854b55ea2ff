"""The reminder scheduler against real receivers on loopback: a webhook server that checks
signatures, an SMTP server (aiosmtpd), SQLite files and PostgreSQL; the clock is injected."""

import asyncio
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import tasks
from mcp_server.metrics import REMINDERS
from mcp_server.models import REMINDER_TABLE
from mcp_server.scheduler import Scheduler
from shared import channels
from shared.db import make_engine
from shared.migrate import upgrade_all
from shared.settings import Settings

DUE = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)
FIRES = DUE - timedelta(minutes=30)


class Receiver:
    """Webhook deliveries as received, each with whether its signature was right."""

    def __init__(self) -> None:
        self.secret = ""
        self.bodies: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.fail_first = 0
        self.lock = threading.Lock()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            expected = "sha256=" + hmac.new(got.secret.encode(), body, hashlib.sha256).hexdigest()
            with got.lock:
                if got.fail_first:
                    got.fail_first -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                if not hmac.compare_digest(expected, self.headers["X-Taskchat-Signature"]):
                    got.bad_signatures += 1
                got.bodies.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox(free_tcp_port: int) -> Iterator[tuple[Mailbox, str]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_tcp_port)
    controller.start()
    yield box, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


def settings(smtp_url: str | None = None) -> Settings:
    return Settings(_env_file=None, jwt_secret=None, reminder_allow_private_urls=True,
                    smtp_url=smtp_url, smtp_from="tasks@example.com")  # fmt: skip


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_all(engine)
    yield engine
    engine.dispose()


def add_task(engine: Engine, title: str = "call the bank", user_id: str = "ann") -> int:
    with Session(engine) as session:
        data = tasks.NewTask(title=title, due=DUE.isoformat(), reminders=[{"before": "PT30M"}])
        change = tasks.add_task(session, user_id=user_id, data=data, now=DUE - timedelta(days=1))
        session.commit()
        return change["task_id"]


def add_webhook(engine: Engine, url: str, got: Receiver, user_id: str = "ann") -> None:
    with Session(engine) as session:
        made = channels.add_channel(session, user_id=user_id, kind="webhook", target=url,
                                    allow_private=True, now=DUE)  # fmt: skip
    got.secret = made["secret"]


async def test_a_due_reminder_is_posted_signed_once_and_not_before_its_time(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    task_id = add_task(engine)
    add_webhook(engine, url, got)
    scheduler = Scheduler(engine, settings())

    assert await scheduler.tick(FIRES - timedelta(seconds=1)) == []
    await scheduler.tick(FIRES + timedelta(seconds=5))
    await scheduler.tick(FIRES + timedelta(seconds=10))

    assert got.bad_signatures == 0
    assert [(body["type"], body["task"]["id"], body["late"]) for body in got.bodies] == [
        ("reminder", task_id, False)
    ]
    with engine.connect() as conn:
        assert conn.execute(select(REMINDER_TABLE.c.outcome)).scalars().all() == ["sent"]


async def test_a_webhook_that_fails_at_first_is_retried_with_backoff(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    got.fail_first = 2
    add_task(engine)
    add_webhook(engine, url, got)

    await Scheduler(engine, settings()).tick(FIRES)

    assert len(got.bodies) == 1


async def test_an_email_reminder_goes_through_the_smtp_server(
    engine: Engine, mailbox: tuple[Mailbox, str]
) -> None:
    box, smtp_url = mailbox
    add_task(engine, "renew passport")
    with Session(engine) as session:
        channels.add_channel(session, user_id="ann", kind="email", target="ann@example.com",
                             allow_private=False, now=DUE)  # fmt: skip

    await Scheduler(engine, settings(smtp_url)).tick(FIRES)

    assert [(m["To"], m["Subject"]) for m in box.messages] == [
        ("ann@example.com", "Reminder: renew passport")
    ]


async def test_two_schedulers_racing_on_one_database_deliver_each_reminder_once(
    database_url: str, engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    ids = {add_task(engine, f"task {n}") for n in range(30)}
    add_webhook(engine, url, got)
    other = make_engine(database_url)  # a second instance: its own connections
    first, second = Scheduler(engine, settings()), Scheduler(other, settings())

    for step in range(3):
        moment = FIRES + timedelta(seconds=step)
        await asyncio.gather(first.tick(moment), second.tick(moment), first.tick(moment))
    other.dispose()

    delivered = [body["task"]["id"] for body in got.bodies]
    assert sorted(delivered) == sorted(ids)


async def test_a_reminder_due_while_every_process_was_down_is_sent_once_marked_late(
    database_url: str, engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    add_task(engine)
    add_webhook(engine, url, got)
    await Scheduler(engine, settings()).tick(FIRES - timedelta(minutes=1))
    engine.dispose()  # the process stops before the reminder's time

    restarted = make_engine(database_url)
    await Scheduler(restarted, settings()).tick(FIRES + timedelta(hours=2))
    await Scheduler(restarted, settings()).tick(FIRES + timedelta(hours=2, seconds=5))
    restarted.dispose()

    assert [body["late"] for body in got.bodies] == [True]


async def test_a_completed_task_sends_no_reminder(
    engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    task_id = add_task(engine)
    add_webhook(engine, url, got)
    with Session(engine) as session:
        tasks.set_completed(session, user_id="ann", task_id=task_id, now=DUE - timedelta(hours=2))
        session.commit()

    await Scheduler(engine, settings()).tick(FIRES)

    assert got.bodies == []


async def test_the_daily_digest_lists_today_and_overdue_once_a_day_at_the_users_time(
    database_url: str, engine: Engine, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    add_task(engine, "due today")
    with Session(engine) as session:
        data = tasks.NewTask(title="late one", due="2025-03-09")
        tasks.add_task(session, user_id="ann", data=data, now=DUE - timedelta(days=3))
        session.commit()
        channels.set_digest(session, user_id="ann", at="08:00", zone_name="Europe/Berlin",
                            now=DUE - timedelta(days=1))  # fmt: skip
    add_webhook(engine, url, got)
    other = make_engine(database_url)
    morning = datetime(2025, 3, 11, 7, 0, 30, tzinfo=UTC)  # 08:00:30 in Berlin

    await Scheduler(engine, settings()).tick(morning - timedelta(minutes=1))
    await asyncio.gather(Scheduler(engine, settings()).tick(morning),
                         Scheduler(other, settings()).tick(morning))  # fmt: skip
    other.dispose()

    digests = [body for body in got.bodies if body["type"] == "digest"]
    assert len(digests) == 1
    assert digests[0]["date"] == "2025-03-11"
    assert [t["title"] for t in digests[0]["due_today"]] == ["due today"]
    assert [t["title"] for t in digests[0]["overdue"]] == ["late one"]


def test_webhooks_to_loopback_and_private_addresses_are_refused_by_default() -> None:
    for url in ("http://127.0.0.1/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                "http://[::1]/x", "ftp://example.com/x", "http://user:pw@example.com/"):
        with pytest.raises(channels.ChannelError):
            channels.check_url(url, allow_private=False)
    assert channels.check_url("http://127.0.0.1/x", allow_private=True)


def _count(kind: str, outcome: str) -> float:
    return float(REMINDERS.labels(kind, outcome)._value.get())


async def test_each_delivery_is_counted_and_logged_without_its_url_or_secret(
    engine: Engine, receiver: tuple[Receiver, str], caplog: pytest.LogCaptureFixture
) -> None:
    got, url = receiver
    on_time, missed = add_task(engine, "on time"), add_task(engine, "missed", user_id="bob")
    add_webhook(engine, url, got)
    with Session(engine) as session:  # bob's hook answers nothing: port 9 is closed
        channels.add_channel(session, user_id="bob", kind="webhook", target="http://127.0.0.1:9/",
                             allow_private=True, now=DUE)  # fmt: skip
    before = {o: _count("reminder", o) for o in ("due", "late", "sent", "failed")}
    scheduler = Scheduler(engine, settings())
    scheduler.sender.webhook_attempts = 1
    caplog.set_level(logging.INFO, logger="mcp_server.scheduler")

    await scheduler.tick(FIRES + timedelta(minutes=5))  # late: five minutes after its time

    grown = {o: _count("reminder", o) - n for o, n in before.items()}
    assert grown == {"due": 2, "late": 2, "sent": 1, "failed": 1}
    lines = sorted(r.getMessage() for r in caplog.records if r.name == "mcp_server.scheduler")
    moment = "2025-03-11T08:30:00Z:before PT30M"
    assert lines == [
        f"reminder:{on_time}:{moment} for user ann sent to webhook channel 1 (round 1) (late)",
        f"reminder:{missed}:{moment} for user bob failed to webhook channel 2 (round 1) (late): "
        "could not be reached (ConnectError)",
    ]
    assert not any(url in line or got.secret in line for line in lines)
