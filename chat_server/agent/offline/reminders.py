"""Reminders said in words: "remind me 30 min before", "remind me about the dentist the day
before", "remind me at 5pm" -> the task server's `reminders` ([{"before": "PT30M"}] or
[{"at": "<ISO 8601 date-time with offset>"}]).

Here as a field of a task being added ("add dentist friday 3pm, remind me an hour before");
reminder_requests.py reads them as requests about a task that exists.
"""

import re
from datetime import datetime
from typing import Any

from chat_server.agent.offline.dates import DAY_PARTS, parse_when

_I = re.IGNORECASE
COUNT = (
    r"(?P<n>\d{1,3}|a\s+couple\s+of|a\s+few|half\s+an|an?|one|two|three|four|five|six|seven|eight"
    r"|nine|ten|fifteen|twenty|thirty|forty-?five)"
)
BEFORE = (
    r"(?:" + COUNT + r"\s*+(?P<u>m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\s+"
    r"(?:before(?:hand)?|ahead|earlier|in\s+advance|prior)"
    r"|the\s+(?P<u2>day|night|evening|week|morning)\s+before"
    r"|(?P<due>(?:at|when)\s+(?:the\s+(?:due\s+)?time|it'?s\s+due|it\s+is\s+due)|on\s+time))"
)
HALF = 0.5
_COUNTS = {"a couple of": 2, "a few": 3, "half an": HALF, "a": 1, "an": 1, "one": 1, "two": 2,
           "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "fifteen": 15, "twenty": 20, "thirty": 30, "forty-five": 45,
           "fortyfive": 45}  # fmt: skip
# The night or evening before a timed task is about 12 hours before; the morning before, a day.
_NAMED = {"day": "P1D", "night": "PT12H", "evening": "PT12H", "week": "P1W", "morning": "P1D"}
REMIND = (
    r"(?:(?:remind|ping|nudge|alert|notify|buzz)\s+me"
    r"|(?:set|add|give\s+me|with)\s+(?:a\s+|me\s+a\s+)?reminder|reminder)"
)
_FIELD = re.compile(
    r"(?:[,;]\s*+)?\b(?:and\s+)?" + REMIND + r"\s+(?:(?:about|of)\s+it\s+)?" + BEFORE + r"\b", _I
)

# "call the vet at 10am, 15 min before": a before-phrase closing the sentence after a comma.
_TRAILING = re.compile(r"[,;]\s*+" + BEFORE + r"[\s.!]*+$", _I)


def duration(match: re.Match[str]) -> str:
    """The ISO 8601 duration a before-phrase says: "30 min" -> PT30M, "the day before" -> P1D."""
    if match["due"]:
        return "PT0M"
    if match["u2"]:
        return _NAMED[match["u2"].lower()]
    word = " ".join(match["n"].lower().split())
    count = int(word) if word.isdigit() else _COUNTS[word]
    unit = match["u"].lower()[0]
    if count == HALF:  # "half an hour"
        return "PT30M" if unit == "h" else "PT12H"
    return {"m": f"PT{count}M", "h": f"PT{count}H", "d": f"P{count}D", "w": f"P{count}W"}[unit]


def read_reminders(text: str, fields: dict[str, Any], now: datetime) -> str:
    """Sets `reminders` from "remind me 30 min before" in `text`; returns the rest."""
    if not (match := _FIELD.search(text) or _TRAILING.search(text)):
        return text
    fields["reminders"] = [{"before": duration(match)}]
    return " ".join((text[: match.start()] + " " + text[match.end() :]).split())


def reminder_at(phrase: str, now: datetime) -> dict[str, str] | None:
    """ "at 5pm", "tomorrow morning" as an absolute reminder (9:00 when no time is said)."""
    when = parse_when(phrase, now)
    if when is None:
        return None
    moment = datetime.combine(when.day, when.at or DAY_PARTS["morning"], tzinfo=now.tzinfo)
    return {"at": moment.isoformat()}
