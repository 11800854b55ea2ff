"""Reminders asked for on a task that exists: "remind me 30 min before" (the task in view),
"remind me about the dentist the day before", "remind me at 5pm". Each row of REMINDER_ROWS
is (pattern, reader); "remind me at 5pm to X" is no row: it adds a task (grammar.py)."""

import re
from collections.abc import Callable
from datetime import datetime

from chat_server.agent.offline.intents import ActOnTask, ByContext, Intent
from chat_server.agent.offline.phrases import parse_ref
from chat_server.agent.offline.reminders import BEFORE, REMIND, duration, reminder_at

_I = re.IGNORECASE
_T = r"(?P<t>[^,]+?(?<!\s))"


def _before_row(match: re.Match[str], now: datetime) -> Intent | None:
    target = parse_ref(match["t"]) if match["t"] else ByContext()
    if target is None:
        return None
    return ActOnTask("update", target, {"reminders": [{"before": duration(match)}]})


def _at_row(match: re.Match[str], now: datetime) -> Intent | None:
    target = parse_ref(match["t"]) if match["t"] else ByContext()
    reminder = reminder_at(match["when"], now)
    if target is None or reminder is None:
        return None
    return ActOnTask("update", target, {"reminders": [reminder]})


Row = tuple[re.Pattern[str], Callable[[re.Match[str], datetime], Intent | None]]
REMINDER_ROWS: tuple[Row, ...] = (
    (
        re.compile(
            r"^" + REMIND + r"\s+(?:(?:about|of|for)\s+" + _T + r"\s+)?" + BEFORE + r"$", _I
        ),
        _before_row,
    ),
    # "team lunch: ping me 20 min before": the task first, then the reminder.
    (re.compile(r"^" + _T + r"\s*+[:-]\s*+" + REMIND + r"\s+" + BEFORE + r"$", _I), _before_row),
    (
        re.compile(
            r"^" + REMIND + r"\s+" + BEFORE + r"(?:\s+(?:about|of|for)|(?<=before))\s+(?:the\s+)?"
            + _T + r"$",
            _I,
        ),
        _before_row,
    ),
    (
        re.compile(
            # "remind me" only: "set a reminder for the car service next month" adds a task.
            r"^remind\s+me\s+(?:(?:about|of)\s+" + _T + r"\s+)?(?P<when>(?:at|on|tomorrow"
            r"|tonight|today|this|next|in)\b.*)$",
            _I,
        ),
        _at_row,
    ),
)  # fmt: skip


def _none_row(match: re.Match[str], now: datetime) -> Intent | None:
    target = parse_ref(match["t"]) if match["t"] else ByContext()
    return None if target is None else ActOnTask("update", target, {"reminders": []})


_STOP = r"^(?:remove|delete|clear|cancel|drop|turn\s+off)\s+"
_NO_REMINDERS: tuple[Row, ...] = (
    (
        re.compile(
            _STOP + r"(?:the\s+|all\s+(?:the\s+)?|any\s+)?reminders?"
            r"(?:\s+(?:from|for|on|of)\s+" + _T + r")?$",
            _I,
        ),
        _none_row,
    ),
    (re.compile(_STOP + r"(?:the\s+)?" + _T + r"(?:'s)?\s+reminders?$", _I), _none_row),
    (
        re.compile(
            r"^(?:don'?t|do\s+not|no\s+need\s+to)\s+remind\s+me(?:\s+(?:about|of)\s+" + _T
            + r")?(?:\s+any\s*more)?$",
            _I,
        ),
        _none_row,
    ),
    (re.compile(r"^no\s+reminders?\s+(?:for|on)\s+" + _T + r"$", _I), _none_row),
    (
        re.compile(
            r"^(?:change|set|move|make|update|switch)\s+(?:the\s+)?reminder\s+(?:for|on|of)\s+"
            + _T + r"\s+to\s+" + BEFORE + r"$",
            _I,
        ),
        _before_row,
    ),
    (
        re.compile(
            r"^(?:change|set|move|make|update|switch)\s+(?:the\s+)?" + _T
            + r"(?:'s)?\s+reminder\s+to\s+" + BEFORE + r"$",
            _I,
        ),
        _before_row,
    ),
)  # fmt: skip


def reminder_intent(text: str, now: datetime) -> Intent | None:
    """A reminder set on a task that exists ("remind me about the dentist the day before")."""
    for pattern, read in (*_NO_REMINDERS, *REMINDER_ROWS):
        if (match := pattern.match(text)) and (found := read(match, now)):
            return found
    return None
