"""The reminder scheduler: runs inside every task server process, no extra service.

Every REMINDER_INTERVAL_SECONDS each process claims the reminders and digests that are due,
and only then delivers them. A claim marks the rows sent in the transaction that finds
them, so each goes out exactly once however many instances and workers race: on PostgreSQL
the rows are read `FOR UPDATE SKIP LOCKED` (a second claimer skips them, then finds them
sent); on SQLite the claim runs in `BEGIN IMMEDIATE`, which one process on the machine holds
at a time. The price is at most once: a process killed between its claim and its delivery
loses those (the log and the `due` counter show it). Rows that fell due while every process
was down are claimed by the first one up, and marked `late`.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import httpx
from sqlalchemy import Select, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from mcp_server import delivery
from mcp_server.listing import TaskQuery, list_tasks
from mcp_server.metrics import REMINDERS
from mcp_server.models import REMINDER_TABLE, TASK_COLUMNS, TASK_TABLE, task_dict
from shared.channels import CHANNEL_TABLE, DIGEST_TABLE, next_digest_at
from shared.contract import TaskDict
from shared.settings import McpSettings
from shared.zones import zone_named

log = logging.getLogger(__name__)

BATCH = 50  # rows one claim takes; the rest wait for the next tick
MIN_LATE = timedelta(minutes=1)
DIGEST_TASKS = 50  # per section

_r, _t, _c, _d = REMINDER_TABLE, TASK_TABLE, CHANNEL_TABLE, DIGEST_TABLE


@dataclass(slots=True)
class Job:
    """One claimed reminder or digest, with everything its delivery needs."""

    kind: str  # reminder or digest
    id: int | str  # the reminder's id, or the digest's user
    user_id: str
    late: bool
    payload: dict[str, Any]
    subject: str
    text: str
    channels: list[delivery.Channel] = field(default_factory=list)
    completed: bool = False


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
    found: dict[str, list[delivery.Channel]] = {user: [] for user in users}
    if users:
        rows = conn.execute(select(_c).where(_c.c.user_id.in_(users)).order_by(_c.c.id))
        for row in rows:
            found[row.user_id].append(delivery.Channel(row.id, row.kind, row.target, row.secret))
    return found


def claim_reminders(conn: Connection, now: datetime, late_after: timedelta) -> list[Job]:
    """Claim (mark sent) the due reminders no other process has; the caller commits."""
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
        late = _utc(row.fire_at) < now - late_after
        jobs.append(Job(
            "reminder", row.id, row.user_id, late,
            {"type": "reminder", "task": task, "late": late, "reminder": _shown_spec(row.spec),
             "fire_at": _utc(row.fire_at).strftime("%Y-%m-%dT%H:%M:%SZ")},
            f"Reminder: {task['title']}", _reminder_text(task, late),
            channels[row.user_id], completed,
        ))  # fmt: skip
    return jobs


def _shown_spec(spec: str) -> dict[str, str]:
    kind, _, value = spec.partition(" ")
    return {kind: value}


def _reminder_text(task: TaskDict, late: bool) -> str:
    lines = [task["title"], f"Due: {task['due'] or 'no due date'}"]
    if task["description"]:
        lines.append(task["description"])
    if late:
        lines.append("(This reminder is late: the server was not running at its time.)")
    return "\n".join(lines)


def claim_digests(conn: Connection, now: datetime, late_after: timedelta) -> list[Job]:
    """Claim the due daily digests (moving each to its next day); the caller commits."""
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
        late = _utc(row.next_at) < now - late_after
        due_today = _digest_tasks(conn, row.user_id, row.timezone, now, overdue=False, day=today)
        overdue = _digest_tasks(conn, row.user_id, row.timezone, now, overdue=True, day=today)
        text = "\n".join([f"Due today ({today}):", *(f"- {t['title']}" for t in due_today),
                          "Overdue:", *(f"- {t['title']} (due {t['due']})" for t in overdue)])
        jobs.append(Job(
            "digest", row.user_id, row.user_id, late,
            {"type": "digest", "date": today, "timezone": row.timezone, "due_today": due_today,
             "overdue": overdue, "late": late},
            f"Today: {len(due_today)} due, {len(overdue)} overdue", text,
            channels[row.user_id], completed=not (due_today or overdue),
        ))  # fmt: skip
    return jobs


def _digest_tasks(
    conn: Connection, user_id: str, zone: str, now: datetime, *, overdue: bool, day: str
) -> list[TaskDict]:
    query = TaskQuery(status="pending", overdue=overdue, timezone=zone, sort="due",
                      limit=DIGEST_TASKS, subtasks="all",
                      **({} if overdue else {"due_after": day, "due_before": day}))  # fmt: skip
    with Session(bind=conn) as session:  # the listing reads through a session on `conn`
        return list_tasks(session, user_id=user_id, query=query, now=now)["tasks"]


def _record(conn: Connection, job: Job, outcome: str) -> None:
    if job.kind == "reminder":
        conn.execute(update(_r).where(_r.c.id == job.id).values(outcome=outcome))


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
        self.client = httpx.AsyncClient(
            timeout=delivery.WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
        )

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
                await self.client.aclose()

    async def tick(self, now: datetime | None = None) -> list[Job]:
        """Claim what is due at `now` (default: the clock), then deliver it."""
        moment = (now or self.clock()).astimezone(UTC).replace(microsecond=0)
        jobs = [*await self._claim(claim_reminders, moment), *await self._claim(claim_digests,
                                                                                moment)]
        outcomes: dict[int, str] = {}

        async def one(index: int, job: Job) -> None:
            outcomes[index] = await self._deliver(job)

        async with anyio.create_task_group() as group:
            for index, job in enumerate(jobs):
                group.start_soon(one, index, job)
        if any(job.kind == "reminder" for job in jobs):
            await anyio.to_thread.run_sync(self._record, jobs, outcomes)
        return jobs

    async def _claim(
        self, claim: Callable[[Connection, datetime, timedelta], list[Job]], now: datetime
    ) -> list[Job]:
        def work() -> list[Job]:
            with self.engine.connect() as conn:
                jobs = claim(conn, now, self.late_after)
                conn.commit()
                return jobs

        jobs = await anyio.to_thread.run_sync(work)
        for job in jobs:
            REMINDERS.labels(job.kind, "due").inc()
            if job.late:
                REMINDERS.labels(job.kind, "late").inc()
        return jobs

    def _record(self, jobs: Sequence[Job], outcomes: dict[int, str]) -> None:
        with self.engine.begin() as conn:
            for index, job in enumerate(jobs):
                _record(conn, job, outcomes.get(index, "failed"))

    async def _deliver(self, job: Job) -> str:
        if job.completed or not job.channels:
            reason = "nothing to send" if job.kind == "digest" else (
                "task done" if job.completed else "no channels")  # fmt: skip
            log.info("%s %s skipped: %s", job.kind, job.id, reason)
            REMINDERS.labels(job.kind, "skipped").inc()
            return "skipped"
        delivered = 0
        for channel in job.channels:
            if channel.kind == "webhook":
                ok = await delivery.post_webhook(
                    self.client, channel, job.payload,
                    allow_private=self.settings.reminder_allow_private_urls,
                )  # fmt: skip
            else:
                ok = await delivery.send_email(self.settings.smtp_url, self.settings.smtp_from,
                                               channel, job.subject, job.text)  # fmt: skip
            delivered += ok
            log.info("%s %s for user %s %s to %s channel %s%s", job.kind, job.id, job.user_id,
                     "sent" if ok else "failed", channel.kind, channel.id,
                     " (late)" if job.late else "")  # fmt: skip
        outcome = "sent" if delivered else "failed"
        REMINDERS.labels(job.kind, outcome).inc()
        return outcome
