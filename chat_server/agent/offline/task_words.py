"""A task's list, repeat rule, reminders and subtasks in the words a reply uses."""

import re
from datetime import datetime
from typing import Any

from chat_server.agent.offline.dates import describe_due

Task = dict[str, Any]
INBOX = "Inbox"
_DURATION = re.compile(
    r"^P(?:(?P<week>\d+)W)?(?:(?P<day>\d+)D)?(?:T(?:(?P<hour>\d+)H)?(?:(?P<minute>\d+)M)?)?$"
)


def duration_words(value: str) -> str:
    """ "PT30M" -> "30 minutes", "P1D" -> "a day"."""
    match = _DURATION.match(value.upper())
    if match is None:
        return value
    parts = [(int(n), unit) for unit, n in match.groupdict().items() if n and int(n)]
    if not parts:
        return "no time"
    return " ".join(
        (f"a{'n' if unit == 'hour' else ''} {unit}" if n == 1 else f"{n} {unit}s")
        for n, unit in parts
    )


def reminder_words(reminders: list[dict[str, str]], now: datetime) -> str:
    """ "30 minutes before and at 5pm today": when the reminders fire."""
    said = []
    for reminder in reminders:
        if before := reminder.get("before"):
            said.append("at the due time" if duration_words(before) == "no time"
                        else f"{duration_words(before)} before")  # fmt: skip
        elif at := reminder.get("at"):
            said.append(f"at {describe_due(at, now)}")
    return " and ".join(said)


def extra_details(task: Task, now: datetime, *, long: bool = True) -> list[str]:
    """The list (unless the Inbox), the rule, the reminders and open subtasks, as phrases."""
    parts = []
    if (name := task.get("list")) and name != INBOX:
        parts.append(f"in {name}")
    repeats = "repeats " if long else ""
    if rule := task.get("repeat_text"):
        parts.append(f"{repeats}{rule}")
    elif (recurrence := task.get("recurrence", "none")) not in ("none", "custom"):
        parts.append(f"{repeats}{recurrence}")
    if (task.get("repeat") or task.get("repeat_text")) and task.get("repeat_from") == "completion":
        parts[-1] += " after it's done"
    if reminders := task.get("reminders"):
        parts.append(f"reminder {reminder_words(reminders, now)}")
    if open_subtasks := task.get("open_subtasks"):
        parts.append(f"{open_subtasks} open subtask{'s' if open_subtasks > 1 else ''}")
    return parts
