"""Requests about one task: show, complete, reopen, delete or change it.

The task may be named by number, by words from its title, or by the conversation ("it");
resolving words and "it" to a task id is the model's job (chat_server/agent/offline/steps.py).
"""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chat_server.agent.offline.dates import When, parse_when
from chat_server.agent.offline.intents import (
    Action,
    ActOnTask,
    ByContext,
    ById,
    ByPosition,
    ByWords,
    Clarify,
    Intent,
    TaskRef,
)
from chat_server.agent.offline.phrases import (
    DATE_HINT,
    NO_DUE,
    NO_TITLE,
    PRIORITY_WORD,
    PRIORITY_WORDS,
    QUOTED,
    TAG,
    SeveralTasks,
    field_targets,
    fields_only,
    parse_ref,
    parse_targets,
    strip_quotes,
    strip_tail,
    time_only,
    without_denied_dates,
)

_I = re.IGNORECASE
# The task ends on a non-space: with a run of spaces after it, the pattern tries the run once.
_T = r"(?P<t>.+?(?<!\s))"
CLEAR = ""  # update_task clears a due date or description given the empty value
_TAGS = r"(?P<tags>#\w[\w-]*(?:(?:\s*,\s*|\s+and\s+|\s+)#\w[\w-]*)*)"
# A task named before its tags stops at the first tag: a lazy target that could run on
# through a long list of tags would retry the list from each of its words.
_T_BEFORE_TAGS = r"(?P<t>(?:[^#]|#(?=\d))+?(?<!\s))"
_DATE_VERBS = r"(?:move|put|reschedule|postpone|push|defer|delay|bump|shift)"


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


# (pattern, action, fixed args, what the named groups mean)
_UPDATES: list[tuple[re.Pattern[str], str]] = [
    (
        _re(
            r"^(?:remove|clear|delete|drop|unset|take\s+off|get\s+rid\s+of)\s+(?:the\s+)?(?:due\s+"
            r"date|deadline|due|date)s?\s+(?:from|of|on|for)\s+" + _T + "$"
        ),
        "clear_due",
    ),
    (
        _re(
            r"^(?:remove|clear|delete|drop)\s+(?:all\s+)?(?:the\s+|its\s+)?tags\s+(?:from|of|on)\s+"
            + _T
            + "$"
        ),
        "clear_tags",
    ),
    (_re(r"^untag\s+" + _T_BEFORE_TAGS + "$"), "clear_tags"),
    (
        _re(
            r"^(?:tag|label)\s+" + _T + r"\s+(?:with|as)\s+(?:the\s+)?(?:tags\s+)?(?P<words>[\w-]+"
            r"(?:(?:\s*+,\s*+|\s++and\s++)[\w-]+)+)$"
        ),
        "add_word_tags",
    ),
    (
        _re(
            r"^(?:remove|delete|drop|take\s+off)\s+(?:the\s+)?(?:tags?\s+)?"
            + _TAGS
            + r"\s+(?:from|off|on)\s+"
            + _T
            + "$"
        ),
        "remove_tags",
    ),
    (
        _re(r"^(?:remove|delete|drop)\s+(?:the\s+)?tag\s+(?P<tag>[\w-]+)\s+from\s+" + _T + "$"),
        "remove_tags",
    ),
    (_re(r"^untag\s+" + _T_BEFORE_TAGS + r"\s+" + _TAGS + "$"), "remove_tags"),
    (
        _re(r"^(?:tag|label)\s+" + _T_BEFORE_TAGS + r"\s+(?:with\s+|as\s+)?" + _TAGS + "$"),
        "add_tags",
    ),
    (
        _re(r"^(?:tag|label)\s+" + _T + r"\s+(?:with|as)\s+(?:the\s+)?(?:tag\s+)?(?P<tag>[\w-]+)$"),
        "add_tags",
    ),
    (_re(r"^add\s+(?:the\s+)?(?:tags?\s+)?" + _TAGS + r"\s+(?:to|on)\s+" + _T + "$"), "add_tags"),
    # "add the tag 'travel' to the flights one", "add the travel tag to flights".
    (
        _re(
            r"^add\s+(?:the\s+|a\s+)?tag\s+(?P<q>[\"']?)(?P<tag>[\w-]+)(?P=q)\s+(?:to|on)\s+"
            + _T
            + "$"
        ),
        "add_tags",
    ),
    (
        _re(
            r"^add\s+(?:the\s+|a\s+)?(?P<q>[\"']?)(?P<tag>[\w-]+)(?P=q)\s+tag\s+(?:to|on)\s+"
            + _T
            + "$"
        ),
        "add_tags",
    ),
    (
        _re(
            r"^(?:add|attach|put)\s+(?:a\s+)?(?:note|description|details?|comment)\s+(?:to|on|for)\s+"
            + _T
            + r"\s*(?::|saying|that\s+says|-|,)\s*(?P<d>.+)$"
        ),
        "description",
    ),
    (
        _re(
            r"^(?:set|change|update)\s+(?:the\s+)?(?:description|notes?|details)\s+(?:of|for|on)\s+"
            + _T
            + r"\s+to\s+(?P<d>.+)$"
        ),
        "description",
    ),
    (
        _re(
            r"^(?:remove|clear|delete)\s+(?:the\s+)?(?:description|notes?|details)\s+(?:from|of|on)\s+"
            + _T
            + "$"
        ),
        "clear_description",
    ),
    (
        _re(
            r"^(?:notes?|description|details|comment)\s+(?:for|on|to)\s+"
            + _T
            + r"\s*(?::|-|,)\s*(?P<d>.+)$"
        ),
        "description",
    ),
    (
        _re(
            r"^(?:add|put|write)\s+(?P<d>.+?)\s+(?:to|in|on|into)\s+(?:the\s+)?(?:notes?|description"
            r"|details)\s+(?:of|for|on)\s+" + _T + "$"
        ),
        "description",
    ),
    (
        _re(
            r"^(?:for\s+)?"
            + _T
            + r"\s*[,:]\s*(?:add\s+a\s+note|note|notes|description)\s*(?::|-|,|that"
            r"|saying)?\s*(?P<d>.+)$"
        ),
        "description",
    ),
    (
        _re(
            r"^(?:(?:add|attach|put)\s+(?:a\s+)?)?(?:note|notes|description|comment)\s*(?::|-"
            r"|saying|that\s+says)\s*(?P<d>.+)$"
        ),
        "description",
    ),
    (
        _re(
            r"^(?:the\s+)?" + _T + r"(?:'s)?\s+(?:note|notes|description|details)\s+(?:should\s+say"
            r"|says|should\s+be|is|are)\s*:?\s*(?P<d>.+)$"
        ),
        "description",
    ),
    (_re(r"^(?:rename|retitle)\s+" + _T + r"\s+(?:to|as)\s+(?P<title>.+)$"), "title"),
    # "give the passport renewal a deadline of jan 15", "set a due date for X to friday".
    (
        _re(
            r"^(?:give|set)\s+" + _T + r"\s+(?:a\s+|the\s+)?(?:deadline|due\s+date)\s+(?:of|on"
            r"|for|to)\s+(?P<d>[^,;]+)$"
        ),
        "due",
    ),
    (
        _re(r"^" + _T + r"\s+should\s+(?:be\s+)?(?:called|named|titled|say|read)\s+(?P<title>.+)$"),
        "title",
    ),
    (_re(r"^(?:call|name)\s+(?:it|that|this)\s+(?P<title>.+?)(?:\s+instead)?$"), "title_it"),
    (
        _re(
            r"^(?:change|set|update|edit)\s+(?:the\s+)?(?:title|name|text|wording)\s+(?:of|for|on)\s+"
            + _T
            + r"\s+to\s+(?P<title>.+)$"
        ),
        "title",
    ),
    (
        _re(
            r"^(?:change|set|update|edit)\s+"
            + _T
            + r"(?:'s)?\s+(?:title|name)\s+to\s+(?P<title>.+)$"
        ),
        "title",
    ),
    (
        _re(
            r"^(?:set|change|update|move|push|make)\s+(?:the\s+)?(?:due\s+date|deadline|date)\s+"
            r"(?:of|for|on)\s+" + _T + r"\s+(?:to|for|until)\s+(?P<d>.+)$"
        ),
        "due",
    ),
    (
        _re(
            r"^(?:change|set|update|move)\s+" + _T + r"(?:'s)?\s+(?:due\s+date|deadline)\s+to\s+"
            r"(?P<d>.+)$"
        ),
        "due",
    ),
    (
        _re(
            r"^(?:set|change|update)\s+(?:the\s+)?priority\s+(?:of|for|on)\s+" + _T + r"\s+to\s+"
            r"(?P<p>\w+)(?:\s+priority)?$"
        ),
        "priority",
    ),
    (_re(r"^(?:set|change|update)\s+" + _T + r"(?:'s)?\s+priority\s+to\s+(?P<p>\w+)$"), "priority"),
    (
        _re(
            r"^(?:raise|increase|bump\s+up|bump)\s+(?:the\s+)?priority\s+(?:of|for|on)\s+"
            + _T
            + "$"
        ),
        "priority_high",
    ),
    (_re(r"^prioriti[sz]e\s+" + _T + "$"), "priority_high"),
    (
        _re(r"^(?:lower|decrease|reduce|drop)\s+(?:the\s+)?priority\s+(?:of|for|on)\s+" + _T + "$"),
        "priority_low",
    ),
    (_re(r"^de-?prioriti[sz]e\s+" + _T + "$"), "priority_low"),
    (_re(r"^(?:stop|don'?t|do\s+not)\s+(?:repeating|recurring|repeat)\s+" + _T + "$"), "no_repeat"),
    (_re(r"^stop\s+" + _T + r"\s+(?:from\s+)?(?:repeating|recurring)$"), "no_repeat"),
    (
        _re(
            r"^" + _T + r"\s+(?:doesn'?t|does\s+not|don'?t|do\s+not|shouldn'?t|no\s+longer|won'?t)"
            r"\s+(?:need\s+to\s+|have\s+to\s+)?(?:repeat|recur)(?:s)?(?:\s+any\s*more)?$"
        ),
        "no_repeat",
    ),
    (
        _re(
            r"^skip\s+(?:(?:this|next|today)(?:\s+week)?'?s\s+|the\s+next\s+|this\s+)?"
            + _T
            + r"(?:\s+(?:this|next)\s+(?:time|week|month|one))?$"
        ),
        "skip",
    ),
    # "add to the dentist: bring the card": a note on the task (not "add to my list: X").
    (
        _re(
            r"^(?:add|append)\s+to\s+(?!(?:my|the)\s+(?:\w+\s+)?list\b)" + _T + r"\s*:\s*(?P<d>.+)$"
        ),
        "description",
    ),
]
_DATE_MOVE = _re(r"^" + _DATE_VERBS + r"\s+(?P<rest>.+)$")
_DUE_SUFFIX = _re(
    r"^" + _T + r"\s+(?:is\s+|are\s+|should\s+be\s+)?(?:now\s+|actually\s+)?due\s+(?P<d>.+)$"
)
# "due friday now", "thursday at 2pm instead": words after a date that say nothing more.
_DATE_FILLER = _re(r"\b(?:now|instead|then|actually|after\s+all|please)$")
# "change the dentist time to 4pm": the field named after the task is no part of its name.
_FIELD_NOUN = _re(r"(?<=\w)(?:'s)?\s++(?:time|date|due\s+date|deadline|day)$")
# "change the dentist reminder to 1 hour before": a field named after the task, whose new
# value was not read, is never a new title.
_OTHER_FIELD = _re(
    r"(?<=\w)(?:'s)?\s++(?:reminders?|priority|tags?|list|notes?|description|repeat|recurrence"
    r"|rule|status)$"
)
_GENERIC_UPDATE = _re(r"^(?P<verb>make|mark|set|change|update|edit|turn|switch)\s+(?P<rest>.+)$")
_REOPEN = [
    _re(
        r"^(?:reopen|re-open|uncomplete|un-complete|unmark|un-mark|restore|unfinish|reactivate"
        r"|untick|un-tick|uncheck|un-check|uncross|un-cross)\s+" + _T + r"(?:\s+(?:again|off))?$"
    ),
    _re(r"^(?:not|un)[\s-]*(?:done|finished|complete|completed)\s*[:-]\s*" + _T + "$"),
    _re(r"^bring\s+back\s+" + _T + "$"),
    _re(r"^(?:i|we)\s+still\s+(?:need|have|got|gotta|must)\s+(?:to\s+)?(?:do\s+)?" + _T + "$"),
    _re(
        r"^"
        + _T
        + r"\s+(?:still\s+needs?\s+(?:doing|to\s+be\s+done)|needs?\s+(?:doing|to\s+be\s+done)"
        r"\s+again)$"
    ),
    _re(
        r"^(?:put|add|bring|move)\s+" + _T + r"\s+back\s+(?:on|onto|in|into|to)\s+(?:my|the)\s+"
        r"(?:\w+\s+)?(?:list|tasks|todos?)$"
    ),
    _re(
        r"^(?:i|we)\s+(?:didn'?t|did\s+not|haven'?t|have\s+not|never)\s+(?:actually\s+|really\s+"
        r"|even\s+)?(?:do|did|done|finish|finished|complete|completed)\s+"
        + _T
        + r"(?:\s+(?:yet|after\s+all|actually))?$"
    ),
    _re(
        r"^(?:i\s+)?(?:didn'?t|did\s+not|haven'?t)\s+(?:actually\s+|really\s+)?(?:do|finish"
        r"|complete|done|finished)\s+(?:it|that|this)(?:\s+(?:yet|after\s+all|actually))?$"
    ),
    _re(
        r"^(?:mark|set)\s+" + _T + r"\s+(?:as\s+)?(?:not\s+(?:yet\s+)?(?:done|complete|completed"
        r"|finished)|undone|incomplete|uncompleted|pending|open|unfinished|to\s*do|active)$"
    ),
    _re(
        r"^" + _T + r"\s+(?:is\s+not|isn'?t|was\s+not|wasn'?t|is\s+n't|not|ain'?t|aren'?t)"
        r"\s+(?:actually\s+|really\s+)?(?:done|finished|complete|completed|ticked\s+off"
        r"|checked\s+off)(?:\s+(?:yet|after\s+all))?$"
    ),
]
_COMPLETE = [
    _re(
        r"^(?:mark|set|check|tick|cross)\s+(?:off\s+)?" + _T + r"\s+(?:as\s+)?(?:done|complete"
        r"|completed|finished|checked(?:\s+off)?|ticked\s+off)$"
    ),
    _re(r"^(?:complete|finish|check\s+off|tick\s+off|cross\s+off|close|resolve)\s+" + _T + "$"),
    _re(
        r"^(?:i'?m|i\s+am|i'?ve|i\s+have|we'?re|we\s+are)\s+(?:all\s+)?(?:done|finished|through)"
        r"\s+with\s+" + _T + "$"
    ),
    _re(
        r"^(?:done|finished|ticked\s+off|checked\s+off|crossed\s+off)\s*(?:with|:|-)?\s+" + _T + "$"
    ),
    _re(
        r"^(?:i|we)\s+(?:have\s+|'ve\s+|just\s+|already\s+)*(?:finished|completed|did|done)\s+"
        + _T
        + "$"
    ),
]
_COMPLETE_SUFFIX = _re(
    r"^" + _T + r"(?:'s)?\s+(?:is\s+|are\s+|was\s+|has\s+been\s+|have\s+been\s+)?"
    r"(?:now\s+|all\s+)?(?:done"
    r"|complete|completed|finished|ticked\s+off|checked\s+off|crossed\s+off|sorted|taken\s+care\s+of)"
    r"(?:\s+done)*+(?:\s+for\s+(?:today|now|the\s+day|this\s+week))?$"
)
_PRIORITY_SUFFIX = _re(
    r"^"
    + _T
    + r"\s+(?:is|should\s+be)\s+(?:now\s+)?(?:a\s+)?(?P<p>"
    + PRIORITY_WORD
    + r")(?:\s+priority)?$"
)
_DELETE = _re(
    r"^(?:delete|del|remove|erase|trash|drop|discard|cancel|scrap|scratch|get\s+rid\s+of|throw\s+away"
    r"|bin|kill|nuke|ditch|axe|remove)\s+"
    + _T
    + r"(?:\s+(?:from|off)\s+(?:my|the)\s+(?:\w+\s+)?list)?$"
)
_SHOW_ROWS = [
    _re(
        r"^(?:show|display|open|view|see|get|describe|details\s+(?:of|for|on)|info\s+(?:on|about"
        r"|for))\s+(?:me\s+)?(?:the\s+)?(?:details\s+(?:of|for|on)\s+|info\s+(?:on|about|for)\s+)?"
        + _T
        + "$"
    ),
    _re(r"^what(?:'?s|\s+is)\s+" + _T + r"\s+about$"),
    _re(r"^what(?:'?s|\s+is)\s+(?:in\s+|on\s+)?" + _T + "$"),
    _re(r"^tell\s+me\s+(?:more\s+)?about\s+" + _T + "$"),
]


# Deletions said without a delete verb.
_DELETE_SAID = [
    _re(
        r"^"
        + _T
        + r"\s+(?:is|was|got|has\s+been|have\s+been|are|were)\s+(?:cancell?ed|called\s+off"
        r"|scrapped|off|no\s+longer\s+(?:needed|happening))(?:\s+(?:now|anyway|after\s+all))?$"
    ),
    _re(r"^no\s+(?:need|longer\s+need)\s+(?:to\s+|for\s+)?" + _T + r"(?:\s+any\s*more)?$"),
    _re(
        r"^"
        + _T
        + r"\s+(?:isn'?t|is\s+not|won'?t\s+be|will\s+not\s+be|is\s+no\s+longer)\s+happening"
        r"(?:\s+any\s*more)?$"
    ),
    _re(
        r"^(?:i'?m|i\s+am|we'?re|we\s+are)\s+not\s+(?:doing|going\s+to\s+do)\s+"
        + _T
        + r"(?:\s+any\s*more|\s+after\s+all)?$"
    ),
    _re(r"^(?:take|strike)\s+" + _T + r"\s+off\s+(?:my|the)\s+(?:\w+\s+)?list$"),
]
# "it's not done", "not done yet": the task just completed was not.
_REOPEN_IT = _re(
    r"^(?:(?:it'?s|that'?s|it\s+is|that\s+is|it\s+was|that\s+was|it\s+wasn'?t|that\s+wasn'?t"
    r"|it\s+isn'?t|that\s+isn'?t)\s+)?(?:not\s+)?(?:actually\s+|really\s+)?(?:not\s+)(?:done"
    r"|finished|complete)(?:\s+yet)?$|^(?:it|that)\s+(?:isn'?t|wasn'?t)\s+(?:actually\s+)?(?:done"
    r"|finished|complete)(?:\s+yet)?$"
)
# The one-verb actions, each pattern's `t` naming the task (or tasks).
_ACTIONS: list[tuple[re.Pattern[str], Action]] = [
    *((pattern, "reopen") for pattern in _REOPEN),
    *((pattern, "complete") for pattern in _COMPLETE),
    (_DELETE, "delete"),
    *((pattern, "delete") for pattern in _DELETE_SAID),
]


def _ref(text: str) -> TaskRef | None:
    try:
        return parse_ref(text)
    except SeveralTasks:
        return None


def _tags_of(match: re.Match[str]) -> tuple[str, ...]:
    if "tags" in match.re.groupindex and match["tags"]:
        return tuple(dict.fromkeys(t.lower() for t in TAG.findall(match["tags"])))
    return (match["tag"].lower().lstrip("#"),)


_WORDS = re.compile(r"[\w-]+")


def _title(target: TaskRef, match: re.Match[str], now: datetime) -> Intent:
    title = match["title"]
    if "t" in match.re.groupindex:
        old, title = _rename_cut(match["t"], title)
        if old != match["t"]:
            target = parse_ref(old) or target
    title = strip_quotes(title)
    return ActOnTask("update", target, {"title": title}) if title else Clarify(NO_TITLE)


_TO = re.compile(r"\s(?:to|as)\s", _I)


def _rename_cut(old: str, new: str) -> tuple[str, str]:
    """ "rename book flights to Lisbon to Book flights to Porto": of the places "to" could
    cut, the one whose new title starts as the old one does (a rename keeps the verb)."""
    said = f"{old} to {new}"
    for cut_at in _TO.finditer(said):
        head, tail = said[: cut_at.start()], said[cut_at.end() :]
        if head.split()[0].lower() == tail.split()[0].lower().strip("\"'"):
            return head, tail
    return old, new


def _priority_named(target: TaskRef, match: re.Match[str], now: datetime) -> Intent:
    word = match["p"].lower()
    if word not in PRIORITY_WORDS:
        return Clarify(f"“{match['p']}” isn't a priority: say high, medium or low.")
    return ActOnTask("update", target, {"priority": PRIORITY_WORDS[word]})


def _set(**args: Any) -> Callable[[TaskRef, re.Match[str], datetime], Intent]:
    return lambda target, match, now: ActOnTask("update", target, args)


# What each kind of _UPDATES row does to the task its match names.
_UPDATE_KINDS: dict[str, Callable[[TaskRef, re.Match[str], datetime], Intent]] = {
    "clear_due": _set(due=CLEAR),
    "clear_tags": _set(tags=[]),
    "remove_tags": lambda t, m, now: ActOnTask("update", t, remove_tags=_tags_of(m)),
    "add_tags": lambda t, m, now: ActOnTask("update", t, add_tags=_tags_of(m)),
    "add_word_tags": lambda t, m, now: ActOnTask(
        "update", t, add_tags=tuple(w.lower() for w in _WORDS.findall(m["words"]) if w != "and")
    ),
    "description": lambda t, m, now: ActOnTask("update", t, {"description": strip_quotes(m["d"])}),
    "clear_description": _set(description=CLEAR),
    "title": _title,
    "title_it": _title,
    "due": lambda t, m, now: _due_update(t, m["d"], now),
    "priority": _priority_named,
    "priority_high": _set(priority="high"),
    "priority_low": _set(priority="low"),
    "no_repeat": _set(repeat=""),
    "skip": _set(skip=True),
}


def _update_from(kind: str, match: re.Match[str], now: datetime) -> Intent | None:
    """One _UPDATES pattern's match as an intent (None when its target names no task)."""
    target = field_targets(match["t"] if "t" in match.re.groupindex else "it")
    return None if target is None else _UPDATE_KINDS[kind](target, match, now)


def _due_update(target: TaskRef, phrase: str, now: datetime) -> Intent:
    if NO_DUE.fullmatch(phrase.strip()) or phrase.strip().lower() in {"none", "nothing", "never"}:
        return ActOnTask("update", target, {"due": CLEAR})
    phrase = strip_tail(phrase, _DATE_FILLER, ",. ")
    when = parse_when(without_denied_dates(phrase, now), now)
    if when is None:
        return Clarify(f"I couldn't read “{phrase}” as a date. {DATE_HINT}")
    return due_change(target, when, now)


def due_change(target: TaskRef, when: When, now: datetime) -> ActOnTask:
    """Set the due date; a time said alone ("to 3pm") keeps the task's day."""
    if not when.dated and when.at is not None:
        return ActOnTask("update", target, at=when.at.strftime("%H:%M"))
    return ActOnTask("update", target, {"due": when.due(now.tzinfo)})  # type: ignore[arg-type]


_DELIMITERS = frozenset({"to", "as", "into", "for", "until", "till"})
# Each cut reads the whole value again: without a bound, a long message costs the square of
# its length (seconds for a few thousand characters). A task named in more words than this
# is a sentence, not a name.
MAX_TARGET_WORDS = 20
# A value that is only fields or a date ("high priority and due friday at 5pm") is short:
# a longer one is never read as fields, so each cut costs a slice, not a whole reading.
MAX_VALUE_CHARS = 100


def _splits(rest: str) -> list[tuple[str, str, bool]]:
    """Ways to cut "T X" into (target, value, cut at a "to"/"as"), shortest target first."""
    words = rest.split(" ")
    found = []
    for i in range(1, min(len(words), MAX_TARGET_WORDS + 1)):
        head, tail = " ".join(words[:i]), words[i:]
        delimited = tail[0].lower() in _DELIMITERS and len(tail) > 1
        found.append((head, " ".join(tail[1:] if delimited else tail), delimited))
    return found


def _date_move(rest: str, now: datetime) -> Intent | None:
    """Read `move T to D` or `postpone T until D`: the value must be a date."""
    first_bad: tuple[TaskRef, str] | None = None
    for head, said, _ in _splits(rest):
        target = parse_ref(_FIELD_NOUN.sub("", head))
        if target is None:
            continue
        value = strip_tail(said, _DATE_FILLER, ",. ")  # "move it to friday instead"
        when = parse_when(value, now) if len(value) <= MAX_VALUE_CHARS else None
        if when is not None:
            return due_change(target, when, now)
        if first_bad is None and not isinstance(target, ByWords):
            first_bad = (target, value)
    if first_bad is not None:
        return Clarify(f"I couldn't read “{first_bad[1]}” as a date. {DATE_HINT}")
    return None


def _generic_update(verb: str, rest: str, now: datetime) -> Intent | None:
    """Read `make T high priority`, `change T to friday`, `set T to 'New title'`."""
    title_split: tuple[TaskRef, str] | None = None
    for head, value, delimited in _splits(rest):
        target = parse_ref(_FIELD_NOUN.sub("", head))
        if target is None:
            continue
        quoted = QUOTED.fullmatch(value)
        if delimited and quoted and verb in {"change", "set", "update", "edit"}:
            return ActOnTask("update", target, {"title": quoted["text"].strip()})
        fields = fields_only(value, now) if len(value) <= MAX_VALUE_CHARS else None
        if fields is not None:
            tags = tuple(fields.pop("tags", ()))
            at = time_only(fields)
            targets = field_targets(_FIELD_NOUN.sub("", head)) or target
            return ActOnTask("update", targets, fields, add_tags=tags, at=at)
        if (
            delimited and title_split is None and verb in {"change", "update", "edit"}
            and not _FIELD_NOUN.search(head) and not _OTHER_FIELD.search(head)
        ):  # fmt: skip
            title_split = (target, value)
    if title_split is not None:
        return ActOnTask("update", title_split[0], {"title": title_split[1]})
    return None


def explicit_update(text: str, now: datetime) -> Intent | None:
    """A change to one task said with an unmistakable pattern ("tag task 2 #work")."""
    for pattern, kind in _UPDATES:
        if (match := pattern.match(text)) and (found := _update_from(kind, match, now)):
            return found
    return None


def _moved(text: str, now: datetime) -> Intent | None:
    if match := _DATE_MOVE.match(text):
        return _date_move(match["rest"], now)
    return None


def _reopen_it(text: str, now: datetime) -> Intent | None:
    return ActOnTask("reopen", ByContext()) if _REOPEN_IT.match(text) else None


def _one_verb(text: str, now: datetime) -> Intent | None:
    for pattern, action in _ACTIONS:
        if (match := pattern.match(text)) and (target := parse_targets(match["t"])):
            return ActOnTask(action, target)
    return None


def _changed(text: str, now: datetime) -> Intent | None:
    if match := _GENERIC_UPDATE.match(text):
        return _generic_update(match["verb"].lower(), match["rest"], now)
    return None


def _shown(text: str, now: datetime) -> Intent | None:
    for pattern in _SHOW_ROWS:
        if (match := pattern.match(text)) and isinstance(
            target := _ref(match["t"]), ById | ByContext | ByPosition
        ):
            return ActOnTask("show", target)
    return None


def _due_said(text: str, now: datetime) -> Intent | None:
    if (match := _DUE_SUFFIX.match(text)) and (target := parse_ref(match["t"])):
        return _due_update(target, match["d"], now)
    return None


# The readers of a request about one task, in order. Patterns that start with the task
# itself go last: they match the most.
ACT_READERS: tuple[Callable[[str, datetime], Intent | None], ...] = (
    _moved,
    _reopen_it,
    _one_verb,
    _changed,
    _shown,
    _due_said,
)


def act_intent(text: str, now: datetime) -> Intent | None:
    """A request to show, complete, reopen, delete or change one task, else None."""
    for read in ACT_READERS:
        if found := read(text, now):
            return found
    return None


def suffix_intent(text: str) -> ActOnTask | None:
    """A sentence that starts with the task: "task 3 done", "the report is high priority"."""
    if (match := _COMPLETE_SUFFIX.match(text)) and (target := parse_targets(match["t"])):
        return ActOnTask("complete", target)
    if (match := _PRIORITY_SUFFIX.match(text)) and (target := parse_ref(match["t"])):
        return ActOnTask("update", target, {"priority": PRIORITY_WORDS[match["p"].lower()]})
    return None
