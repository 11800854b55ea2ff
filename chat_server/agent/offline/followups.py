"""Corrections and additions right after a change, about the task it changed ("it"):
"wait no, 7am", "no wait, sunday", "oh and it's for saturday", "make it 4 instead",
"oops, I meant oat milk" (part of the title), "and the plumber too" (the same request
again, for another task). Each row of FOLLOWUPS is (pattern, reader of its match)."""

import re
from collections.abc import Callable
from datetime import datetime

from chat_server.agent.offline.dates import (
    HOURS_IN_DAY,
    LAST_MORNING_HOUR,
    MINUTES_IN_HOUR,
    NOON_HOUR,
    DateError,
)
from chat_server.agent.offline.intents import (
    ActOnTask,
    Also,
    ByContext,
    FieldsAlone,
    Instead,
    Intent,
    ListTasks,
)
from chat_server.agent.offline.phrases import AT_ONLY, fields_only, strip_quotes, time_only

_I = re.IGNORECASE
# "wait", "no", "oops", "sorry", "i meant", "make it", "it's", "for": what a correction
# starts with, as many as were said ("no wait, sorry, make that ...").
_LEAD = (
    r"(?:(?:wait|no|nope|oops|whoops|sorry|typo|hang\s+on|hold\s+on|hmm|ah|actually|scratch\s+that"
    r"|my\s+bad|correction|i\s+mean(?:t)?|make\s+(?:that|it)|change\s+(?:that|it)"
    r"|it'?s|it\s+is|it\s+should\s+be|should\s+be|that\s+should\s+be|set\s+it"
    r"|for|to|on)\b[\s,!.:;-]*+)"
)
_TAIL = r"(?:[\s,]+(?:instead|then|rather|please|not\s+that))*+$"
_CORRECTION = re.compile(r"^" + _LEAD + r"++(?P<rest>.+?)" + _TAIL, _I)
_MARKED = re.compile(
    r"^(?:wait|no|nope|oops|whoops|sorry|typo|actually|i\s+meant?|hmm|ah|my\s+bad|make\s+(?:it|that)"
    r"|it'?s\s+(?:for|on|at|due|actually)|it\s+is\s+(?:for|on|at|due))\b",
    _I,
)
_INSTEAD = re.compile(r"\binstead\b", _I)
# "make it 4 instead", "at 7": a bare hour said as a correction.
_BARE_HOUR = re.compile(
    r"^(?:at\s+)?(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?:\s*o'?clock)?(?:\s*(?P<ap>am|pm))?$", _I
)
_MEANT = re.compile(
    r"^(?:(?:oops|sorry|whoops|no|wait|my\s+bad|typo)\b[\s,!.]*+)*i\s+meant?\s+(?P<words>.+?)"
    r"(?:[\s,]+(?:not\s+.+|instead))?$",
    _I,
)
_ALSO = re.compile(
    r"^(?:and\s+|also\s+|oh\s+and\s+|plus\s+)?(?:the\s+same\s+(?:for|with)\s+)?(?P<w>[^,\s][^,]*?(?<!\s))"
    r"\s++(?:too|as\s+well|also)$"
    r"|^(?:and\s+|oh\s+and\s+)?(?:the\s+same\s+(?:for|with)|same\s+for|also|and\s+also)\s+(?P<w2>.+)$",
    _I,
)
NOON = NOON_HOUR


def _hour(match: re.Match[str]) -> str | None:
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if match["ap"]:
        if not 1 <= hour <= NOON:
            return None
        hour = hour % NOON + (NOON if match["ap"].lower() == "pm" else 0)
    elif 1 <= hour <= LAST_MORNING_HOUR:
        hour += NOON
    if hour >= HOURS_IN_DAY or minute >= MINUTES_IN_HOUR:
        return None
    return f"{hour:02d}:{minute:02d}"


def _time_only(rest: str) -> str | None:
    """ "7am", "at 5:30", "4": a time of day said alone, as "HH:MM"."""
    if match := _BARE_HOUR.match(rest.strip()):
        return _hour(match)
    return None


def _correction(text: str, now: datetime) -> Intent | None:
    match = _CORRECTION.match(text)
    if match is None:
        return None
    rest = match["rest"]
    if at := _time_only(rest):
        return ActOnTask("update", ByContext(), at=at)
    try:
        fields = fields_only(rest, now)
    except DateError:
        return None
    if not fields:
        return None
    at = time_only(fields)
    tags = tuple(fields.pop("tags", ()))
    return ActOnTask("update", ByContext(), fields, add_tags=tags, at=at)


def _meant(text: str, now: datetime) -> Intent | None:
    if not (match := _MEANT.match(text)):
        return None
    words = strip_quotes(match["words"])
    if _time_only(words) or fields_only(words, now):
        return None  # "I meant 7am": a correction of the date, read by _correction
    return ActOnTask("update", ByContext(), retitle=words)


_MAKE_THAT = re.compile(r"^(?:make|change)\s+(?:that|it)\s+(?:to\s+|into\s+)?(?P<words>.+)$", _I)
# "make it 30 min instead": an amount of time is a reminder or a length, never a title.
_SPAN = re.compile(r"^\d+\s*+(?:m|mins?|minutes?|h|hrs?|hours?|days?|weeks?)\b", _I)


def _make_that(text: str, now: datetime) -> Intent | None:
    """ "make that 2 litres of milk": words that correct the title just added."""
    if not (match := _MAKE_THAT.match(text)) or _time_only(match["words"]):
        return None
    if _SPAN.match(match["words"]):
        return None
    if fields_only(match["words"], now):
        return None  # "make it friday": a field, read by the update rows
    return ActOnTask("update", ByContext(), retitle=strip_quotes(match["words"]))


def _day_alone(text: str, now: datetime) -> Intent | None:
    """ "friday", "tomorrow at 5": a date said alone moves the task just added or shown."""
    try:
        fields = fields_only(text, now)
    except DateError:
        return None
    if not fields or set(fields) - {"due", AT_ONLY}:
        return None
    at = time_only(fields)
    return ActOnTask("update", ByContext(), fields, at=at)


def _priority_alone(text: str, now: datetime) -> Intent | None:
    """ "no rush", "urgent": a priority said alone, about the task just added or changed."""
    try:
        fields = fields_only(text, now)
    except DateError:
        return None
    if not fields or set(fields) != {"priority"}:
        return None
    listing = ListTasks({"priority": fields["priority"], "status": "pending"})
    return FieldsAlone(ActOnTask("update", ByContext(), fields), listing)


def _also(text: str, now: datetime) -> Intent | None:
    if match := _ALSO.match(text):
        words = (match["w"] or match["w2"]).strip()
        if words.lower() not in {"it", "that", "this", "me", "i", "you"}:
            return Also(words)
    return None


def _marked(
    reader: Callable[[str, datetime], Intent | None],
) -> Callable[[str, datetime], Intent | None]:
    """Only for a message that says it corrects ("wait", "no", "instead")."""

    def read(text: str, now: datetime) -> Intent | None:
        if _MARKED.match(text) or _INSTEAD.search(text):
            return reader(text, now)
        return None

    return read


# "no wait, the electricity bill, not the dentist", "not the dentist, the bill": the task
# meant, said against the one just named (at least one correction word first).
_NOT_THAT = re.compile(
    r"^(?:(?:wait|no|nope|oops|whoops|sorry|actually|hang\s+on|hold\s+on|my\s+bad)\b[\s,!.]*+)++"
    r"(?:(?:i\s+meant?|it'?s|it\s+was)\s+)?(?P<x>[^,.]+?)(?:\s*+,)?\s++not\s+(?P<y>[^,.]+)$"
    r"|^(?:(?:wait|no|nope|oops|sorry|actually)\b[\s,!.]*+)*+not\s+(?P<y2>[^,.]+),\s*+"
    r"(?:(?:i\s+meant?|it'?s)\s+)?(?P<x2>[^,.]+)$",
    _I,
)


def _not_that(text: str, now: datetime) -> Intent | None:
    if not (match := _NOT_THAT.match(text)):
        return None
    words = strip_quotes((match["x"] or match["x2"]).strip())
    if _time_only(words) or fields_only(words, now):
        return None  # "no, 7am not 6": a time, read by _correction
    return Instead(words)


FOLLOWUPS: tuple[Callable[[str, datetime], Intent | None], ...] = (
    _not_that,
    _meant,
    _marked(_correction),
    _make_that,
    _also,
    _day_alone,
    _priority_alone,
)


def hour_corrected(text: str) -> str | None:
    """ "actually 4", "no, 7am": a time of day said as a correction ("HH:MM"), else None."""
    if _MARKED.match(text) and (match := _CORRECTION.match(text)):
        return _time_only(match["rest"])
    return None


def followup_intent(text: str, now: datetime) -> Intent | None:
    """A correction of, or an addition to, the change just made, else None."""
    for read in FOLLOWUPS:
        if found := read(text, now):
            return found
    return None
