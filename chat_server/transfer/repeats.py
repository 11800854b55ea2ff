"""Todoist's "every ..." due strings as RFC 5545 rules, read by a table of patterns.

Each row is (pattern, builder): the pattern reads the words after "every" (and "other"),
the builder makes the RRULE from its groups. A string no row reads is reported by the
importer, never dropped silently. Every pattern is linear-time: plain alternations and
bounded repeats, no nested quantifiers over the same text.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time

WEEKDAYS = {
    "mon": "MO", "monday": "MO", "tue": "TU", "tues": "TU", "tuesday": "TU",
    "wed": "WE", "wednesday": "WE", "thu": "TH", "thur": "TH", "thurs": "TH",
    "thursday": "TH", "fri": "FR", "friday": "FR", "sat": "SA", "saturday": "SA",
    "sun": "SU", "sunday": "SU",
}  # fmt: skip
UNITS = {
    "day": "DAILY", "days": "DAILY", "week": "WEEKLY", "weeks": "WEEKLY",
    "month": "MONTHLY", "months": "MONTHLY", "year": "YEARLY", "years": "YEARLY",
}  # fmt: skip
ADVERBS = {"daily": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY", "yearly": "YEARLY"}
WORKWEEK = "MO,TU,WE,TH,FR"
NOON = 12
# Longer than any rule Todoist writes ("every mon, tue, wed, thu, fri, sat, sun at 10:30pm").
MAX_RULE_WORDS_CHARS = 120

_DAY = "(?:" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + ")"
_UNIT = "(?:" + "|".join(sorted(UNITS, key=len, reverse=True)) + ")"
_TIME = re.compile(
    r"\s+(?:at|@)\s+(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>am|pm)?$"
)


@dataclass(frozen=True)
class Repeat:
    """A rule read from text: the RRULE, what it follows, and the time of day if one was said."""

    rule: str
    repeat_from: str = "due"
    at: time | None = None


def _units(match: re.Match[str], interval: int) -> str:
    count = int(match["n"]) if match["n"] else 1
    return _rule(UNITS[match["unit"]], count * interval)


def _days(match: re.Match[str], interval: int) -> str:
    names = re.split(r"\s*(?:,|\band\b)\s*", match["days"])
    days = dict.fromkeys(WEEKDAYS[name] for name in names if name)
    return _rule("WEEKLY", interval) + ";BYDAY=" + ",".join(days)


def _month_day(match: re.Match[str], interval: int) -> str:
    day = int(match["day"])
    if not 1 <= day <= 31:  # noqa: PLR2004 - the days a month can have
        raise ValueError(f"no month has a day {day}")
    return _rule("MONTHLY", interval) + f";BYMONTHDAY={day}"


def _rule(freq: str, interval: int) -> str:
    return f"FREQ={freq}" + (f";INTERVAL={interval}" if interval > 1 else "")


# (pattern over the words after "every [other]", builder(match, interval) -> RRULE)
ROWS: list[tuple[re.Pattern[str], Callable[[re.Match[str], int], str]]] = [
    (re.compile(rf"(?:(?P<n>\d{{1,3}})\s+)?(?P<unit>{_UNIT})"), _units),
    (re.compile(r"(?:weekday|workday)s?"), lambda _m, n: _rule("WEEKLY", n) + f";BYDAY={WORKWEEK}"),
    (re.compile(rf"(?P<days>{_DAY}(?:\s*(?:,|and)\s*{_DAY}){{0,6}})"), _days),
    (re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"), _month_day),
    (re.compile(r"last day"), lambda _m, n: _rule("MONTHLY", n) + ";BYMONTHDAY=-1"),
]
_EVERY = re.compile(r"(?P<every>every!?|each)\s+(?P<other>other\s+)?(?P<rest>.+)")


def read_repeat(text: str) -> Repeat | None:
    """The rule in a due string such as "every monday at 9am" or "every! 3 days"; None when
    the text is not a repeat ("tomorrow"). Raises ValueError for a repeat no row reads."""
    words = " ".join(text.lower().split())
    if words in ADVERBS:
        return Repeat(f"FREQ={ADVERBS[words]}")
    match = _EVERY.fullmatch(words)
    if match is None:
        return None
    try:
        return _read(match)
    except ValueError as exc:
        raise ValueError(f"the repeat {text!r} cannot be read as a rule ({exc})") from None


def _read(match: re.Match[str]) -> Repeat:
    if len(match["rest"]) > MAX_RULE_WORDS_CHARS:
        raise ValueError("too long for a rule")
    rest, at = _time_of_day(match["rest"])
    interval = 2 if match["other"] else 1
    for pattern, build in ROWS:
        if (found := pattern.fullmatch(rest)) is not None:
            repeat_from = "completion" if match["every"] == "every!" else "due"
            return Repeat(build(found, interval), repeat_from, at)
    raise ValueError(f"no rule reads {rest!r}")


def _time_of_day(words: str) -> tuple[str, time | None]:
    """The words without a trailing "at 9am" / "at 17:30", and that time."""
    found = _TIME.search(words)
    if found is None:
        return words, None
    hour, minute = int(found["hour"]), int(found["minute"] or 0)
    if found["half"] == "pm" and hour < NOON:
        hour += NOON
    elif found["half"] == "am" and hour == NOON:
        hour = 0
    return words[: found.start()], time(hour, minute)
