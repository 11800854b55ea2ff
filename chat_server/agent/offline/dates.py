"""Dates in plain English for the offline model: find "next friday" or "Dec 3rd" in a
sentence, turn it into a task due value, and say a due value back ("tomorrow at 5pm")."""

import calendar
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateutil.relativedelta import relativedelta

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a few": 3,
}  # fmt: skip
# How "12/3" reads: month first (Dec 3) unless the model was set up day-first (12 March).
# A context variable, set by the model for each call, so the pure functions need no flag.
DAY_FIRST: ContextVar[bool] = ContextVar("day_first", default=False)
DAY_PARTS = {"morning": time(9), "afternoon": time(15), "evening": time(18), "night": time(20)}
TONIGHT = time(20)

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)"
)
_COUNT = r"(?:\d+|a couple of|a few|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
# What is left of a date or time no reader took: "end of march", "sat morning", "at 7 with
# Bob", "every 8 hours". A new task whose title still holds one is asked about, not added
# with a wrong or missing due date.
UNREAD_DATE = re.compile(
    r"\b(?:end|start|beginning|middle)\s+of\s+(?:the\s+)?(?:week|month|year|" + _MONTH + r")\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    + _MONTH
    + r"\b|\b"
    + _MONTH
    + r"\s+\d{1,2}(?:st|nd|rd|th)?\b"
    r"|\b" + _WEEKDAY + r"\s+(?:morning|afternoon|evening|night)\b"
    r"|\b(?:at|by|before|until)\s+\d{1,2}(?::\d{2})?\s*(?:am|pm|h)?\b"
    r"|\b(?:every|in)\s+\d+\s+(?:hours?|hrs?|minutes?|mins?)\b"
    r"|\b(?:tomorow|tommorow|tommorrow|2moro|2morrow|tmorrow|tomorrw)\b"
    # a repeat no reader took: "sundays 6pm, repeating", "counting from when I do it"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)days\b|\brepeating\b"
    r"|\b(?:counting|starting)\s+from\s+when\b"
    r"|\b(?:an?|one|two|\d+)\s+(?:days?|hours?|minutes?|weeks?)\s+(?:early|earlier|ahead)\b"
    # clock words no reader took: "half past twelve", "9 o'clock", "0745", "8.45" (left ".45")
    r"|\b(?:half|quarter)\s+(?:past|to)\b|\bo'?clock\b|\b0\d[0-5]\d\b|(?<![\w$])\.\d{2}\b"
    r"|\b\d{1,2}\s+\d{2}\s*(?:am|pm)\b|-?\bish\b"
    # a day left at the end ("gutter cleaning sat", "gym wed"), a range ("mon to fri"),
    # "two weeks" of "two weeks from today", "on the final friday of", "the morning of it"
    r"|\b" + _WEEKDAY + r"\s*$|\b" + _WEEKDAY + r"\s+(?:to|thru|through|till)\b"
    r"|\b(?:\d+|one|two|three|four|five|six|a\s+few|a\s+couple\s+of)\s+(?:days?|weeks?|months?)$"
    r"|\b(?:on\s+the\s+)?(?:final|last|first|second|third|fourth)\s+of\b"
    r"|\bthe\s+(?:morning|day|night|evening)\s+(?:of|before)\b"
    r"|\bin\s+the\s+(?:morning|afternoon|evening)\b"
    r"|\b(?:before|by|on|until|after)\s+\d{1,2}(?:st|nd|rd|th)\b"  # "before 20th"
    r"|\b(?:an?|\d+)[\s-]*(?:min(?:ute)?s?|hours?|hrs?|days?)\s+reminder\b",  # "a 10 min reminder"
    re.IGNORECASE,
)
_ORD = r"(?:st|nd|rd|th)?"
# "due by", "before" and friends turn a day into a deadline for list queries.
_PREFIX = r"(?:(?P<pre>due(?:\s+(?:on|by|before))?|by|on|before|until|till|for|starting|from)\s+)?"
_DATE_RE = re.compile(
    r"\b" + _PREFIX + r"(?:"
    r"(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<sa>\d{1,2})/(?P<sb>\d{1,2})(?:/(?P<sy>\d{4}|\d{2}))?"
    r"|(?P<dat>(?:the\s+)?day\s+after\s+tomorrow)"
    r"|(?P<rel>today|tonight|tomorrow|tmrw|tmr)(?:\s+(?P<relpart>morning|afternoon|evening|night))?"
    r"|in\s+(?P<n>" + _COUNT + r")\s+(?P<unit>days?|weeks?|fortnights?|months?|years?|hours?"
    r"|minutes?|mins?)"
    r"|(?P<per>next\s+week(?:end)?|this\s+week(?:end)?|the\s+weekend|weekend|this\s+month"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?:week|month|year)|next\s+month|next\s+year)"
    r"|(?P<mon>" + _MONTH + r")\.?\s+(?P<md>\d{1,2})" + _ORD + r"(?:,?\s+(?P<my>\d{4}))?"
    r"|(?:the\s+)?(?P<dm>\d{1,2})" + _ORD + r"\s+(?:of\s+)?(?P<mon2>" + _MONTH + r")"
    r"(?:,?\s+(?P<my2>\d{4}))?"
    r"|the\s+(?P<dom>\d{1,2})(?:st|nd|rd|th)"
    r"|(?:(?P<wmod>next|this\s+coming|this|coming)\s+)?(?P<wd>" + _WEEKDAY + r")"
    r"(?:\s+(?P<wdpart>morning|afternoon|evening|night))?"
    r")\b",
    re.IGNORECASE,
)
_TIME_RE = re.compile(
    r"\b(?:at\s+)?(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)(?!\w)"
    r"|\b(?:at\s+)?(?P<h24>\d{1,2}):(?P<m24>\d{2})\b"
    r"|\bat\s+(?P<hb>\d{1,2})(?:\s+o'?clock)?(?:\s+in\s+the\s+(?P<hbpart>morning|afternoon"
    r"|evening|night))?(?=\s*(?:$|[,;.!?]|\b(?:today|tomorrow|tonight|on|next|this)\b))"
    r"|\b(?:at\s+)?(?P<noon>noon|midday)\b"
    r"|\b(?:in\s+the|this)\s+(?P<part>morning|afternoon|evening)\b",
    re.IGNORECASE,
)
_AT = re.compile(r"^at\s+", re.IGNORECASE)
_WEEK_RANGE_RE = re.compile(
    r"\b(?P<which>this|next)\s+(?P<span>week|month)\b|\b(?:due\s+)?(?P<soon>soon|upcoming)\b",
    re.IGNORECASE,
)


# Calendar and clock facts, named.
LEAP_DAY = (2, 29)
SATURDAY = 5
SUNDAY = 6
DAYS_IN_WEEK = 7
MONTHS_IN_YEAR = 12
CENTURY = 2000  # "12/3/26" is 2026
NOON_HOUR = 12
HOURS_IN_DAY = 24
MINUTES_IN_HOUR = 60
LAST_MORNING_HOUR = 7  # a bare "at 5" is 5pm; "at 8" is 8am
# A short day name followed by a time ("tues 5pm", "sat at 10", "sat 11:30") is a day.
_MARKED_SHORT_DAY = re.compile(
    r"(?<!\s)\s++(?:(?:at\s++)?\d{1,2}(?::\d{2})?\s*+(?:am|pm)\b|at\s++\d|\d{1,2}:\d{2}\b)", re.I
)
# Short day names that are everyday words first: not read as days at the end of a sentence
# ("add sun cream" never, "add haircut sat" yes).
_SHORT_WORDS = frozenset({"sun", "mon"})
SHORT_DAY_NAME = 5  # "sat", "tues", "thurs": ordinary words too, read as days only when marked
YEAR_SAID_AFTER_DAYS = 180  # a day further off than this (or past) says its year


class DateError(ValueError):
    """A date phrase that names no real day, such as "Feb 30", or one past what a task holds."""


# The days a task's due date may fall on (the task server's range, in UTC).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9999, 12, 30)


def _in_range(day: date, phrase: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DateError(f"“{phrase}” is further off than any due date I can set.")
    return day


@dataclass(frozen=True)
class When:
    """A day, with a local time of day when one was given."""

    day: date
    at: time | None = None
    deadline: bool = False  # said with "by"/"before": the day is an upper bound
    dated: bool = True  # False for a time said alone ("at 3pm"): a change keeps the day

    def due(self, zone: tzinfo) -> str:
        """The contract's due value: "YYYY-MM-DD", or a UTC "YYYY-MM-DDTHH:MM:SSZ"."""
        if self.at is None:
            return self.day.isoformat()
        local = datetime.combine(self.day, self.at, tzinfo=zone)
        return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _year_for(month: int, day: int, year: str | None, today: date, phrase: str) -> date:
    """The named day; without a year, the next one that is not in the past."""
    try:
        if year:
            return date(int(year), month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        # Feb 29 without a year may exist next time round only in a leap year.
        if not year and (month, day) == LEAP_DAY:
            for later in range(today.year + 1, today.year + 9):
                if calendar.isleap(later):
                    return date(later, 2, 29)
        raise DateError(f"“{phrase}” isn't a real date.") from None


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the end of a shorter month."""
    return day + relativedelta(months=months)


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS[word.lower()]


def _weekday(match: re.Match[str], today: date) -> date | None:
    name = match["wd"].lower()
    modifier = (match["wmod"] or "").lower()
    # Abbreviations ("sun", "sat") are ordinary words too: only read them as days when
    # something marks them as dates ("on sat", "next fri").
    if (
        len(name) <= SHORT_DAY_NAME
        and not name.endswith("day")
        and not modifier
        and not match["pre"]
        and not _MARKED_SHORT_DAY.match(match.string, match.end())
        and not (name not in _SHORT_WORDS and not match.string[match.end() :].strip(" .!?"))
    ):
        return None
    target = WEEKDAYS[name]
    if modifier == "next":
        # "next friday" is the Friday of next week (weeks start on Monday).
        next_monday = today + timedelta(days=7 - today.weekday())
        return next_monday + timedelta(days=target)
    ahead = (target - today.weekday()) % 7
    if ahead == 0 and modifier != "this":
        ahead = 7  # a bare "thursday" said on a Thursday means next week's
    return today + timedelta(days=ahead)


def end_of_week(today: date) -> date:
    """The Sunday that ends `today`'s week."""
    return today + timedelta(days=6 - today.weekday())


def _next_week(today: date) -> date:
    return today + timedelta(days=DAYS_IN_WEEK - today.weekday())


def _this_weekend(today: date) -> date:
    saturday = today + timedelta(days=(SATURDAY - today.weekday()) % DAYS_IN_WEEK)
    return today if today.weekday() == SUNDAY else saturday


def _end_of_month(today: date) -> date:
    return today.replace(day=calendar.monthrange(today.year, today.month)[1])


# A named period's day, by its last words (the first row that matches wins).
_PERIODS: tuple[tuple[str, Callable[[date], date]], ...] = (
    ("next week", _next_week),
    ("next weekend", lambda today: _next_week(today) + timedelta(days=SATURDAY)),
    ("weekend", _this_weekend),
    ("week", end_of_week),
    ("next month", lambda today: add_months(today.replace(day=1), 1)),
    ("month", _end_of_month),
    ("next year", lambda today: date(today.year + 1, 1, 1)),
    ("year", lambda today: date(today.year, MONTHS_IN_YEAR, 31)),
)


def _period(phrase: str, today: date) -> date:
    words = " ".join(phrase.lower().split())
    for said, day in _PERIODS:
        if words == said or (" " not in said and words.endswith(said)):
            return day(today)
    return date(today.year, MONTHS_IN_YEAR, 31)


def _iso(match: re.Match[str], now: datetime) -> When:
    try:
        return When(date.fromisoformat(match["iso"]))
    except ValueError:
        raise DateError(f"“{match['iso']}” isn't a real date.") from None


# Zones whose people write the month first ("3/4" is March 4); elsewhere ("Europe/London",
# "Australia/Sydney", "Asia/Kolkata") "3/4" is 3 April.
# A zone that names no place (UTC, Etc/*) keeps the old month-first reading.
_MONTH_FIRST_ZONES = (
    *("America/", "US/", "Canada/", "Pacific/Honolulu", "Asia/Manila"),
    *("UTC", "Etc/", "GMT"),
)


def _zone_day_first(now: datetime) -> bool:
    key = str(getattr(now.tzinfo, "key", "") or "")
    return bool(key) and not key.startswith(_MONTH_FIRST_ZONES)


def _slashed(match: re.Match[str], now: datetime) -> When:
    first, second = int(match["sa"]), int(match["sb"])
    # "24/12": a first number that cannot be a month makes the date day-first.
    day_first = DAY_FIRST.get() or _zone_day_first(now) or (first > MONTHS_IN_YEAR >= second)
    month, day = (second, first) if day_first else (first, second)
    short = len(match["sy"] or "") == len("26")
    year = match["sy"] and str(CENTURY + int(match["sy"]) if short else match["sy"])
    if not 1 <= month <= MONTHS_IN_YEAR:
        raise DateError(f"“{match[0]}” isn't a real date.")
    return When(_year_for(month, day, year, now.date(), match[0]))


def _after_tomorrow(match: re.Match[str], now: datetime) -> When:
    return When(now.date() + timedelta(days=2))


def _relative_day(match: re.Match[str], now: datetime) -> When:
    word, today = match["rel"].lower(), now.date()
    part = DAY_PARTS.get((match["relpart"] or "").lower())
    if word == "tonight":
        return When(today, TONIGHT)
    return When(today if word == "today" else today + timedelta(days=1), part)


_UNIT_DAYS = {"day": 1, "week": 7, "fortnight": 14}


def _in_count(match: re.Match[str], now: datetime) -> When:
    count, unit = _count(match["n"]), match["unit"].lower().rstrip("s")
    if unit in {"hour", "minute", "min"}:
        later = now + timedelta(**{"hours" if unit == "hour" else "minutes": count})
        return When(later.date(), later.time().replace(second=0, microsecond=0))
    if unit in _UNIT_DAYS:
        return When(now.date() + timedelta(days=count * _UNIT_DAYS[unit]))
    return When(add_months(now.date(), count * (12 if unit == "year" else 1)))


def _named_period(match: re.Match[str], now: datetime) -> When:
    return When(_period(match["per"], now.date()))


def _month_day(match: re.Match[str], now: datetime) -> When:
    month = MONTHS[(match["mon"] or match["mon2"])[:3].lower()]
    day = int(match["md"] or match["dm"])
    return When(_year_for(month, day, match["my"] or match["my2"], now.date(), match[0]))


def _day_of_month(match: re.Match[str], now: datetime) -> When:
    day, today = int(match["dom"]), now.date()
    start = today
    for _ in range(12):  # the next month that has this day
        if day <= calendar.monthrange(start.year, start.month)[1]:
            candidate = start.replace(day=day)
            if candidate >= today:
                return When(candidate)
        start = add_months(start.replace(day=1), 1)
    raise DateError(f"“{match[0]}” isn't a real date.")


def _weekday_of(match: re.Match[str], now: datetime) -> When | None:
    found = _weekday(match, now.date())
    if found is None:
        return None
    return When(found, DAY_PARTS.get((match["wdpart"] or "").lower()))


# Which kind of date a _DATE_RE match is (the group it filled) and how to read it.
_DATE_KINDS: tuple[tuple[str, Callable[[re.Match[str], datetime], When | None]], ...] = (
    ("iso", _iso),
    ("sa", _slashed),
    ("dat", _after_tomorrow),
    ("rel", _relative_day),
    ("unit", _in_count),
    ("per", _named_period),
    ("mon", _month_day),
    ("mon2", _month_day),
    ("dom", _day_of_month),
    ("wd", _weekday_of),
)


def _date_of(match: re.Match[str], now: datetime) -> When | None:
    """The day (and maybe time) one _DATE_RE match names, or None to skip the match."""
    for group, read in _DATE_KINDS:
        if match[group]:
            return read(match, now)
    return None


def _checked_date_of(match: re.Match[str], now: datetime) -> When | None:
    """_date_of, with days no task can hold ("in 9999999 days") as a DateError."""
    try:
        when = _date_of(match, now)
    except DateError:
        raise
    except (OverflowError, ValueError):
        raise DateError(f"“{match[0]}” is further off than any due date I can set.") from None
    if when is not None:
        _in_range(when.day, match[0])
    return when


def _time_of(match: re.Match[str]) -> time:
    said = _AT.sub("", match[0].strip())
    if match["noon"]:
        return time(12)
    if match["part"]:
        return DAY_PARTS[match["part"].lower()]
    if match["h24"]:
        hour, minute = int(match["h24"]), int(match["m24"])
        if len(match["h24"]) == 1 and 1 <= hour <= LAST_MORNING_HOUR:
            hour += 12  # "3:30" as "at 3" reads; "03:30" is a 24-hour clock
    elif match["hb"]:
        # A bare "at 5" is an afternoon meeting far more often than a 5 a.m. one.
        hour, minute = int(match["hb"]), 0
        if match["hbpart"]:  # "at 7 in the morning", "at 8 in the evening"
            hour = hour % 12 + (0 if match["hbpart"].lower() == "morning" else 12)
        elif 1 <= hour <= LAST_MORNING_HOUR:
            hour += 12
    else:
        hour, minute = int(match["h"]), int(match["m"] or 0)
        if not 1 <= hour <= NOON_HOUR:
            raise DateError(f"“{said}” isn't a time of day.")
        pm = match["ampm"].lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    if hour >= HOURS_IN_DAY or minute >= MINUTES_IN_HOUR:
        raise DateError(f"“{said}” isn't a time of day.")
    return time(hour, minute)


def _bare_hour(match: re.Match[str]) -> str:
    """The hour of "at 7" or "6:30" (no am/pm, no day part), else ""."""
    if match["hb"] and not match["hbpart"]:
        return match["hb"]
    return match["h24"] if match["h24"] and len(match["h24"]) == 1 else ""


def _cut(text: str, span: tuple[int, int]) -> str:
    return " ".join((text[: span[0]] + " " + text[span[1] :]).split())


def find_when(text: str, now: datetime) -> tuple[When | None, str]:
    """The first date/time phrase in `text` and the text without it; `now` is local."""
    when: When | None = None
    for match in _DATE_RE.finditer(text):
        when = _checked_date_of(match, now)
        if when is not None:
            prefix = (match["pre"] or "").lower()
            deadline = prefix.endswith(("by", "before")) or prefix in {"until", "till"}
            when = When(when.day, when.at, deadline)
            text = _cut(text, match.span())
            break
    time_match = _TIME_RE.search(text)
    if time_match is None:
        return when, text
    at = _time_of(time_match)
    text = _cut(text, time_match.span())
    if when is None:
        # A time alone means its next occurrence.
        day = now.date() if at > now.time() else now.date() + timedelta(days=1)
        return When(day, at, dated=False), text
    if when.at == TONIGHT and at.hour < NOON_HOUR:
        at = at.replace(hour=at.hour + 12)  # "tonight at 9"
    elif when.at is not None and (bare := _bare_hour(time_match)):
        # "at 7 tomorrow morning": a bare hour takes the half of the day its part names.
        hour = int(bare) % 12
        at = at.replace(hour=hour if when.at.hour < NOON_HOUR else hour + 12)
    return When(when.day, at, when.deadline), text


def parse_when(text: str, now: datetime) -> When | None:
    """`text` read as nothing but a date phrase ("to friday", "Dec 3 at 5pm"), else None."""
    when, rest = find_when(text, now)
    if when is None and (match := _SHORT_DAY.match(text)):
        # A short day name said alone ("to sat") is a day, not the word "sat".
        when, rest = find_when(f"on {match['d']}{match['rest']}", now)
    if when is None or rest.strip(" ,.").lower() not in {"", "to", "for", "until", "due", "on"}:
        return None
    return when


_SHORT_DAY = re.compile(r"^(?:to\s+|for\s+|until\s+)?(?P<d>" + _WEEKDAY + r")\b(?P<rest>.*)$", re.I)


def _span(match: re.Match[str], today: date) -> tuple[str | None, str]:
    """ "soon", "this week", "next month": the window's first and last days."""
    if match["soon"]:
        return today.isoformat(), (today + timedelta(days=DAYS_IN_WEEK)).isoformat()
    this = match["which"].lower() == "this"
    if match["span"].lower() == "week":
        start = today if this else _next_week(today)
        return None if this else start.isoformat(), end_of_week(start).isoformat()
    start = today if this else add_months(today.replace(day=1), 1)
    return None if this else start.isoformat(), _end_of_month(start).isoformat()


def find_range(text: str, now: datetime) -> tuple[str | None, str | None, str]:
    """A list query's due window (due_after, due_before) and the text without it."""
    if match := _WEEK_RANGE_RE.search(text):
        after, before = _span(match, now.date())
        return after, before, _cut(text, match.span())
    when, rest = find_when(text, now)
    if when is None:
        return None, None, text
    day = when.day.isoformat()
    return (None, day, rest) if when.deadline else (day, day, rest)


def _clock(at: time) -> str:
    if at == time(12):
        return "noon"
    suffix = "am" if at.hour < NOON_HOUR else "pm"
    hour = at.hour % 12 or 12
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def day_words(day: date, today: date) -> str:
    """`day` said relative to `today`: "today", "tomorrow", "Friday", else "Dec 3"."""
    ahead = (day - today).days
    if ahead == 0:
        return "today"
    if ahead == 1:
        return "tomorrow"
    if ahead == -1:
        return "yesterday"
    if 1 < ahead < DAYS_IN_WEEK:
        return day.strftime("%A")
    label = f"{day.strftime('%b')} {day.day}"
    if day.year != today.year and not 0 < ahead < YEAR_SAID_AFTER_DAYS:
        label += f", {day.year}"
    return label


def parse_due(due: str, zone: tzinfo) -> tuple[date, time | None]:
    """A contract due value read back as a local day and (for datetimes) local time."""
    if len(due) == len("2026-12-03"):
        return date.fromisoformat(due), None
    moment = datetime.fromisoformat(due.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    return local.date(), local.time()


def describe_due(due: str, now: datetime) -> str:
    """A due value in words relative to `now` (which carries the local zone)."""
    try:
        day, at = parse_due(due, now.tzinfo or UTC)
    except ValueError:
        return due  # not ours to judge; show it as the server sent it
    words = day_words(day, now.date())
    return words if at is None else f"{words} at {_clock(at)}"


def is_overdue(due: str, now: datetime) -> bool:
    """True when `due` has passed: a day before today, or a moment before now."""
    try:
        day, at = parse_due(due, now.tzinfo or UTC)
    except ValueError:
        return False
    if at is None:
        return day < now.date()
    return datetime.combine(day, at, tzinfo=now.tzinfo) < now


def shifted(due: str | None, count: int, unit: str, now: datetime) -> str:
    """`due` moved later by `count` days, weeks or months (from today when it has none)."""
    zone = now.tzinfo or UTC
    day, at = parse_due(due, zone) if due else (now.date(), None)
    try:
        if unit == "month":
            day = add_months(day, count)
        else:
            day += timedelta(days=count * (7 if unit == "week" else 1))
        return When(_in_range(day, f"{count} {unit}s later"), at).due(zone)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, DateError):
            raise
        raise DateError(
            f"“{count} {unit}s later” is further off than any due date I can set."
        ) from None


def count_of(word: str) -> int:
    """A count said as digits or words: "3", "a", "two", "a couple of"."""
    return _count(word)
