"""The reminder scheduler: runs inside every task server process, no extra service.

Every REMINDER_INTERVAL_SECONDS each process claims the reminders and digests that are due,
and only then delivers them. A claim marks the rows sent in the transaction that finds
them, so each fires exactly once however many instances and workers race: on PostgreSQL
the rows are read `FOR UPDATE SKIP LOCKED` (a second claimer skips them, then finds them
sent); on SQLite the claim runs in `BEGIN IMMEDIATE`, which one process on the machine holds
at a time. The same transaction writes one outbox row per channel (mcp_server/outbox.py),
which the claimer then sends; rows left pending (a failed round worth retrying, or a
process killed before it sent them) are taken up by whichever process comes next. Rows
that fell due while every process was down are claimed by the first one up, and marked
`late`.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import Select, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from mcp_server import delivery, outbox
from mcp_server.listing import TaskQuery, list_tasks
from mcp_server.metrics import REMINDERS
from mcp_server.models import REMINDER_TABLE, TASK_COLUMNS, TASK_TABLE, task_dict
from shared.channels import CHANNEL_TABLE, DIGEST_TABLE, next_digest_at
from shared.contract import TaskDict
from shared.deployment_keys import ACTIONS, link_key, sign_link, vapid_key
from shared.settings import McpSettings
from shared.zones import zone_named

log = logging.getLogger(__name__)

BATCH = 50  # rows one claim takes; the rest wait for the next tick
MIN_LATE = timedelta(minutes=1)
DIGEST_TASKS = 50  # per section
ACT_PATH = "/api/reminders/act"  # the chat server's endpoint for signed actions
LINK_PAGE = "/reminder#"  # its page that asks before acting on a link from a message

_r, _t, _c, _d = REMINDER_TABLE, TASK_TABLE, CHANNEL_TABLE, DIGEST_TABLE


@dataclass(frozen=True, slots=True)
class Links:
    """What a claim needs to put signed snooze and complete links in a reminder."""

    key: bytes
    base_url: str | None  # REMINDER_LINKS_URL: the chat server's public URL
    now: float

    def for_task(self, user_id: str, task_id: int) -> dict[str, Any]:
        """`tokens` (always: the service worker posts them) and `links` (with a base URL)."""
        tokens = {action: sign_link(self.key, user_id=user_id, task_id=task_id,
                                    action=action, now=self.now) for action in ACTIONS}  # fmt: skip
        found: dict[str, Any] = {"tokens": tokens}
        if self.base_url:
            base = self.base_url.rstrip("/")
            found["links"] = {"open": f"{base}/", "act": f"{base}{ACT_PATH}",
                              **{action: f"{base}{LINK_PAGE}{token}"
                                 for action, token in tokens.items()}}  # fmt: skip
        return found


@dataclass(slots=True)
class Job:
    """One claimed reminder or digest, and the outbox rows its claim wrote."""

    kind: str  # reminder or digest
    id: int | str  # the reminder's id, or the digest's user
    user_id: str
    late: bool
    deliveries: list[outbox.Delivery]
    skipped: str | None = None  # why nothing is sent


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _locked(conn: Connection, query: Select[Any]) -> Select[Any]:
    if conn.dialect.name == "sqlite":
        return query
    return query.with_for_update(skip_locked=True)


def _begin_claim(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        # The pysqlite driver would open a deferred transaction, which two processes can
        # both hold while they read; IMMEDIATE takes the write lock first.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _channels(conn: Connection, users: set[str]) -> dict[str, list[delivery.Channel]]:
    """Each user's channels that are not paused."""
    found: dict[str, list[delivery.Channel]] = {user: [] for user in users}
    if users:
        rows = conn.execute(select(_c).where(_c.c.user_id.in_(users), _c.c.paused_at.is_(None))
                            .order_by(_c.c.id))  # fmt: skip
        for row in rows:
            found[row.user_id].append(
                delivery.Channel(row.id, row.kind, row.target, row.secret, row.push_keys))
    return found


def _job(
    conn: Connection, kind: str, ident: int | str, user_id: str, *, due_at: datetime,
    occurrence: str, message: dict[str, Any], channels: list[delivery.Channel],
    now: datetime, late_after: timedelta, skipped: str | None,
) -> Job:  # fmt: skip
    late = due_at < now - late_after
    if skipped is None and not channels:
        skipped = "no channels"
    made = [] if skipped else outbox.enqueue(
        conn, occurrence=occurrence, kind=kind, user_id=user_id, due_at=due_at,
        message=message, channels=channels, now=now)  # fmt: skip
    return Job(kind, ident, user_id, late, made, skipped)


def claim_reminders(
    conn: Connection, now: datetime, late_after: timedelta, links: Links
) -> list[Job]:
    """Claim (mark sent) the due reminders no other process has, and write their outbox
    rows; the caller commits."""
    _begin_claim(conn)
    due = conn.execute(_locked(conn, select(_r.c.id, _r.c.task_id, _r.c.user_id, _r.c.spec,
                                            _r.c.fire_at)
        .where(_r.c.sent_at.is_(None), _r.c.fire_at <= now)
        .order_by(_r.c.fire_at, _r.c.id).limit(BATCH))).all()  # fmt: skip
    if not due:
        return []
    conn.execute(update(_r).where(_r.c.id.in_([row.id for row in due]))
                 .values(sent_at=now, late=_r.c.fire_at < now - late_after))  # fmt: skip
    tasks = {row.id: (task_dict(row), row.completed_) for row in conn.execute(
        select(*TASK_COLUMNS, _t.c.completed.label("completed_"))
        .where(_t.c.id.in_({row.task_id for row in due})))}  # fmt: skip
    channels = _channels(conn, {row.user_id for row in due})
    jobs = []
    for row in due:
        task, completed = tasks[row.task_id]
        fire_at = _utc(row.fire_at)
        payload = {"type": "reminder", "task": task, "late": False,
                   "reminder": _shown_spec(row.spec), "fire_at": _stamp(fire_at),
                   **links.for_task(row.user_id, task["id"])}  # fmt: skip
        message = {"payload": payload, "subject": f"Reminder: {task['title']}",
                   "text": _reminder_text(task)}  # fmt: skip
        # Keyed by the task, the reminder and its moment (not the row, which an edit
        # rewrites): the same reminder at the same moment goes out once.
        occurrence = f"reminder:{task['id']}:{_stamp(fire_at)}:{row.spec}"[:120]
        jobs.append(_job(conn, "reminder", row.id, row.user_id, due_at=fire_at,
                         occurrence=occurrence, message=message,
                         channels=channels[row.user_id], now=now, late_after=late_after,
                         skipped="task done" if completed else None))  # fmt: skip
    return jobs


def _shown_spec(spec: str) -> dict[str, str]:
    kind, _, value = spec.partition(" ")
    return {kind: value}


def _reminder_text(task: TaskDict) -> str:
    lines = [task["title"], f"Due: {task['due'] or 'no due date'}"]
    if task["description"]:
        lines.append(task["description"])
    return "\n".join(lines)


def claim_digests(
    conn: Connection, now: datetime, late_after: timedelta, links: Links
) -> list[Job]:
    """Claim the due daily digests (moving each to its next day) and write their outbox
    rows; the caller commits."""
    _begin_claim(conn)
    due = conn.execute(_locked(conn, select(_d).where(_d.c.next_at <= now)
                               .order_by(_d.c.next_at).limit(BATCH))).all()  # fmt: skip
    jobs = []
    channels = _channels(conn, {row.user_id for row in due})
    for row in due:
        zone = zone_named(row.timezone)
        conn.execute(update(_d).where(_d.c.user_id == row.user_id).values(
            next_at=next_digest_at(row.time, zone, now), last_sent_at=now))  # fmt: skip
        today = now.astimezone(zone).date().isoformat()
        due_today = _digest_tasks(conn, row.user_id, row.timezone, now, overdue=False, day=today)
        overdue = _digest_tasks(conn, row.user_id, row.timezone, now, overdue=True, day=today)
        text = "\n".join([f"Due today ({today}):", *(f"- {t['title']}" for t in due_today),
                          "Overdue:", *(f"- {t['title']} (due {t['due']})" for t in overdue)])
        payload: dict[str, Any] = {
            "type": "digest", "date": today, "timezone": row.timezone, "due_today": due_today,
            "overdue": overdue, "late": False,
        }  # fmt: skip
        if links.base_url:
            payload["links"] = {"open": f"{links.base_url.rstrip('/')}/"}
        message = {"payload": payload, "text": text,
                   "subject": f"Today: {len(due_today)} due, {len(overdue)} overdue"}
        jobs.append(_job(conn, "digest", row.user_id, row.user_id, due_at=_utc(row.next_at),
                         occurrence=f"digest:{row.user_id}:{today}"[:120], message=message,
                         channels=channels[row.user_id], now=now, late_after=late_after,
                         skipped=None if due_today or overdue else "nothing to send"))  # fmt: skip
    return jobs


def _digest_tasks(
    conn: Connection, user_id: str, zone: str, now: datetime, *, overdue: bool, day: str
) -> list[TaskDict]:
    query = TaskQuery(status="pending", overdue=overdue, timezone=zone, sort="due",
                      limit=DIGEST_TASKS, subtasks="all",
                      **({} if overdue else {"due_after": day, "due_before": day}))  # fmt: skip
    with Session(bind=conn) as session:  # the listing reads through a session on `conn`
        return list_tasks(session, user_id=user_id, query=query, now=now)["tasks"]


Claim = Callable[[Connection, datetime, timedelta, Links], list[Job]]


class Scheduler:
    """Claims and delivers due reminders and digests; `tick` is one round, `run` loops."""

    def __init__(
        self, engine: Engine, settings: McpSettings, *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:  # fmt: skip
        self.engine = engine
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.late_after = max(MIN_LATE, timedelta(seconds=3 * settings.reminder_interval_seconds))
        self.sender = delivery.Sender(
            settings.reminder_allow_private_urls, settings.smtp_url,
            settings.smtp_from, vapid_subject=settings.vapid_subject or
            f"mailto:{settings.smtp_from}",
        )  # fmt: skip
        self.link_key: bytes | None = None

    async def run(self) -> None:
        """Tick every REMINDER_INTERVAL_SECONDS until cancelled; a failed tick is logged."""
        try:
            while True:
                try:
                    await self.tick()
                except Exception:
                    log.exception("reminder scheduler tick failed")
                await anyio.sleep(self.settings.reminder_interval_seconds)
        finally:
            with anyio.CancelScope(shield=True):
                await self.sender.aclose()

    async def tick(self, now: datetime | None = None) -> list[Job]:
        """Claim what is due at `now` (default: the clock), then deliver it."""
        moment = (now or self.clock()).astimezone(UTC).replace(microsecond=0)
        if self.link_key is None:
            await anyio.to_thread.run_sync(self._load_keys)
        jobs = [*await self._claim(claim_reminders, moment),
                *await self._claim(claim_digests, moment)]  # fmt: skip
        retried = await self._in_transaction(lambda conn: outbox.claim_pending(conn, moment))
        sends = [item for job in jobs for item in job.deliveries] + retried
        outcomes: dict[int, str] = {}

        async def one(item: outbox.Delivery) -> None:
            outcomes[item.id] = await self._send(item, moment)

        async with anyio.create_task_group() as group:
            for item in sends:
                group.start_soon(one, item)
        await anyio.to_thread.run_sync(self._record, jobs, outcomes)
        return jobs

    def _load_keys(self) -> None:
        with self.engine.connect() as conn:
            self.link_key = link_key(conn)
            self.sender.vapid = vapid_key(conn)

    async def _in_transaction(self, work: Callable[[Connection], Any]) -> Any:
        def run() -> Any:
            with self.engine.connect() as conn:
                found = work(conn)
                conn.commit()
                return found

        return await anyio.to_thread.run_sync(run)

    async def _claim(self, claim: Claim, now: datetime) -> list[Job]:
        links = Links(self.link_key or b"", self.settings.reminder_links_url, time.time())
        jobs: list[Job] = await self._in_transaction(
            lambda conn: claim(conn, now, self.late_after, links))
        for job in jobs:
            REMINDERS.labels(job.kind, "due").inc()
            if job.late:
                REMINDERS.labels(job.kind, "late").inc()
            if job.skipped:
                log.info("%s %s skipped: %s", job.kind, job.id, job.skipped)
                REMINDERS.labels(job.kind, "skipped").inc()
        return jobs

    async def _send(self, item: outbox.Delivery, now: datetime) -> str:
        """Deliver one outbox row and record how it went; its new status."""
        message = item.message(now, self.late_after)
        result = await delivery.deliver(self.sender, item.channel, message)
        status: str = await self._in_transaction(
            lambda conn: outbox.finish(conn, item, result, now))
        log.info("%s for user %s %s to %s channel %s (round %d)%s%s", item.occurrence,
                 item.user_id, "sent" if result.ok else "failed", item.channel.kind,
            item.channel.id, item.attempts, " (late)" if message.payload["late"] else "",
            f": {result.error}" if result.error else "")  # fmt: skip
        REMINDERS.labels(item.kind, "sent" if result.ok else "failed").inc()
        return status

    def _record(self, jobs: list[Job], outcomes: dict[int, str]) -> None:
        """Each claimed reminder's outcome: sent (to some channel), pending (a retry is
        due), failed, or skipped."""
        with self.engine.begin() as conn:
            for job in jobs:
                if job.kind != "reminder":
                    continue
                statuses = {outcomes.get(item.id, "failed") for item in job.deliveries}
                outcome = "skipped" if job.skipped else next(
                    (s for s in ("sent", "pending") if s in statuses), "failed")  # fmt: skip
                conn.execute(update(_r).where(_r.c.id == job.id).values(outcome=outcome))
