"""Reminder delivery to web push, ntfy and webhooks through the outbox, against real
receivers on loopback: a push service that checks the VAPID signature and decrypts the
message with the keys a "browser" (this test) made, an ntfy-like server, a webhook that
fails. SQLite files and PostgreSQL; the clock is injected."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import outbox, tasks
from mcp_server.scheduler import Links, Scheduler, claim_reminders
from shared import channels
from shared.channels import DELIVERY_TABLE
from shared.db import make_engine
from shared.deployment_keys import (
    LinkError,
    b64url,
    check_link,
    link_key,
    sign_link,
    unb64url,
    vapid_key,
)
from shared.migrate import upgrade_all
from shared.settings import Settings

DUE = datetime(2025, 3, 11, 9, 0, tzinfo=UTC)
FIRES = DUE - timedelta(minutes=30)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Endpoint:
    """A loopback HTTP server that records every request and answers `status`."""

    url: str
    status: int = 201
    requests: list[Received] = field(default_factory=list)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    lock = threading.Lock()
    found = Endpoint("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                found.requests.append(Received("POST", self.path, dict(self.headers), body))
            self.send_response(found.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_all(engine)
    yield engine
    engine.dispose()


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, jwt_secret=None, reminder_allow_private_urls=True,
                    vapid_subject="mailto:ops@example.com", **values)  # fmt: skip


def add_task(engine: Engine, title: str = "call the bank", due: datetime = DUE) -> int:
    with Session(engine) as session:
        data = tasks.NewTask(title=title, due=due.isoformat(), reminders=[{"before": "PT30M"}])
        change = tasks.add_task(session, user_id="ann", data=data, now=DUE - timedelta(days=1))
        session.commit()
        return change["task_id"]


def add_channel(engine: Engine, kind: str, target: object, **extra: Any) -> channels.ChannelDict:
    with Session(engine) as session:
        return channels.add_channel(session, user_id="ann", kind=kind, target=target,
                                    allow_private=True, now=DUE, **extra)  # fmt: skip


def listed(engine: Engine) -> list[channels.ChannelDict]:
    with Session(engine) as session:
        return channels.list_channels(session, user_id="ann")


class Browser:
    """A push subscriber's keys, as a browser makes them (RFC 8291)."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"0123456789abcdef"
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = {"endpoint": endpoint, "expirationTime": None,
                             "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth,
                                 version="aes128gcm")  # fmt: skip
        return dict(json.loads(plain))


async def test_a_web_push_is_signed_with_the_stored_vapid_key_and_decrypts_for_the_browser(
    engine: Engine, endpoint: Endpoint
) -> None:
    task_id = add_task(engine)
    browser = Browser(f"{endpoint.url}/push/abc")
    add_channel(engine, "webpush", browser.subscription)

    await Scheduler(engine, settings()).tick(FIRES)

    [push] = endpoint.requests
    assert push.path == "/push/abc"
    assert (push.headers["Content-Encoding"], push.headers["TTL"]) == ("aes128gcm", "86400")
    with engine.connect() as conn:
        public = vapid_key(conn).public_b64
        key = link_key(conn)
    scheme, _, params = push.headers["Authorization"].partition(" ")
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert (scheme, fields["k"]) == ("vapid", public)
    assert Vapid02.verify(push.headers["Authorization"])
    claims = json.loads(unb64url(fields["t"].split(".")[1]))
    assert (claims["aud"], claims["sub"]) == (endpoint.url, "mailto:ops@example.com")
    shown = browser.decrypt(push.body)
    assert (shown["title"], shown["task_id"], shown["late"]) == (
        "Reminder: call the bank", task_id, False)
    assert check_link(key, shown["tokens"]["snooze"]).action == "snooze"
    assert check_link(key, shown["tokens"]["complete"]).task_id == task_id


async def test_a_push_subscription_the_push_service_dropped_pauses_the_channel(
    engine: Engine, endpoint: Endpoint
) -> None:
    endpoint.status = 410
    add_task(engine)
    add_task(engine, "second", due=DUE + timedelta(hours=1))
    add_channel(engine, "webpush", Browser(f"{endpoint.url}/gone").subscription)
    scheduler = Scheduler(engine, settings())

    await scheduler.tick(FIRES)
    await scheduler.tick(FIRES + timedelta(hours=1))

    assert len(endpoint.requests) == 1  # the second reminder is not tried: paused
    [channel] = listed(engine)
    assert channel["status"] == "paused"
    assert "expired" in str(channel["last_error"])


async def test_ntfy_gets_a_json_publish_with_open_done_and_snooze_buttons(
    engine: Engine, endpoint: Endpoint
) -> None:
    endpoint.status = 200
    task_id = add_task(engine)
    add_channel(engine, "ntfy", f"{endpoint.url}/ann-reminders", token="tk_secret")
    links = "https://tasks.example.com"

    await Scheduler(engine, settings(reminder_links_url=links)).tick(FIRES)

    [publish] = endpoint.requests
    body = json.loads(publish.body)
    assert publish.path == "/"
    assert publish.headers["Authorization"] == "Bearer tk_secret"
    assert (body["topic"], body["title"], body["click"]) == (
        "ann-reminders", "Reminder: call the bank", f"{links}/")
    assert [(a["action"], a["label"]) for a in body["actions"]] == [
        ("view", "Open"), ("http", "Done"), ("http", "Snooze 15 min")]
    done = body["actions"][1]
    assert done["url"] == f"{links}/api/reminders/act"
    assert done["headers"] == {"Content-Type": "application/json"}
    with engine.connect() as conn:
        grant = check_link(link_key(conn), json.loads(done["body"])["token"])
    assert (grant.user_id, grant.task_id, grant.action) == ("ann", task_id, "complete")


async def test_a_failing_webhook_is_retried_in_later_rounds_then_given_up_and_reported(
    engine: Engine, endpoint: Endpoint
) -> None:
    endpoint.status = 500
    task_id = add_task(engine)
    add_channel(engine, "webhook", f"{endpoint.url}/hook")
    scheduler = Scheduler(engine, settings())
    scheduler.sender.webhook_attempts, scheduler.sender.webhook_backoff = 2, 0.0

    await scheduler.tick(FIRES)
    await scheduler.tick(FIRES + timedelta(seconds=30))  # before the next round's time
    await scheduler.tick(FIRES + timedelta(minutes=2))
    await scheduler.tick(FIRES + timedelta(minutes=20))
    await scheduler.tick(FIRES + timedelta(hours=5))

    assert len(endpoint.requests) == 2 * outbox.MAX_ROUNDS
    assert {r.headers["X-Taskchat-Delivery"] for r in endpoint.requests} == {
        f"reminder:{task_id}:2025-03-11T08:30:00Z:before PT30M"}
    with engine.connect() as conn:
        assert conn.execute(select(DELIVERY_TABLE.c.status, DELIVERY_TABLE.c.attempts)).all() == [
            ("failed", outbox.MAX_ROUNDS)]
    [channel] = listed(engine)
    assert channel["status"] == "failing"
    assert channel["last_error"] == "answered HTTP 500"


async def test_a_channel_failing_every_time_is_paused_and_no_longer_tried(
    engine: Engine, endpoint: Endpoint
) -> None:
    endpoint.status = 400  # refused: not retried in later rounds
    hour = timedelta(hours=1)
    for n in range(channels.MAX_FAILURES + 2):
        add_task(engine, f"task {n}", due=DUE + n * hour)
    add_channel(engine, "webhook", f"{endpoint.url}/hook")
    scheduler = Scheduler(engine, settings())

    for n in range(channels.MAX_FAILURES + 2):  # one reminder an hour
        await scheduler.tick(FIRES + n * hour)

    assert len(endpoint.requests) == channels.MAX_FAILURES
    assert listed(engine)[0]["status"] == "paused"


async def test_deliveries_a_killed_process_claimed_are_sent_late_once_by_another(
    database_url: str, engine: Engine, endpoint: Endpoint
) -> None:
    endpoint.status = 204
    add_task(engine)
    add_channel(engine, "webhook", f"{endpoint.url}/hook")
    with engine.connect() as conn:  # a process claims, then dies before it sends
        links = Links(link_key(conn), None, DUE.timestamp())
        [job] = claim_reminders(conn, FIRES, timedelta(minutes=1), links)
        conn.commit()
    assert len(job.deliveries) == 1
    other = make_engine(database_url)
    scheduler = Scheduler(other, settings())

    await scheduler.tick(FIRES + outbox.LEASE - timedelta(seconds=1))  # still its lease
    assert endpoint.requests == []
    await scheduler.tick(FIRES + outbox.LEASE + timedelta(seconds=1))
    await scheduler.tick(FIRES + outbox.LEASE + timedelta(seconds=10))
    other.dispose()

    [sent] = endpoint.requests
    assert json.loads(sent.body)["late"] is True


def test_a_reminder_link_is_bound_to_its_user_task_and_action_and_expires() -> None:
    key, now = b"k" * 32, DUE.timestamp()
    token = sign_link(key, user_id="ann", task_id=7, action="complete", now=now)
    body, mac = token.split(".")
    forged = b64url(json.dumps(["bob", 7, "complete", int(now) + 60]).encode())

    assert check_link(key, token, now=now).user_id == "ann"
    for bad in (f"{forged}.{mac}", f"{body}.{mac[:-2]}AA", token + "x", "", "a.b.c", None):
        with pytest.raises(LinkError):
            check_link(key, bad, now=now)
    with pytest.raises(LinkError, match="expired"):
        check_link(key, token, now=now + 4 * 24 * 3600)
    with pytest.raises(LinkError):
        check_link(b"other" * 8, token, now=now)


def test_a_subscription_with_bad_keys_or_a_private_endpoint_is_refused() -> None:
    good = Browser("https://push.example.com/x").subscription
    bad_keys: list[object] = [
        None, "text", {"endpoint": "https://push.example.com/x"},
        {**good, "keys": {"p256dh": "AAAA", "auth": good["keys"]["auth"]}},  # type: ignore[index]
        {**good, "keys": {**good["keys"], "auth": "c2hvcnQ"}},  # type: ignore[dict-item]
    ]  # fmt: skip
    for subscription in bad_keys:
        with pytest.raises(channels.ChannelError, match="subscription"):
            channels.check_subscription(subscription, allow_private=True)
    with pytest.raises(channels.ChannelError, match="private"):
        channels.check_subscription({**good, "endpoint": "http://127.0.0.1/x"},
                                    allow_private=False)  # fmt: skip
