"""A task as a CalDAV item and a client's VTODO as task tool arguments.

The item a task is served as is the calendar feed's VTODO (chat_server/transfer/ical.py),
under the UID a client gave it when a client made it. A VTODO a client sends is read for
what a task holds: summary, notes, due (a date, or a moment with its zone), priority,
categories as tags, the repeat rule and whether it is done. Alarms and RELATED-TO are not
read back (the task keeps its own reminders and parent).
"""

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Todo

from chat_server.transfer.ical import PRODID, todo_of
from shared.contract import Priority, TaskDict

UNTITLED = "Untitled"
# RFC 5545 PRIORITY 1-4 reads as high, 5 (and 0, undefined) as medium, 6-9 as low.
HIGHEST_HIGH, LOWEST_LOW = 4, 6


def item_text(task: TaskDict, *, uid: str | None, domain: str) -> str:
    """The task as one VCALENDAR holding its VTODO (and the VTIMEZONE its due names)."""
    todo = todo_of(task, domain)
    if uid is not None:
        todo["uid"] = uid
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add_component(todo)
    calendar.add_missing_timezones()
    text: str = calendar.to_ical().decode()
    return text


def todo_in(text: str) -> Todo:
    """The VTODO of a client's item (ValueError when it holds none)."""
    try:
        calendar = Calendar.from_ical(text)
    except ValueError as exc:
        raise ValueError(f"not an iCalendar object: {exc}") from None
    for component in calendar.walk("VTODO"):
        assert isinstance(component, Todo)
        return component
    raise ValueError("only VTODO items are kept here")


def priority_of(todo: Todo) -> Priority:
    """RFC 5545 PRIORITY (1 highest .. 9 lowest, 0 undefined) as taskchat's three."""
    value = int(todo.get("priority", 0) or 0)
    if 1 <= value <= HIGHEST_HIGH:
        return "high"
    if value >= LOWEST_LOW:
        return "low"
    return "medium"


def due_of(todo: Todo) -> tuple[str, str | None]:
    """DUE as the tools take it ("" for none) and the zone a timed due was given in.

    A floating time (no zone) is read as UTC.
    """
    if "due" not in todo:
        return "", None
    value = todo.decoded("due")
    if isinstance(value, datetime):
        zone = value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z"), zone
    if isinstance(value, date):
        return value.isoformat(), None
    return "", None


def tags_of(todo: Todo, list_name: str) -> list[str]:
    """CATEGORIES as tags, without the list's own name (the feed adds it as a category)."""
    found: list[str] = []
    raw = todo.get("categories")
    for entry in raw if isinstance(raw, list) else [raw] if raw is not None else []:
        found += [str(category) for category in entry.cats]
    return [tag for tag in dict.fromkeys(found) if tag and tag != list_name]


def fields_of(todo: Todo, list_name: str) -> dict[str, Any]:
    """What the VTODO says of a task, as add_task/update_task arguments."""
    due, zone = due_of(todo)
    rule = todo.get("rrule")
    fields: dict[str, Any] = {
        "title": str(todo.get("summary", "")).strip() or UNTITLED,
        "description": str(todo.get("description", "")),
        "due": due,
        "priority": priority_of(todo),
        "tags": tags_of(todo, list_name),
        "repeat": rule.to_ical().decode() if rule is not None and due else "",
    }
    if zone is not None:
        fields["timezone"] = zone
    return fields


def is_done(todo: Todo) -> bool:
    """Whether the client marked the VTODO done."""
    return str(todo.get("status", "")).upper() == "COMPLETED" or "completed" in todo


def changes(task: TaskDict, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields that differ from the task: only these go to update_task."""
    current = {
        "title": task["title"],
        "description": task["description"] or "",
        "due": _same_due(task["due"], fields["due"]),
        "priority": task["priority"],
        "tags": task["tags"],
        "repeat": task.get("repeat") or "",
    }
    changed = {
        key: value for key, value in fields.items() if key in current and current[key] != value
    }
    if (
        "timezone" in fields
        and fields["timezone"] != task.get("timezone")
        and ("due" in changed or "repeat" in changed)
    ):
        changed["timezone"] = fields["timezone"]
    return changed


def _same_due(due: str | None, sent: str) -> str:
    """The task's due in the form `sent` has, when both name the same moment or day."""
    if not due:
        return ""
    if "T" not in due or "T" not in sent:
        return due
    try:
        if datetime.fromisoformat(due) == datetime.fromisoformat(sent):
            return sent
    except ValueError:
        pass
    return due
