"""Task input rules and the pure computations on tasks: validation, due dates, list cursors.

Nothing here touches the database; mcp_server/tasks.py applies these rules before every write.
"""

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from mcp_server.models import (
    DESCRIPTION_MAX_CHARS,
    MAX_TAGS,
    MAX_TASK_ID,
    TAG_MAX_CHARS,
    TITLE_MAX_CHARS,
)
from shared.contract import ORDERS, PRIORITIES, RECURRENCES, SORTS, ErrorCode, not_found_text
from shared.zones import UnknownZone, zone_named

# --- errors -------------------------------------------------------------------------


class TaskError(Exception):
    """A task operation was refused; the message says exactly why."""

    code = ErrorCode.INVALID_INPUT
    task_id: int | None = None


class TaskNotFound(TaskError):
    """No task with this id belongs to the caller (someone else's task is "not found" too)."""

    code = ErrorCode.NOT_FOUND

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


def time_zone(name: str | None) -> tzinfo:
    """The IANA time zone a list query's days are read in (UTC when none is named)."""
    if name is None:
        return UTC
    try:
        return zone_named(name)
    except UnknownZone as exc:
        raise InvalidTaskInput(f"timezone: {exc}") from None


# The due dates a task may have, in UTC. Both ends keep a day's margin inside Python's years
# 1..9999: a due shown in any time zone (up to 14 hours either side), as PostgreSQL hands a
# stored instant back in the session's zone, and a list filter's day bounds still fit.
MIN_DUE = datetime(1900, 1, 1, tzinfo=UTC)
MAX_DUE = datetime(9999, 12, 30, 23, 59, 59, tzinfo=UTC)
DUE_RANGE_TEXT = f"{MIN_DUE:%Y-%m-%d} to {MAX_DUE:%Y-%m-%d} (UTC)"


def parse_due(value: str, field: str = "due") -> tuple[datetime, bool]:
    """Parse an ISO 8601 date or zoned date-time into (UTC instant, is_date)."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return _in_range(datetime.combine(day, time(), UTC), value, field), True
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidTaskInput(f"{field}: {value!r} is not an ISO 8601 date or date-time") from None
    if moment.utcoffset() is None:
        raise InvalidTaskInput(
            f"{field}: {value!r} has no time zone; end it with Z or an offset like +02:00, "
            "or give a plain date"
        )
    try:
        instant = moment.astimezone(UTC)
    except OverflowError:  # the offset takes it past year 9999 or before year 1
        instant = None
    # Stored in whole seconds, like every task timestamp.
    return _in_range(instant, value, field).replace(microsecond=0), False


def _in_range(instant: datetime | None, value: str, field: str) -> datetime:
    if instant is None or not MIN_DUE <= instant.replace(microsecond=0) <= MAX_DUE:
        raise InvalidTaskInput(
            f"{field}: {value!r} is outside the supported range, {DUE_RANGE_TEXT}"
        )
    return instant


# --- cursors ------------------------------------------------------------------------

# A cursor is signed with the deployment's cursor secret (mcp_server/listing.py), so what it
# holds was written by this deployment: an edited, truncated or foreign cursor fails loudly
# instead of paging from a position nobody chose. Its fields are still checked one by one.
MAX_CURSOR_CHARS = 4096  # a real one is under 2,300 even for a 200-character title
_CHECK_BYTES = 16
_CURSOR_INVALID = "cursor is invalid (changed or cut short?); start again without a cursor"
# lower(title) can be longer than the title (PostgreSQL lowercases "İ" to two characters).
_MAX_TITLE_KEY_CHARS = 2 * TITLE_MAX_CHARS


def _check(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()[:_CHECK_BYTES]


def encode_cursor(secret: bytes, sort: str, order: str, key: Any, task_id: int) -> str:
    """An opaque cursor positioned after the task with this sort key and id."""
    fields = [sort, order, key, task_id]
    payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(_check(secret, payload) + payload).rstrip(b"=").decode()


def decode_cursor(secret: bytes, cursor: str, sort: str, order: str) -> tuple[Any, int]:
    """The (sort key, id) a cursor of this sort and order points after.

    Anything but a cursor this deployment made for the same sort and order is refused with
    InvalidTaskInput, whatever it holds.
    """
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidTaskInput(_CURSOR_INVALID)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:
        raise InvalidTaskInput(_CURSOR_INVALID) from None
    check, payload = raw[:_CHECK_BYTES], raw[_CHECK_BYTES:]
    if not hmac.compare_digest(check, _check(secret, payload)):
        raise InvalidTaskInput(_CURSOR_INVALID)
    try:
        fields = json.loads(payload)
    except (ValueError, RecursionError):
        raise InvalidTaskInput(_CURSOR_INVALID) from None
    match fields:
        case [str() as cursor_sort, str() as cursor_order, key, int() as task_id] if (
            cursor_sort in SORTS and cursor_order in ORDERS
        ):
            pass
        case _:
            raise InvalidTaskInput(_CURSOR_INVALID)
    if (cursor_sort, cursor_order) != (sort, order):
        raise InvalidTaskInput(
            f"cursor belongs to sort={cursor_sort} order={cursor_order}, not sort={sort} "
            f"order={order}; start again without a cursor"
        )
    if isinstance(task_id, bool) or not 1 <= task_id <= MAX_TASK_ID:
        raise InvalidTaskInput(_CURSOR_INVALID)
    return _sort_key(sort, key), task_id


def _sort_key(sort: str, key: object) -> Any:
    """A cursor's sort key as the query compares it; InvalidTaskInput if it cannot be one."""
    match sort, key:
        case "due", None:
            return None
        case "created" | "due", str():
            try:
                moment = datetime.fromisoformat(key)
                if moment.utcoffset() is not None:
                    return moment.astimezone(UTC)
            except (ValueError, OverflowError):
                pass
        case "priority", int() if not isinstance(key, bool) and 0 <= key < len(PRIORITIES):
            return key
        case "title", str() if len(key) <= _MAX_TITLE_KEY_CHARS and "\x00" not in key:
            try:
                key.encode()  # a lone surrogate cannot be sent to the database
                return key
            except UnicodeEncodeError:
                pass
    raise InvalidTaskInput(_CURSOR_INVALID)


def utc_now(now: datetime | None = None) -> datetime:
    """`now` (default: the current time) in UTC whole seconds."""
    # Whole seconds: the precision tools show, so a stored time and its text agree exactly.
    moment = datetime.now(UTC) if now is None else now.astimezone(UTC)
    return moment.replace(microsecond=0)
