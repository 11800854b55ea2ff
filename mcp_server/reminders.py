"""Reminders on a task: their rules, their fire times, and their rows in task_reminder.

A reminder is `before` the task's due by an ISO 8601 duration (PT30M, P1D, P1W, PT1H30M),
or `at` a moment (an ISO 8601 date-time with an offset). A date-only due counts from the
start of its day in the task's zone (UTC when it has none), so P1D before 2025-03-10 fires
at 2025-03-09 00:00 there. The rows are rewritten whenever the due, the zone or the
reminders change (a sent reminder then fires again for the new time), and each next
occurrence of a repeating task gets the same reminders for its own due.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from mcp_server.models import REMINDER_TABLE
from mcp_server.task_rules import InvalidTaskInput, parse_due, time_zone
from shared.channels import MAX_BEFORE, duration, get_default_reminders
from shared.contract import ReminderSpec

MAX_REMINDERS = 5  # per task

_r = REMINDER_TABLE


def parse_duration(text: str) -> timedelta:
    """A strict ISO 8601 duration of weeks, days, hours, minutes and seconds: PT30M, P1DT2H."""
    length = duration(text)
    if length is not None:
        return length
    if duration(text, longest=None) is not None:
        raise InvalidTaskInput(f"reminders: before {text!r} is more than {MAX_BEFORE.days} days")
    raise InvalidTaskInput(
        f"reminders: before {text!r} is not an ISO 8601 duration like PT30M, PT2H, P1D "
        "or P1W (years and months are not accepted)"
    )


def _fields(item: object) -> Mapping[str, Any]:
    if isinstance(item, Mapping):
        return item
    dump = getattr(item, "model_dump", None)  # the tool's input model
    if dump is None:
        raise InvalidTaskInput('reminders: each one is {"before": "PT30M"} or {"at": "..."}')
    return {key: value for key, value in dump().items() if value is not None}


def clean_reminders(items: Sequence[object]) -> list[str]:
    """Each reminder as stored ("before PT30M", "at 2025-03-10T09:00:00+01:00")."""
    if len(items) > MAX_REMINDERS:
        raise InvalidTaskInput(f"reminders: at most {MAX_REMINDERS} per task")
    specs: list[str] = []
    for item in items:
        fields = _fields(item)
        if set(fields) == {"before"}:
            parse_duration(fields["before"])
            spec = f"before {str(fields['before']).strip().upper()}"
        elif set(fields) == {"at"}:
            moment, is_date = parse_due(str(fields["at"]), "reminders: at")
            if is_date:
                raise InvalidTaskInput("reminders: at needs a date-time with an offset, "
                                       "like 2025-03-10T09:00:00+01:00")  # fmt: skip
            spec = f"at {datetime.fromisoformat(str(fields['at']).strip()).isoformat()}"
        else:
            raise InvalidTaskInput('reminders: each one is {"before": "PT30M"} or {"at": "..."}')
        if spec not in specs:  # the same reminder twice would fire twice
            specs.append(spec)
    return specs


def fire_at(spec: str, due_at: datetime | None, is_date: bool, zone_name: str | None) -> datetime:
    """When a stored reminder fires (UTC) for a task with this due."""
    kind, _, value = spec.partition(" ")
    if kind == "at":
        return datetime.fromisoformat(value).astimezone(UTC).replace(microsecond=0)
    if due_at is None:
        raise InvalidTaskInput(
            f"reminders: before {value} needs a due date; give the task a due, or remind it "
            'at a time ({"at": "2025-03-10T09:00:00+01:00"})'
        )
    due = due_at.astimezone(UTC)
    if is_date:
        due = datetime.combine(due.date(), time(), time_zone(zone_name)).astimezone(UTC)
    return due - parse_duration(value)


def defaults(conn: Connection, *, user_id: str, task: Mapping[str, Any]) -> list[str]:
    """The reminders a new task added without any gets: `user_id`'s default, when the task
    is due at a time (a date-only due has no moment to count from)."""
    if task.get("due_at") is None or task.get("due_is_date"):
        return []
    return get_default_reminders(conn, user_id=user_id)


def specs_of(conn: Connection, task_id: int) -> list[str]:
    """The stored reminders of a task, in order."""
    rows = conn.execute(select(_r.c.spec).where(_r.c.task_id == task_id).order_by(_r.c.position))
    return [spec for (spec,) in rows]


def write(
    conn: Connection, *, task_id: int, user_id: str, specs: Sequence[str], task: Mapping[str, Any]
) -> None:
    """Replace the task's reminder rows with `specs`, timed for the task's due and zone."""
    times = [fire_at(spec, task["due_at"], task["due_is_date"], task["timezone"])
             for spec in specs]  # fmt: skip
    # A reminder kept at the same moment keeps having been sent: adding a reminder (or a
    # snooze) must not fire again the ones already gone.
    sent = {(row.spec, _utc(row.fire_at)): row for row in conn.execute(
        select(_r).where(_r.c.task_id == task_id, _r.c.sent_at.is_not(None)))}  # fmt: skip
    conn.execute(delete(_r).where(_r.c.task_id == task_id))
    rows = []
    for position, (spec, moment) in enumerate(zip(specs, times, strict=True)):
        before = sent.get((spec, moment))
        rows.append({"task_id": task_id, "user_id": user_id, "position": position, "spec": spec,
                     "fire_at": moment, "late": bool(before and before.late),
                     "sent_at": before.sent_at if before else None,
                     "outcome": before.outcome if before else None})  # fmt: skip
    if rows:
        conn.execute(insert(_r), rows)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_specs(specs: Sequence[str]) -> list[ReminderSpec]:
    """Stored reminders as the contract's list."""
    found: list[ReminderSpec] = []
    for spec in specs:
        kind, _, value = spec.partition(" ")
        found.append({"before": value} if kind == "before" else {"at": value})
    return found
