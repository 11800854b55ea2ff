"""Repeat rules: the RFC 5545 RRULE subset tasks repeat by, in plain words, and their dates.

Pure functions on rule texts and naive wall-clock datetimes (a task's own zone is applied by
mcp_server/tasks.py), so 9:00 stays 9:00 across a DST change. python-dateutil's rrule does
the calendar arithmetic; this module decides which rules it is given.

The subset: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, COUNT, UNTIL, WKST, BYDAY (with
an ordinal such as -1FR only in MONTHLY and YEARLY rules), and BYMONTHDAY, BYMONTH, BYSETPOS
in MONTHLY and YEARLY rules. Everything else is refused by name: a task repeats at most
daily, and each part left out is one that lets dateutil search for an occurrence that never
comes, day by day up to year 9999 (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 took seconds), while
a refused MONTHLY or YEARLY rule is found empty in well under a second.

COUNT counts the occurrences left, this one included: the next occurrence of a COUNT=3 task
carries COUNT=2, and completing a COUNT=1 task ends the series.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache

from dateutil.rrule import rrule, rrulestr

PLAIN_FREQS = {"DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly", "YEARLY": "yearly"}
_UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
_ORDER = ("FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "WKST", "COUNT",
          "UNTIL")  # fmt: skip
_EVERY_FREQ = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY"}
_ALLOWED = {
    "DAILY": _EVERY_FREQ,
    "WEEKLY": _EVERY_FREQ,
    "MONTHLY": _EVERY_FREQ | {"BYMONTHDAY", "BYSETPOS"},
    "YEARLY": _EVERY_FREQ | {"BYMONTHDAY", "BYSETPOS", "BYMONTH"},
}
_KNOWN_ELSEWHERE = {"BYHOUR", "BYMINUTE", "BYSECOND", "BYYEARDAY", "BYWEEKNO"}
MAX_INTERVAL = 1000
MAX_COUNT = 1000
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = dict(zip(DAYS, ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), strict=True))
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec")  # fmt: skip
_DAY_RE = re.compile(r"([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_NUMBER_RE = re.compile(r"[+-]?\d{1,3}")
_UNTIL_RE = re.compile(r"(\d{8})(?:T(\d{6})(Z?))?")
_WEEKDAYS = "MO,TU,WE,TH,FR"
SHORTEST_MONTH = 28  # days; monthly from a later day falls back to the month's last day


class RuleError(ValueError):
    """A repeat rule outside the subset, or one that never gives an occurrence."""


@dataclass(frozen=True, slots=True)
class Until:
    """A rule's UNTIL: a date (its whole day is included), a wall-clock time, or a UTC instant."""

    day: date
    at: time | None = None
    utc: bool = False

    def local(self, zone: tzinfo) -> datetime:
        """The last wall-clock moment in `zone` the series may reach."""
        if self.at is None:
            return datetime.combine(self.day, time(23, 59, 59))
        moment = datetime.combine(self.day, self.at)
        if not self.utc:
            return moment
        return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _parts(text: str) -> dict[str, str]:
    if not isinstance(text, str) or not text.strip():
        raise RuleError("a rule like FREQ=WEEKLY;BYDAY=MO is needed")
    body = text.strip().upper()
    if body.startswith("RRULE:"):
        body = body[len("RRULE:") :]
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        name, equals, value = piece.strip().partition("=")
        name, value = name.strip(), value.strip().replace(" ", "")
        if not equals or not name or not value:
            raise RuleError(f"{piece.strip()!r} is not NAME=VALUE")
        if name in parts:
            raise RuleError(f"{name} is given twice")
        parts[name] = value
    return parts


# The most each numeric BY part may be, either sign (BYMONTH: positive only).
_NUMBER_BOUNDS = {"BYMONTHDAY": 31, "BYMONTH": 12, "BYSETPOS": 366}
# How far a BYDAY position may go: 5 weeks in a month, 53 in a year.
_MAX_POSITION = {"MONTHLY": 5, "YEARLY": 53}


def _check_parts(parts: dict[str, str]) -> str:
    freq = _check_names(parts)
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("give COUNT or UNTIL, not both")
    for name, top in (("INTERVAL", MAX_INTERVAL), ("COUNT", MAX_COUNT)):
        if name in parts and not (parts[name].isdigit() and 1 <= int(parts[name]) <= top):
            raise RuleError(f"{name} must be a whole number from 1 to {top}")
    for token in parts["BYDAY"].split(",") if "BYDAY" in parts else ():
        _check_day(token, freq)
    for name, top in _NUMBER_BOUNDS.items():
        _check_numbers(name, parts.get(name), top)
    if "BYSETPOS" in parts and not parts.keys() & {"BYDAY", "BYMONTHDAY"}:
        raise RuleError("BYSETPOS picks among the days BYDAY or BYMONTHDAY give; give one")
    if "UNTIL" in parts:
        _until(parts["UNTIL"])
    if parts.get("WKST", "MO") not in DAYS:
        raise RuleError(f"WKST: {parts['WKST']!r} is not a day like MO")
    return freq


def _check_names(parts: dict[str, str]) -> str:
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError("FREQ is missing (DAILY, WEEKLY, MONTHLY or YEARLY)")
    if freq not in _ALLOWED:
        raise RuleError(f"FREQ={freq} is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY")
    for name in parts:
        if name in _ALLOWED[freq]:
            continue
        if name in _ORDER or name in _KNOWN_ELSEWHERE:
            raise RuleError(f"{name} is not supported with FREQ={freq}")
        raise RuleError(f"unknown part {name!r}")
    return freq


def _check_day(token: str, freq: str) -> None:
    match = _DAY_RE.fullmatch(token)
    if match is None:
        raise RuleError(f"BYDAY: {token!r} is not a day like MO, TU or -1FR")
    position = match.group(2)
    if position and freq not in _MAX_POSITION:
        raise RuleError(f"BYDAY: {token} has a position, which only MONTHLY and YEARLY allow")
    if position and not 1 <= int(position) <= _MAX_POSITION[freq]:
        raise RuleError(f"BYDAY: {token} is past the last such day of the period")


def _check_numbers(name: str, value: str | None, top: int) -> None:
    values = [] if value is None else value.split(",")
    if not all(_NUMBER_RE.fullmatch(v) and 1 <= abs(int(v)) <= top for v in values):
        low = "1" if name == "BYMONTH" else f"-{top}"
        raise RuleError(f"{name}: {value!r} must be numbers from {low} to {top}, not 0")
    if name == "BYMONTH" and any(int(v) < 0 for v in values):
        raise RuleError(f"BYMONTH: {value!r} must be numbers from 1 to 12")


def _until(value: str) -> Until:
    match = _UNTIL_RE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        day = datetime.strptime(match.group(1), "%Y%m%d").date()
        at = None if match.group(2) is None else datetime.strptime(match.group(2), "%H%M%S").time()
    except ValueError:
        raise RuleError(
            f"UNTIL: {value!r} is not a date like 20251231 or a time like 20251231T170000Z"
        ) from None
    return Until(day, at, bool(match.group(3)))


@lru_cache(maxsize=1024)
def canonical(text: str) -> str:
    """The rule in upper case, its parts in one order, defaults (INTERVAL=1, WKST=MO) dropped.

    Raises RuleError for anything outside the subset (the message names the part).
    """
    parts = _parts(text)
    _check_parts(parts)
    if parts.get("INTERVAL") == "1":
        del parts["INTERVAL"]
    if parts.get("WKST") == "MO":
        del parts["WKST"]
    body = ";".join(f"{name}={parts[name]}" for name in _ORDER if name in parts)
    try:  # dateutil's own checks of the values (BYMONTHDAY=40, BYSETPOS without a BY...)
        rrulestr(_without(body, "UNTIL", "COUNT"), dtstart=datetime(2000, 1, 1))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise RuleError(str(exc) or "dateutil cannot read it") from None
    return body


def _without(rule: str, *names: str) -> str:
    return ";".join(p for p in rule.split(";") if p.partition("=")[0] not in names)


def part(rule: str, name: str) -> str | None:
    """One part of a canonical rule, e.g. part(rule, "COUNT")."""
    for piece in rule.split(";"):
        key, _, value = piece.partition("=")
        if key == name:
            return value
    return None


def _dateutil_rule(rule: str, start: datetime, zone: tzinfo) -> rrule:
    made = rrulestr(_without(rule, "UNTIL", "COUNT"), dtstart=start)
    assert isinstance(made, rrule)
    until = part(rule, "UNTIL")
    return made if until is None else made.replace(until=_until(until).local(zone))


def first_from(rule: str, start: datetime, zone: tzinfo) -> datetime | None:
    """The first occurrence at or after `start` (naive wall clock in `zone`), ignoring COUNT."""
    return _dateutil_rule(rule, start, zone).after(start, inc=True)


def check_produces(rule: str, start: datetime, zone: tzinfo) -> None:
    """RuleError unless the rule has an occurrence at or after `start`."""
    if first_from(rule, start, zone) is None:
        until = part(rule, "UNTIL")
        why = f" (UNTIL={until} is before {start:%Y-%m-%d})" if until else ""
        raise RuleError(f"it never gives an occurrence{why}")


def following(rule: str, start: datetime, zone: tzinfo) -> tuple[datetime, str] | None:
    """The occurrence after `start` (naive wall clock in `zone`) and the rule it carries
    (COUNT one lower); None when the series ends (COUNT=1, or UNTIL passed)."""
    count = part(rule, "COUNT")
    if count == "1":
        return None
    moment = _dateutil_rule(rule, start, zone).after(start)
    if moment is None:
        return None
    if count is not None:
        rule = rule.replace(f"COUNT={count}", f"COUNT={int(count) - 1}")
    return moment, rule


# --- the old recurrence names ------------------------------------------------------------


def legacy_rule(recurrence: str, day: date | None) -> str | None:
    """The rule an old `recurrence` name means, for a task due on `day`.

    Monthly from the 29th-31st falls back to the month's last day, and yearly from Feb 29 to
    Feb 28, as the old interval arithmetic did (RFC 5545 would skip those months and years).
    """
    match recurrence:
        case "none":
            return None
        case "monthly" if day is not None and day.day > SHORTEST_MONTH:
            return f"FREQ=MONTHLY;BYMONTHDAY={day.day},-1;BYSETPOS=1"
        case "yearly" if day is not None and (day.month, day.day) == (2, 29):
            return "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29,-1;BYSETPOS=1"
    return f"FREQ={recurrence.upper()}"


_CLAMPED = re.compile(
    r"FREQ=(?:MONTHLY;BYMONTHDAY=(?:29|30|31)|YEARLY;BYMONTH=2;BYMONTHDAY=29),-1;BYSETPOS=1"
)


def plain_name(rule: str | None) -> str:
    """The old `recurrence` name of a rule: none, daily, weekly, monthly, yearly or custom."""
    if rule is None:
        return "none"
    if rule.startswith("FREQ=") and ";" not in rule:
        return PLAIN_FREQS[rule[5:]]
    if _CLAMPED.fullmatch(rule):
        return PLAIN_FREQS[rule[5:].split(";")[0]]
    return "custom"


# --- in words ------------------------------------------------------------------------------


def _ordinal(number: int) -> str:
    if number == -1:
        return "last"
    if number < 0:
        return f"{_ordinal(-number)}-to-last"
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    if (number % 100) // 10 == 1:  # 11th, 12th, 13th
        suffix = "th"
    return f"{number}{suffix}"


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _day_words(value: str) -> str:
    if value == _WEEKDAYS:
        return "weekdays"
    words = []
    for token in value.split(","):
        sign, number, day = _DAY_RE.fullmatch(token).groups()  # type: ignore[union-attr]
        name = _DAY_NAMES[day]
        words.append(f"the {_ordinal(int(sign + number))} {name}" if number else name)
    return _joined(words)


def _month_day_words(value: str) -> str:
    numbers = [int(v) for v in value.split(",")]
    return "the " + _joined([_ordinal(n) + (" day" if n < 0 else "") for n in numbers])


@lru_cache(maxsize=1024)
def in_words(rule: str | None) -> str | None:
    """The rule in plain words: "every 2 weeks on Tue and Thu", "every month on the last Fri"."""
    if rule is None:
        return None
    parts = dict(piece.partition("=")[::2] for piece in rule.split(";"))
    freq, interval = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    unit = _UNITS[freq]
    text = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
    clamped = _CLAMPED.fullmatch(_without(rule, "INTERVAL", "COUNT", "UNTIL", "WKST"))
    if parts.get("BYDAY") == _WEEKDAYS and freq in ("DAILY", "WEEKLY") and interval == 1:
        text = "every weekday"
    elif clamped:
        day = parts["BYMONTHDAY"].split(",")[0]
        where = f"the {_ordinal(int(day))}" if freq == "MONTHLY" else "Feb 29"
        text += f" on {where} (or the month's last day)"
    else:
        text += _which_days(parts)
    return text + _ending(parts)


def _which_days(parts: dict[str, str]) -> str:
    text = ""
    if "BYMONTH" in parts:
        months = [_MONTH_NAMES[int(m) - 1] for m in parts["BYMONTH"].split(",")]
        if "BYMONTHDAY" in parts and len(months) == 1 and "," not in parts["BYMONTHDAY"]:
            return f" on {months[0]} {int(parts['BYMONTHDAY'])}" + _which_days(
                {k: v for k, v in parts.items() if k not in ("BYMONTH", "BYMONTHDAY")}
            )
        text += f" in {_joined(months)}"
    days = []
    if "BYMONTHDAY" in parts:
        days.append(_month_day_words(parts["BYMONTHDAY"]))
    if "BYDAY" in parts:
        days.append(_day_words(parts["BYDAY"]))
    if "BYSETPOS" in parts:
        positions = _joined([_ordinal(int(p)) for p in parts["BYSETPOS"].split(",")])
        days_text = " that is a ".join(days).replace("weekdays", "weekday")
        of = "" if days_text == "weekday" else "of "
        return f"{text} on the {positions} {of}{days_text}"
    return text + (" on " + " that is a ".join(days) if days else "")


def _ending(parts: dict[str, str]) -> str:
    if "COUNT" in parts:
        count = int(parts["COUNT"])
        return ", this is the last time" if count == 1 else f", {count} times including this one"
    if "UNTIL" in parts:
        until = _until(parts["UNTIL"])
        when = until.day.isoformat()
        if until.at is not None:
            when += f" {until.at:%H:%M}" + (" UTC" if until.utc else "")
        return f", until {when}"
    return ""
