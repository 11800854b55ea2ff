"""How a task repeats, said in words -> an RFC 5545 rule (the task server's `repeat`, without
"RRULE:") and whether the next one follows the schedule or the day it was done.

Each row of RULES is (pattern, builder): the first row whose pattern is found wins, and its
builder turns the match into the rule. "every weekday at 9", "every other tuesday", "on the
last friday of every month", "every 3 days after I do it", "stop repeating".
"""

import re
from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from dateutil.rrule import rrulestr

from chat_server.agent.offline.dates import NUMBER_WORDS, WEEKDAYS, When, parse_due

_I = re.IGNORECASE

NO_REPEAT = ""
"""update_task's value that stops a task repeating."""
FROM_COMPLETION = "completion"
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)days?+|mon|tues?+|wed|thu(?:rs?+)?+|fri|sat|sun)"
# "monday and thursday", "mon, wed and fri": each day a whole word, so the run is linear.
_DAYS = r"(?P<days>" + _DAY + r"(?:(?:\s*+,\s*+(?:and\s+)?|\s++and\s++)" + _DAY + r")*+)\b"
_N = r"(?:\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|other)"
_LEAD = r"\b(?:(?:and\s+)?(?:repeat|recur)(?:s|ing)?\s+)?"
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "last": -1, "second to last": -2, "second-to-last": -2,
}  # fmt: skip
_ORDINAL = r"(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|last|second[\s-]to[\s-]last)"
_UNITS = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY",
          "morning": "DAILY", "night": "DAILY", "evening": "DAILY"}  # fmt: skip
_ADVERBS = {"daily": "DAILY", "nightly": "DAILY", "weekly": "WEEKLY", "monthly": "MONTHLY",
            "yearly": "YEARLY", "annually": "YEARLY", "fortnightly": "WEEKLY;INTERVAL=2",
            "biweekly": "WEEKLY;INTERVAL=2"}  # fmt: skip


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


def _count(word: str) -> int:
    word = word.lower()
    return 2 if word == "other" else int(word) if word.isdigit() else NUMBER_WORDS[word]


_WORD = re.compile(r"[a-z]+", _I)


def _day_code(word: str) -> str:
    word = word.lower()
    return WEEKDAY_CODES[WEEKDAYS[word if word in WEEKDAYS else word.removesuffix("s")]]


def _by_days(text: str) -> str:
    codes = {_day_code(w) for w in _WORD.findall(text) if w.lower() != "and"}
    return ",".join(sorted(codes, key=WEEKDAY_CODES.index))


def _with_interval(freq: str, n: int) -> str:
    return f"FREQ={freq}" + (f";INTERVAL={n}" if n > 1 else "")


def _none(match: re.Match[str]) -> str:
    return NO_REPEAT


def _weekdays(match: re.Match[str]) -> str:
    return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


def _weekends(match: re.Match[str]) -> str:
    return "FREQ=WEEKLY;BYDAY=SA,SU"


def _nth_weekday(match: re.Match[str]) -> str:
    nth = _ORDINALS[" ".join(match["ord"].lower().replace("-", " ").split())]
    return f"FREQ=MONTHLY;BYDAY={nth}{_by_days(match['days'])}"


def _month_day(match: re.Match[str]) -> str:
    return f"FREQ=MONTHLY;BYMONTHDAY={int(match['md'] or match['md2'])}"


def _on_days(match: re.Match[str]) -> str:
    n = _count(match["n"]) if match["n"] else 1
    return f"{_with_interval('WEEKLY', n)};BYDAY={_by_days(match['days'])}"


def _every_n(match: re.Match[str]) -> str:
    return _with_interval(_UNITS[match["u"].lower()], _count(match["n"]))


def _every_unit(match: re.Match[str]) -> str:
    if match["adv"]:
        return "FREQ=" + _ADVERBS[match["adv"].lower()]
    return "FREQ=" + _UNITS[match["u"].lower()]


def _after_done(match: re.Match[str]) -> str:
    return _with_interval(_UNITS[match["u"].lower()], _count(match["n"] or "1"))


Builder = Callable[[re.Match[str]], str]
# How a repeat is said: (pattern, the rule it makes). Tried in order; the first found wins.
RULES: tuple[tuple[re.Pattern[str], Builder], ...] = (
    (
        _re(
            r"\b(?:(?:does\s*n[o']?t|do\s+not|don'?t|doesn'?t|not|no\s+longer|never|stop|should\s*n'?t)"
            r"\s+(?:need\s+to\s+)?(?:repeat|recur)(?:ing)?(?:\s+any\s*more)?|no\s+(?:repeat|recurrence)"
            r"|one[-\s]?off|just\s+(?:this\s+)?once|non[-\s]?recurring)\b"
        ),
        _none,
    ),
    (
        _re(
            r"\b(?:every\s+)?(?P<n>\d{1,3}|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<u>day|week"
            r"|month)s?\s+after\s+(?:i|we)\s+(?:last\s+)?(?:do|did|finish|finished|complete|completed"
            r"|done)(?:\s+(?:it|that|them))?\b"
        ),
        _after_done,
    ),
    (
        _re(_LEAD + r"(?:every|each|on)\s+(?:single\s+)?(?:week\s*day|work\s*day)s?\b"
            r"|\b(?:on\s+)?weekdays\b|\bmonday\s+(?:to|through|thru|-)\s+friday\b"),
        _weekdays,
    ),  # fmt: skip
    (_re(_LEAD + r"(?:every|each|on)\s+weekends?\b|\bon\s+weekends\b"), _weekends),
    (
        _re(
            r"\b(?:on\s+)?(?:every\s+|each\s+)?(?:the\s+)?" + _ORDINAL + r"\s+" + _DAYS
            + r"\s+(?:of|in)\s+(?:every|each|the|a)\s+month\b"
        ),
        _nth_weekday,
    ),
    (
        _re(
            r"\b(?:on\s+)?the\s+(?P<md>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?:every|each|the)"
            r"\s+month\b|\b(?:every\s+month|monthly)\s+on\s+the\s+(?P<md2>\d{1,2})(?:st|nd|rd|th)?\b"
        ),
        _month_day,
    ),
    (
        _re(_LEAD + r"(?:every|each)\s+(?:(?P<n>" + _N + r")\s+(?:weeks?\s+on\s+)?)?" + _DAYS
            + r"|\bon\s+" + _DAYS.replace("days>", "days2>") + r"\s+every\s+week\b"),
        lambda m: _on_days(m) if m["days"] else f"FREQ=WEEKLY;BYDAY={_by_days(m['days2'])}",
    ),  # fmt: skip
    (_re(_LEAD + r"(?:every|each)\s+(?P<n>" + _N + r")\s+(?P<u>day|week|month|year)s?\b"),
     _every_n),  # fmt: skip
    (
        _re(
            _LEAD + r"(?:every|each)\s+(?:single\s+)?(?P<u>day|week|month|year|morning|night"
            r"|evening)\b|" + _LEAD + r"(?P<adv>daily|weekly|monthly|yearly|annually|nightly"
            r"|fortnightly|biweekly)\b"
        ),
        _every_unit,
    ),
)
# "... after I do it": the next one follows the day it was done, not the schedule.
_FROM_DONE = _re(
    r"\b(?:after|from\s+(?:when|the\s+day))\s+(?:i|we)\s+(?:last\s+)?(?:do|did|finish|finished"
    r"|complete|completed|done|[a-z]{2,15}ed(?=\s+(?:it|that|them)\b))(?:\s+(?:it|that|them))?\b|\bafter\s+(?:completion|completing\s+it"
    r"|it'?s\s+(?:done|finished))\b|\bfrom\s+(?:completion|the\s+last\s+time)\b"
)


# A rule denied ("the gym isn't weekly", "not daily anymore") is no rule to set: it is cut out,
# and what else is said ("it's every 2 weeks", "just this once") is the rule.
_DENIED = _re(
    r"\b(?:is\s*n[o']?t|are\s*n[o']?t|was\s*n[o']?t|not|no\s+longer)\s+(?:really\s+|actually\s+"
    r"|meant\s+to\s+be\s+|supposed\s+to\s+be\s+)?(?:daily|weekly|monthly|yearly|annual(?:ly)?"
    r"|fortnightly|every\s+(?:other\s+)?(?:day|week|month|year|weekday|[a-z]+day))\b"
)


def read_repeat(text: str, fields: dict[str, Any]) -> str:
    """Sets `repeat` (and `repeat_from`) from `text`; returns `text` without those words."""
    while denied := _DENIED.search(text):
        text = _cut(text, denied)
    from_done = _FROM_DONE.search(text)
    for pattern, build in RULES:
        if match := pattern.search(text):
            fields["repeat"] = build(match)
            text = _cut(text, match)
            break
    if from_done and fields.get("repeat") != NO_REPEAT:
        # A task's own rule stays ("should repeat from when I last did it"); a new task
        # without one repeats daily (see phrases.add_intent).
        fields["repeat_from"] = FROM_COMPLETION
        if match := _FROM_DONE.search(text):
            text = _cut(text, match)
    return text


def _cut(text: str, match: re.Match[str]) -> str:
    return " ".join((text[: match.start()] + " " + text[match.end() :]).split())


def first_due(fields: dict[str, Any], now: datetime) -> None:
    """A new task that repeats on some days is first due on the first of them (at the time
    said): "every weekday at 9" said on a Saturday is due Monday 9:00."""
    rule = fields.get("repeat") or ""
    if "BYDAY" not in rule and "BYMONTHDAY" not in rule:
        return
    zone = now.tzinfo
    assert zone is not None
    day, at = parse_due(fields["due"], zone) if fields.get("due") else (now.date(), None)
    start = datetime.combine(day, at or time())
    # The first one is the next such day: "every other tuesday" said on a Thursday starts
    # this coming Tuesday, and the series counts on from there.
    first = ";".join(p for p in rule.split(";") if not p.startswith("INTERVAL="))
    following = rrulestr(first, dtstart=start).after(start, inc=True)
    if following is not None:
        fields["due"] = When(following.date(), at).due(zone)
