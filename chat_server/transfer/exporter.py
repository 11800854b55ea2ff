"""A user's tasks written out as JSON, CSV or iCalendar; the JSON and CSV read back in as
`json` and `csv` imports, giving the same tasks (ids aside)."""

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from chat_server.transfer.ical import calendar_of
from shared.contract import ListDict, TaskDict

ExportFormat = Literal["json", "csv", "ics"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
EXPORT_VERSION = 1
CSV_COLUMNS = (
    "id", "title", "description", "list", "parent_id", "completed", "completed_at", "priority",
    "tags", "due", "repeat", "repeat_from", "timezone", "reminders", "created_at",
)  # fmt: skip
MEDIA_TYPES: dict[ExportFormat, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
}


def as_json(tasks: list[TaskDict], lists: list[ListDict], now: datetime) -> bytes:
    """Everything as one JSON document: {format, version, exported_at, lists, tasks}."""
    document = {
        "format": "taskchat",
        "version": EXPORT_VERSION,
        "exported_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "lists": lists,
        "tasks": tasks,
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def _csv_value(task: TaskDict, column: str) -> str:
    value: Any = task.get(column)
    match column:
        case "tags":
            return " ".join(value or [])
        case "reminders":
            return json.dumps(value) if value else ""
        case "completed":
            return "true" if value else "false"
    return "" if value is None else str(value)


def as_csv(tasks: list[TaskDict]) -> bytes:
    """One row per task (subtasks name their parent's id); tags space-separated, reminders
    as JSON."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for task in tasks:
        writer.writerow([_csv_value(task, column) for column in CSV_COLUMNS])
    return out.getvalue().encode()


def as_ics(tasks: list[TaskDict], domain: str) -> bytes:
    """Every task as a VTODO (done ones COMPLETED, undated ones without DUE)."""
    return bytes(calendar_of(tasks, domain=domain, name="taskchat").to_ical())
