"""Task input rules and the pure computations on tasks: validation, recurrence, list cursors.

Nothing here touches the database; mcp_server/tasks.py applies these rules before every write.
"""

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from mcp_server.models import DESCRIPTION_MAX_CHARS, MAX_TAGS, TAG_MAX_CHARS, TITLE_MAX_CHARS
from shared.contract import PRIORITIES, RECURRENCES, not_found_text

# --- errors -------------------------------------------------------------------------


class TaskError(Exception):
    """A task operation was refused; the message says exactly why."""


class TaskNotFound(TaskError):
    """No task with this id belongs to the caller (someone else's task is "not found" too)."""

    def __init__(self, task_id: int) -> None:
        super().__init__(not_found_text(task_id))
        self.task_id = task_id


class InvalidTaskInput(TaskError):
    """An argument broke a task rule (empty title, unparseable due date, bad cursor...)."""


# --- field rules --------------------------------------------------------------------

_TAG_RE = re.compile(r"[a-z0-9_-]+")


def no_nul(field: str, value: str) -> str:
    """`value` unchanged, unless it holds a NUL character.

    PostgreSQL text cannot store NUL (SQLite can), and no title or search needs one: it is
    refused on every database alike, with a message instead of a database error.
    """
    if "\x00" in value:
        raise InvalidTaskInput(f"{field} must not contain NUL (\\x00) characters")
    return value


def clean_title(value: object) -> str:
    """Trimmed title of 1..200 characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidTaskInput("title must not be empty")
    title = no_nul("title", value.strip())
    if len(title) > TITLE_MAX_CHARS:
        raise InvalidTaskInput(
            f"title must be at most {TITLE_MAX_CHARS} characters (got {len(title)})"
        )
    return title


def clean_description(value: str | None) -> str | None:
    """Trimmed description of at most 2000 characters; blank means none."""
    if value is None or not value.strip():
        return None
    description = no_nul("description", value.strip())
    if len(description) > DESCRIPTION_MAX_CHARS:
        raise InvalidTaskInput(
            f"description must be at most {DESCRIPTION_MAX_CHARS} characters "
            f"(got {len(description)})"
        )
    return description


def clean_tag(value: str) -> str:
    """One tag: lowercase, without a leading '#', only [a-z0-9_-], at most 32 characters."""
    tag = value.strip().lower().lstrip("#")
    if not tag:
        raise InvalidTaskInput(f"tag {value!r} is empty")
    if len(tag) > TAG_MAX_CHARS:
        raise InvalidTaskInput(f"tag {value!r} is longer than {TAG_MAX_CHARS} characters")
    if not _TAG_RE.fullmatch(tag):
        raise InvalidTaskInput(f"tag {value!r} may only contain letters a-z, digits, '_' and '-'")
    return tag


def clean_tags(values: list[str] | None) -> list[str]:
    """Normalised tags, duplicates dropped (first spelling kept), at most 20."""
    tags = list(dict.fromkeys(clean_tag(value) for value in values or ()))
    if len(tags) > MAX_TAGS:
        raise InvalidTaskInput(f"a task can have at most {MAX_TAGS} tags (got {len(tags)})")
    return tags


def priority_rank(value: str | None) -> int:
    """The stored rank of a priority name."""
    for rank, name in enumerate(PRIORITIES):
        if value == name:
            return rank
    raise InvalidTaskInput(f"priority must be one of low, medium, high (got {value!r})")


def clean_recurrence(value: str | None) -> str:
    """A recurrence name."""
    if value is None or value not in RECURRENCES:
        raise InvalidTaskInput(
            f"recurrence must be one of {', '.join(RECURRENCES)} (got {value!r})"
        )
    return value


MAX_ZONE_CHARS = 64  # the longest IANA names are about 30 characters


def time_zone(name: str | None) -> tzinfo:
    """The IANA time zone a list query's days are read in (UTC when none is named)."""
    if name is None:
        return UTC
    try:
        if not isinstance(name, str) or not name or len(name) > MAX_ZONE_CHARS:
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ValueError: not a zone key at all ("../etc"); OSError: a directory name ("America").
        raise InvalidTaskInput(
            f"timezone: {name!r} is not an IANA time zone name like Europe/Paris"
        ) from None


def parse_due(value: str, field: str = "due") -> tuple[datetime, bool]:
    """Parse an ISO 8601 date or zoned date-time into (UTC instant, is_date)."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and len(text) == 10:
        try:
            return datetime.combine(date.fromisoformat(text), time(), UTC), True
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidTaskInput(f"{field}: {value!r} is not an ISO 8601 date or date-time") from None
    if moment.utcoffset() is None:
        raise InvalidTaskInput(
            f"{field}: {value!r} has no time zone; end it with Z or an offset like +02:00, "
            "or give a plain date"
        )
    # Stored in whole seconds, like every task timestamp.
    return moment.astimezone(UTC).replace(microsecond=0), False


def next_due(due: datetime, recurrence: str) -> datetime:
    """The due of the next occurrence: one interval later; months clamp to the month's end."""
    match recurrence:
        case "daily":
            return due + timedelta(days=1)
        case "weekly":
            return due + timedelta(weeks=1)
        case "monthly":
            return due + relativedelta(months=1)
        case "yearly":
            return due + relativedelta(years=1)
    raise ValueError(f"task does not recur: {recurrence!r}")


# --- cursors ------------------------------------------------------------------------

# An integrity check, not a secret: a cursor only ever pages the caller's own tasks, so
# the key just makes an edited or truncated cursor fail loudly instead of silently
# starting from some other position.
_CURSOR_KEY = b"taskchat-list-cursor-v1"
_CHECK_BYTES = 8


def encode_cursor(sort: str, order: str, key: Any, task_id: int) -> str:
    """An opaque cursor positioned after the task with this sort key and id."""
    payload = json.dumps([sort, order, key, task_id], separators=(",", ":")).encode()
    check = hashlib.blake2b(payload, key=_CURSOR_KEY, digest_size=_CHECK_BYTES).digest()
    return base64.urlsafe_b64encode(check + payload).rstrip(b"=").decode()


def decode_cursor(cursor: str, sort: str, order: str) -> tuple[Any, int]:
    """The (sort key, id) a cursor of this sort and order points after."""
    invalid = InvalidTaskInput(
        "cursor is invalid (changed or cut short?); start again without a cursor"
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError):
        raise invalid from None
    check, payload = raw[:_CHECK_BYTES], raw[_CHECK_BYTES:]
    expected = hashlib.blake2b(payload, key=_CURSOR_KEY, digest_size=_CHECK_BYTES).digest()
    if not hmac.compare_digest(check, expected):
        raise invalid
    try:
        cursor_sort, cursor_order, key, task_id = json.loads(payload)
        if sort in ("created", "due") and key is not None:
            key = datetime.fromisoformat(key)
    except (ValueError, TypeError):
        raise invalid from None
    if (cursor_sort, cursor_order) != (sort, order):
        raise InvalidTaskInput(
            f"cursor belongs to sort={cursor_sort} order={cursor_order}, not sort={sort} "
            f"order={order}; start again without a cursor"
        )
    if not isinstance(task_id, int):
        raise invalid
    return key, task_id


def utc_now(now: datetime | None = None) -> datetime:
    """`now` (default: the current time) in UTC whole seconds."""
    # Whole seconds: the precision tools show, so a stored time and its text agree exactly.
    moment = datetime.now(UTC) if now is None else now.astimezone(UTC)
    return moment.replace(microsecond=0)
