"""Follow-ups read against the last turn's own change, on the one task it changed:
"actually every 4" after "add water plants every 3 days" (the same repeat unit, a new
interval), "make it 30 min instead" after "remind me 1 hour before the call" (the reminder
just set, moved), "oh and make them high priority too" after "move the photos to friday"
("them": the one task just changed). When the last turn changed no task, or several, these
give None or ask: never a guess."""

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chat_server.agent.offline.intents import ActOnTask, ByContext, ById, Clarify, Intent
from chat_server.agent.offline.reminders import BEFORE, COUNT, duration
from chat_server.agent.offline.turns import Conversation, Task

_I = re.IGNORECASE
_LEAD = (
    r"^(?:(?:actually|no|nope|wait|sorry|oops|hmm|ah|i\s+meant?|make\s+(?:it|that)"
    r"|change\s+(?:it|that)(?:\s+to)?)\b[\s,!.:;-]*+)*+"
)
_END = r"(?:[\s,]+(?:instead|then|rather|please))*+[\s.!]*+$"
_EVERY = re.compile(_LEAD + r"every\s+(?P<n>\d{1,3})" + _END, _I)
_SPAN = re.compile(
    _LEAD + r"(?:to\s+)?" + COUNT + r"\s*+(?P<u>m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?"
    r"|weeks?)(?:\s+(?:before(?:hand)?|ahead|earlier))?" + _END,
    _I,
)
_THEM = re.compile(r"^(?P<verb>make|mark|set|put)\s+(?:them|those|these)\b", _I)
_WRITES = {"add_task", "update_task"}
WHICH_ONES = "Which tasks do you mean? Name them, or say their numbers (“tasks 3 and 4”)."


def _one_write(conversation: Conversation) -> tuple[dict[str, Any], Task] | None:
    """The arguments and result of the last turn's write, when it wrote exactly one task."""
    writes = [run for run in conversation.last_turn if run.name in _WRITES]
    results = [run.result for run in writes]
    tasks = [r["task"] for r in results if isinstance(r, dict) and isinstance(r.get("task"), dict)]
    if not writes or len(tasks) != len(writes) or len({t.get("id") for t in tasks}) != 1:
        return None
    return writes[-1].args, tasks[-1]


def _every(count: int, args: dict[str, Any], task: Task) -> Intent | None:
    """ "actually every 4": the repeat just set, with a new interval."""
    repeat = str(task.get("repeat") or "") if "repeat" in args else ""
    if "FREQ=" not in repeat or count < 1:
        return None
    parts = [p for p in repeat.split(";") if not p.startswith("INTERVAL=")]
    parts.insert(1, f"INTERVAL={count}")
    new = ";".join(parts if count > 1 else parts[:1] + parts[2:])
    return ActOnTask("update", ById(task["id"]), {"repeat": new})


def _span(before: str, args: dict[str, Any], task: Task) -> Intent | None:
    """ "make it 30 min instead": the one reminder just set, moved to `before`."""
    said = args.get("reminders")
    current = task.get("reminders")
    if not (isinstance(said, list) and len(said) == 1 and isinstance(current, list)):
        return None
    if "before" not in said[0] or said[0] not in current:
        return None
    moved = [{"before": before} if one == said[0] else one for one in current]
    return ActOnTask("update", ById(task["id"]), {"reminders": moved})


def last_change_intent(conversation: Conversation) -> Intent | None:
    """A new interval or reminder for the one task the last turn changed, else None."""
    text = conversation.user_text.strip()
    every, span = _EVERY.match(text), _SPAN.match(text)
    if not (every or span) or (written := _one_write(conversation)) is None:
        return None
    if every:
        return _every(int(every["n"]), *written)
    assert span is not None
    before = re.match(BEFORE, f"{span['n']} {span['u']} before", _I)
    return _span(duration(before), *written) if before else None


def them_as_it(
    words: str, conversation: Conversation, parse: Callable[[str, datetime], Intent], now: datetime
) -> Intent | None:
    """ "make them high priority": "it" when the last turn changed exactly one task (the
    photos, named in the plural); else ask which tasks. None for other words."""
    if not _THEM.match(words):
        return None
    own = parse(_THEM.sub(lambda m: f"{m['verb']} it", words, count=1), now)
    if not (isinstance(own, ActOnTask) and isinstance(own.target, ByContext)):
        return None
    written = _one_write(conversation)
    if written is None:
        return Clarify(WHICH_ONES)
    return replace(own, target=ById(written[1]["id"]))
