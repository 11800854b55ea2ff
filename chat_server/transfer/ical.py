"""Tasks as iCalendar (RFC 5545), built with the `icalendar` library: one VTODO per task, or
a VEVENT per task for calendars that ignore to-dos.

A timed task that repeats in a zone carries DUE;TZID=<zone> and that zone's VTIMEZONE, so
9:00 stays 9:00 across DST in every calendar; any other timed task is in UTC; a date-only
task is an all-day VALUE=DATE. UIDs are stable (`task-<id>@<host>`), so a calendar that
polls the feed updates each task in place.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, Todo, vRecur
from icalendar.prop import vDuration

from shared.contract import Priority, TaskDict

PRODID = "-//taskchat//tasks//EN"
# RFC 5545 PRIORITY: 1 highest, 9 lowest (0: undefined); the three common values.
ICAL_PRIORITY: dict[Priority, int] = {"high": 1, "medium": 5, "low": 9}
# How long a timed task lasts as a VEVENT: calendars draw an event of no length badly.
EVENT_MINUTES = 30


def uid_of(task_id: int, domain: str) -> str:
    """The stable UID of a task: the same in every feed and export of this server."""
    return f"task-{task_id}@{domain}"


def due_value(task: TaskDict) -> date | datetime | None:
    """The task's due as iCalendar wants it: a date, a datetime in the task's zone, or UTC."""
    due = task["due"]
    if not due:
        return None
    if "T" not in due:
        return date.fromisoformat(due)
    moment = datetime.fromisoformat(due).astimezone(UTC)
    zone = _zone(task.get("timezone"))
    return moment.astimezone(zone) if zone is not None else moment


def _zone(name: str | None) -> ZoneInfo | None:
    if not name or name == "UTC":
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _common(component: Todo | Event, task: TaskDict, domain: str) -> None:
    """What a VTODO and a VEVENT of a task share: UID, summary, notes, categories, rule."""
    component.add("uid", uid_of(task["id"], domain))
    component.add("dtstamp", datetime.fromisoformat(task["updated_at"]).astimezone(UTC))
    component.add("created", datetime.fromisoformat(task["created_at"]).astimezone(UTC))
    component.add("last-modified", datetime.fromisoformat(task["updated_at"]).astimezone(UTC))
    component.add("summary", task["title"])
    if task["description"]:
        component.add("description", task["description"])
    categories = [*task["tags"], *([task["list"]] if task.get("list") else [])]
    if categories:
        component.add("categories", categories)
    component.add("priority", ICAL_PRIORITY[task["priority"]])
    if (rule := task.get("repeat")) and task["due"]:
        component.add("rrule", vRecur.from_ical(rule))
    if (parent := task.get("parent_id")) is not None:
        component.add("related-to", uid_of(parent, domain))
    for alarm in alarms(task):
        component.add_component(alarm)


def alarms(task: TaskDict) -> list[Alarm]:
    """A VALARM per reminder: `before` the due as a negative duration, `at` a UTC moment."""
    found = []
    for reminder in task.get("reminders") or []:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", task["title"])
        if "before" in reminder:
            alarm.add("trigger", -_duration(reminder["before"]), parameters={"RELATED": "END"})
        else:
            moment = datetime.fromisoformat(reminder["at"]).astimezone(UTC)
            alarm.add("trigger", moment)
        found.append(alarm)
    return found


def _duration(text: str) -> timedelta:
    """An ISO 8601 duration as the task server writes them (PT30M, P1D, P1W, P1DT2H)."""
    value = vDuration.from_ical(text)  # type: ignore[no-untyped-call]
    assert isinstance(value, timedelta)
    return value


def todo_of(task: TaskDict, domain: str) -> Todo:
    """One task as a VTODO."""
    todo = Todo()
    _common(todo, task, domain)
    if (due := due_value(task)) is not None:
        # A repeating VTODO needs DTSTART (RFC 5545 3.8.5.3): the series starts at the due.
        if task.get("repeat"):
            todo.add("dtstart", due)
        todo.add("due", due)
    if task["completed"]:
        todo.add("status", "COMPLETED")
        if task["completed_at"]:
            todo.add("completed", datetime.fromisoformat(task["completed_at"]).astimezone(UTC))
    else:
        todo.add("status", "NEEDS-ACTION")
    return todo


def event_of(task: TaskDict, domain: str) -> Event | None:
    """One task as a VEVENT (all-day, or EVENT_MINUTES from its due), or None without a due."""
    due = due_value(task)
    if due is None:
        return None
    event = Event()
    _common(event, task, domain)
    event.add("dtstart", due)
    if isinstance(due, datetime):
        event.add("dtend", due + timedelta(minutes=EVENT_MINUTES))
    else:
        event.add("dtend", due + timedelta(days=1))
    event.add("transp", "TRANSPARENT")  # a task does not make the user busy
    return event


def calendar_of(
    tasks: Iterable[TaskDict], *, domain: str, name: str, events: bool = False
) -> Calendar:
    """A VCALENDAR of the tasks (as VTODOs, or VEVENTs when `events`), with the VTIMEZONEs
    their TZIDs name."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    for task in tasks:
        component = event_of(task, domain) if events else todo_of(task, domain)
        if component is not None:
            calendar.add_component(component)
    calendar.add_missing_timezones()
    return calendar
