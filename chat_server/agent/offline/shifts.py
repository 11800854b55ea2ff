"""Moving due dates by an amount ("push it back 2 days"), moving every task a query finds
("move everything due today to tomorrow"), and tags named without '#' ("tag it work")."""

import re
from datetime import datetime

from chat_server.agent.offline.dates import DateError, count_of, parse_when
from chat_server.agent.offline.intents import (
    ActOnTask,
    ByContext,
    ById,
    Clarify,
    Intent,
    MoveMatching,
)
from chat_server.agent.offline.phrases import DATE_HINT, SeveralTasks, parse_ref
from chat_server.agent.offline.queries import list_intent

_I = re.IGNORECASE
_VERB = r"(?:move|push|postpone|delay|defer|bump|shift|reschedule|put\s+off)"
_COUNT = r"(?P<n>\d+|a\s+couple\s+of|a\s+few|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
_SHIFT = re.compile(
    r"^"
    + _VERB
    + r"\s+(?:back\s+|out\s+)?(?P<t>.+?)\s+(?:back\s+|out\s+)?(?:by\s+)?"
    + _COUNT
    + r"\s+(?P<u>day|week|month)s?(?:\s+(?:later|more))?$",
    _I,
)
_MOVE_MATCHING = re.compile(
    r"^" + _VERB + r"\s+(?:everything|all\s+(?:of\s+)?(?:my\s+|the\s+)?(?:tasks?|todos?)?)"
    r"\s*(?:that(?:'s|\s+is|\s+are)\s+)?(?P<q>.+?)\s+(?:to|until|till|for)\s+(?P<d>.+)$",
    _I,
)
_REF = r"(?P<t>it|this|that|(?:this|that)\s+one|(?:task\s*)?#?\d{1,9})"
_TAG_WORD = r"#?(?P<tag>[a-z][\w-]*)"
_TAG_IT = re.compile(r"^(?:tag|label)\s+" + _REF + r"\s+(?:as\s+|with\s+)?" + _TAG_WORD + "$", _I)
_UNTAG = re.compile(
    r"^(?:remove|delete|drop|take\s+off)\s+(?:the\s+)?" + _TAG_WORD + r"\s+(?:tag|label)"
    r"\s+(?:from|off|on)\s+(?P<t>.+)$",
    _I,
)


def shift_intent(text: str, now: datetime) -> Intent | None:
    """A relative move of one task's due date, a move of several, or a tag said plainly."""
    if match := _SHIFT.match(text):
        target = parse_ref(match["t"])
        if target is not None:
            shift = (count_of(" ".join(match["n"].split())), match["u"].lower())
            return ActOnTask("update", target, shift=shift)
    if match := _MOVE_MATCHING.match(text):
        return _move_matching(match["q"], match["d"], now)
    if match := _TAG_IT.match(text):
        target = parse_ref(match["t"])
        if isinstance(target, ById | ByContext):
            return ActOnTask("update", target, add_tags=(match["tag"].lower(),))
    if (match := _UNTAG.match(text)) and (target := parse_ref(match["t"])):
        return ActOnTask("update", target, remove_tags=(match["tag"].lower(),))
    return None


def _move_matching(query: str, when_said: str, now: datetime) -> Intent | None:
    try:
        listed = list_intent(f"tasks {query}", now)
        when = parse_when(when_said, now)
    except (DateError, SeveralTasks):
        listed, when = None, None
    if listed is None or not listed.args:
        return None
    if when is None:
        return Clarify(f"I couldn't read “{when_said}” as a date. {DATE_HINT}")
    args = {"status": "pending", **listed.args}
    args.pop("sort", None)
    return MoveMatching(args, {"due": when.due(now.tzinfo)})  # type: ignore[arg-type]
