"""Import files read into items: Todoist (CSV template/export, JSON backup), TickTick's CSV
backup, and taskchat's own (or any) CSV and JSON. Pure functions: no I/O, no tool calls.

Every row becomes an Item (what add_task will be asked for) or a Problem (why it is not
imported); a value that could not be read on an imported item (a repeat no rule reads) is
a Problem too, with `imported` true, so the report names it. Each item carries the key
that recognises it again: its id in the source, or else what it says and where.
"""

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import PurePath
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser
from dateutil.rrule import rrulestr

from chat_server.transfer.repeats import read_repeat
from shared.contract import Priority

Format = Literal["todoist-csv", "todoist-json", "ticktick-csv", "csv", "json"]
FORMATS: tuple[Format, ...] = get_args(Format)
MAX_ITEMS = 10_000
TODOIST_CSV_PRIORITY: dict[str, Priority] = {"1": "high", "2": "medium", "3": "low", "4": "medium"}
# Todoist's API counts the other way: 4 is p1, its highest.
TODOIST_JSON_PRIORITY: dict[int, Priority] = {4: "high", 3: "medium", 2: "low", 1: "medium"}
TICKTICK_PRIORITY: dict[str, Priority] = {"5": "high", "3": "medium", "1": "low", "0": "medium"}
TRUE_WORDS = frozenset({"true", "yes", "1", "x", "done", "completed"})
_LABEL = re.compile(r"(?:^|\s)@(?P<label>[\w-]{1,64})")


class FormatError(ValueError):
    """The file is not in the format it was taken for (or in any format we read)."""


@dataclass
class Item:
    """One task to add: add_task's arguments, with the keys that place and recognise it."""

    key: str
    where: str
    title: str
    args: dict[str, Any] = field(default_factory=dict)
    parent_key: str | None = None
    completed: bool = False


@dataclass(frozen=True)
class Problem:
    """Why an item (row, entry) was not imported, or what of it could not be read."""

    where: str
    title: str
    reason: str
    imported: bool = False


@dataclass
class Reading:
    """What a file holds: the items to import and the problems found on the way."""

    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What reading needs besides the file: its name, the user's zone and today."""

    filename: str
    zone: ZoneInfo
    today: date


def detect(filename: str, data: bytes) -> Format:
    """The format of a file that did not say, from its name and first line."""
    head = data[:4096].decode("utf-8-sig", errors="replace")
    if filename.lower().endswith(".json") or head.lstrip().startswith(("{", "[")):
        return "todoist-json" if '"items"' in head and '"projects"' in head else "json"
    first = head.splitlines()[0] if head.strip() else ""
    if first.startswith("TYPE,CONTENT"):
        return "todoist-csv"
    if "Folder Name" in head or '"taskId"' in head or "Created Time" in head:
        return "ticktick-csv"
    return "csv"


def read(data: bytes, fmt: Format, context: Context) -> Reading:
    """The items and problems of a file in `fmt`; FormatError when it is not that at all."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError("the file is not UTF-8 text") from None
    reading = READERS[fmt](text, context)
    if len(reading.items) > MAX_ITEMS:
        raise FormatError(f"the file holds {len(reading.items):,} tasks; at most {MAX_ITEMS:,}")
    return reading


# -- dates -----------------------------------------------------------------------------------


def iso_due(value: date | datetime) -> str:
    """A due as add_task takes it: a date, or a UTC date-time."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def read_when(text: str, zone: ZoneInfo) -> date | datetime:
    """An absolute date or date-time ("2026-03-10", "Mar 10 2026 17:00", with or without an
    offset); a naive time is in `zone`. ValueError for anything else ("tomorrow")."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    try:
        moment = dateparser.parse(text, default=datetime(1, 1, 1))  # noqa: DTZ001
    except (ValueError, OverflowError):
        raise ValueError(f"the date {text!r} cannot be read") from None
    if moment.year == 1:
        raise ValueError(f"the date {text!r} names no year")
    timed = bool(re.search(r"\d:\d|\d\s*[ap]m\b", text, re.IGNORECASE))
    if not timed:
        return moment.date()
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def with_due_text(item: Item, text: str, context: Context, problems: list[Problem]) -> None:
    """Set the item's due (and repeat) from a due string such as Todoist writes; what cannot
    be read is a problem of an imported item."""
    text = text.strip()
    if not text:
        return
    try:
        repeat = read_repeat(text)
        if repeat is None:
            set_due(item, read_when(text, context.zone), context.zone)
            return
    except ValueError as exc:
        problems.append(Problem(item.where, item.title, f"due left out: {exc}", imported=True))
        return
    start = datetime.combine(context.today, repeat.at or time(0))
    first = rrulestr(repeat.rule, dtstart=start).after(start, inc=True)
    if first is None:
        return
    set_due(item, first.replace(tzinfo=context.zone) if repeat.at else first.date(), context.zone)
    item.args.update(repeat=repeat.rule, repeat_from=repeat.repeat_from)


def set_due(item: Item, due: date | datetime, zone: ZoneInfo) -> None:
    """The item's due; a timed one keeps its zone, for its repeats and DST."""
    item.args["due"] = iso_due(due)
    if isinstance(due, datetime):
        tz = due.tzinfo if isinstance(due.tzinfo, ZoneInfo) else zone
        item.args["timezone"] = tz.key


def zone_named(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    """The zone of an IANA name, or the fallback for none or an unknown one."""
    if not name:
        return fallback
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def truthy(value: object) -> bool:
    """A CSV or JSON yes: true, yes, 1, x, done."""
    return value is True or str(value).strip().lower() in TRUE_WORDS


# -- Todoist CSV -----------------------------------------------------------------------------


def read_todoist_csv(text: str, context: Context) -> Reading:
    """Todoist's CSV (its template and its per-project export): tasks under sections, INDENT
    for subtasks, @labels in the content, PRIORITY 1 (p1, highest) to 4, DATE as typed."""
    reading = Reading()
    project = PurePath(context.filename).stem or "Inbox"
    section: str | None = None
    parents: list[Item] = []  # the open task at each indent depth
    for number, row in _rows(text, required=("TYPE", "CONTENT")):
        kind = (row.get("TYPE") or "").strip().lower()
        content = (row.get("CONTENT") or "").strip()
        if kind == "section":
            section = content
            parents = []
        if kind != "task":
            continue
        labels = [m["label"].lower() for m in _LABEL.finditer(content)]
        title = _LABEL.sub("", content).strip() or content
        where = f"row {number}"
        item = Item(f"{project}/{section}/{number}/{title}", where, title)
        item.args["list"] = f"{project} / {section}" if section else project
        if labels:
            item.args["tags"] = labels
        if description := (row.get("DESCRIPTION") or "").strip():
            item.args["description"] = description
        priority = (row.get("PRIORITY") or "4").strip()
        item.args["priority"] = TODOIST_CSV_PRIORITY.get(priority, "medium")
        zone = zone_named(row.get("TIMEZONE"), context.zone)
        with_due_text(item, row.get("DATE") or "", Context(context.filename, zone, context.today),
                      reading.problems)  # fmt: skip
        depth = int(row.get("INDENT") or 1) if (row.get("INDENT") or "1").isdigit() else 1
        _place(item, depth, parents, reading)
        reading.items.append(item)
    return reading


def _place(item: Item, depth: int, parents: list[Item], reading: Reading) -> None:
    """Make the item a subtask of the task above it at a lower indent; taskchat nests one
    level, so a deeper task goes under its top-level ancestor (and the report says so)."""
    del parents[max(depth - 1, 0) :]
    if parents:
        item.parent_key = parents[0].key
        if depth > 2:  # noqa: PLR2004 - top level and one level of subtasks
            reading.problems.append(Problem(
                item.where, item.title,
                f"nested {depth - 1} levels deep: imported as a subtask of "
                f"{parents[0].title!r} (taskchat nests one level)", imported=True,
            ))  # fmt: skip
    parents.append(item)


def _rows(text: str, *, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV with a header that has the required columns."""
    rows = csv.DictReader(io.StringIO(text))
    header = rows.fieldnames or []
    missing = [name for name in required if name not in header]
    if missing:
        raise FormatError(f"the CSV has no {', '.join(missing)} column")
    for row in rows:
        yield rows.line_num, {k: v for k, v in row.items() if isinstance(k, str)}


# -- Todoist JSON ----------------------------------------------------------------------------


def read_todoist_json(text: str, context: Context) -> Reading:
    """Todoist's JSON backup (its Sync API data): projects and sections become lists,
    labels tags, priority 4 (p1) high; due.date and due.string are read, due.string's
    "every ..." as the repeat."""
    data = _json(text)
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FormatError("a Todoist JSON backup has an 'items' list")
    projects = {str(p.get("id")): str(p.get("name", "")) for p in data.get("projects") or []
                if isinstance(p, dict)}  # fmt: skip
    sections = {str(s.get("id")): str(s.get("name", "")) for s in data.get("sections") or []
                if isinstance(s, dict)}  # fmt: skip
    reading = Reading()
    for number, entry in enumerate(data["items"], start=1):
        if not isinstance(entry, dict) or entry.get("is_deleted"):
            continue
        where = f"item {entry.get('id', number)}"
        title = str(entry.get("content") or "").strip()
        item = Item(f"todoist:{entry.get('id', number)}", where, title)
        project = projects.get(str(entry.get("project_id")), "Inbox") or "Inbox"
        section = sections.get(str(entry.get("section_id")))
        item.args["list"] = "Inbox" if project == "Inbox" and not section else (
            f"{project} / {section}" if section else project
        )
        if labels := [str(label).lower() for label in entry.get("labels") or []]:
            item.args["tags"] = labels
        if description := str(entry.get("description") or "").strip():
            item.args["description"] = description
        priority = entry.get("priority")
        item.args["priority"] = TODOIST_JSON_PRIORITY.get(
            priority if isinstance(priority, int) else 1, "medium"
        )
        if entry.get("parent_id"):
            item.parent_key = f"todoist:{entry['parent_id']}"
        item.completed = truthy(entry.get("checked")) or truthy(entry.get("is_completed"))
        _todoist_due(item, entry.get("due"), context, reading.problems)
        reading.items.append(item)
    return reading


def _todoist_due(item: Item, due: object, context: Context, problems: list[Problem]) -> None:
    """A Todoist due object: its date, its zone, and its string's repeat when recurring."""
    if not isinstance(due, dict) or not due.get("date"):
        return
    zone = zone_named(due.get("timezone"), context.zone)
    try:
        set_due(item, read_when(str(due["date"]), zone), zone)
    except ValueError as exc:
        problems.append(Problem(item.where, item.title, f"due left out: {exc}", imported=True))
        return
    if not due.get("is_recurring"):
        return
    try:
        repeat = read_repeat(str(due.get("string") or ""))
        if repeat is None:
            raise ValueError(f"the repeat {due.get('string')!r} cannot be read as a rule")
    except ValueError as exc:
        problems.append(Problem(item.where, item.title, f"repeat left out: {exc}", imported=True))
        return
    item.args.update(repeat=repeat.rule, repeat_from=repeat.repeat_from)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise FormatError(f"the file is not JSON ({exc})") from None


# -- TickTick CSV ----------------------------------------------------------------------------


def read_ticktick_csv(text: str, context: Context) -> Reading:
    """TickTick's CSV backup: a few lines about the backup, then one row per task with its
    list, tags, dates, RRULE, priority (5 high) and status (0 open)."""
    lines = text.splitlines(keepends=True)
    start = next((n for n, line in enumerate(lines) if '"Title"' in line or "Title," in line), None)
    if start is None:
        raise FormatError("a TickTick backup has a header row with a Title column")
    reading = Reading()
    for number, row in _rows("".join(lines[start:]), required=("Title", "List Name")):
        where = f"row {number + start}"
        title = (row.get("Title") or "").strip()
        task_id = (row.get("taskId") or "").strip()
        item = Item(f"ticktick:{task_id}" if task_id else f"ticktick:{where}:{title}", where, title)
        item.args["list"] = (row.get("List Name") or "").strip() or "Inbox"
        tags = [t.strip().lower() for t in re.split(r"[,\s]+", row.get("Tags") or "") if t.strip()]
        if tags:
            item.args["tags"] = tags
        if description := (row.get("Content") or "").strip():
            item.args["description"] = description
        priority = (row.get("Priority") or "0").strip()
        item.args["priority"] = TICKTICK_PRIORITY.get(priority, "medium")
        item.completed = (row.get("Status") or "0").strip() not in ("", "0")
        if parent := (row.get("parentId") or "").strip():
            item.parent_key = f"ticktick:{parent}"
        _ticktick_due(item, row, context, reading.problems)
        reading.items.append(item)
    return reading


def _ticktick_due(
    item: Item, row: dict[str, str], context: Context, problems: list[Problem]
) -> None:
    due_text = (row.get("Due Date") or row.get("Start Date") or "").strip()
    if not due_text:
        return
    zone = zone_named(row.get("Timezone"), context.zone)
    try:
        due = read_when(due_text, zone)
    except ValueError as exc:
        problems.append(Problem(item.where, item.title, f"due left out: {exc}", imported=True))
        return
    if truthy(row.get("Is All Day")) and isinstance(due, datetime):
        due = due.astimezone(zone).date()
    set_due(item, due, zone)
    if rule := (row.get("Repeat") or "").strip().removeprefix("RRULE:"):
        item.args["repeat"] = rule


# -- taskchat's own CSV and JSON (or anyone's with these columns) -----------------------------

FIELDS = ("title", "description", "list", "priority", "due", "repeat", "repeat_from", "timezone")


def read_plain_json(text: str, context: Context) -> Reading:
    """taskchat's JSON export ({"tasks": [...]}), or a list of task objects with its keys."""
    data = _json(text)
    entries = data.get("tasks") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise FormatError("expected a list of tasks, or an object with a 'tasks' list")
    return _plain(
        (f"task {n}", entry) for n, entry in enumerate(entries, start=1)
    )


def read_plain_csv(text: str, context: Context) -> Reading:
    """taskchat's CSV export, or any CSV with a title column (and any of its others)."""
    return _plain((f"row {n}", row) for n, row in _rows(text, required=("title",)))


def _plain(entries: Iterator[tuple[str, Any]]) -> Reading:
    reading = Reading()
    for where, entry in entries:
        if not isinstance(entry, dict):
            reading.problems.append(Problem(where, "", "not an object with a title"))
            continue
        title = str(entry.get("title") or "").strip()
        source_id = str(entry.get("id") or "").strip()
        item = Item(f"taskchat:{source_id}" if source_id else f"{where}:{title}", where, title)
        for name in FIELDS:
            if (value := entry.get(name)) not in (None, ""):
                item.args[name] = str(value)
        item.args.update(_tags_and_reminders(entry, item, reading.problems))
        if parent := str(entry.get("parent_id") or "").strip():
            item.parent_key = f"taskchat:{parent}"
        item.completed = truthy(entry.get("completed"))
        reading.items.append(item)
    return reading


def _tags_and_reminders(
    entry: dict[str, Any], item: Item, problems: list[Problem]
) -> dict[str, Any]:
    found: dict[str, Any] = {}
    tags = entry.get("tags")
    if isinstance(tags, str):
        tags = tags.replace(",", " ").split()
    if tags:
        found["tags"] = [str(tag) for tag in tags]
    reminders = entry.get("reminders")
    if isinstance(reminders, str) and reminders.strip():
        try:
            reminders = json.loads(reminders)
        except ValueError:
            problems.append(Problem(item.where, item.title, "reminders left out: not JSON",
                                    imported=True))  # fmt: skip
            reminders = None
    if reminders:
        found["reminders"] = reminders
    return found


READERS: dict[Format, Callable[[str, Context], Reading]] = {
    "todoist-csv": read_todoist_csv,
    "todoist-json": read_todoist_json,
    "ticktick-csv": read_ticktick_csv,
    "csv": read_plain_csv,
    "json": read_plain_json,
}


def as_zone(zone: tzinfo) -> ZoneInfo:
    """An IANA zone for a tzinfo: itself, or UTC for a fixed offset (which has no name)."""
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")
