"""The offline model's grammar: one English sentence plus "now" -> an intent with tool args.

Pure functions only. `parse(text, now)` reads the sentence; `now` is an aware datetime in the
user's zone, so "tomorrow" and "friday" are the user's days and times come out in UTC.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from chat_server.dates import DateError, find_range, find_when, parse_when

# ---------------------------------------------------------------- intents


@dataclass(frozen=True)
class ById:
    """A task named by its number: "task 3", "#3"."""

    task_id: int


@dataclass(frozen=True)
class ByWords:
    """A task named by words from its title: "the groceries one"."""

    words: str


@dataclass(frozen=True)
class ByContext:
    """A task named by the conversation: "it", "that one"."""


@dataclass(frozen=True)
class ByPosition:
    """A task named by its place in the last list shown: "the second one" (0-based, -1 last)."""

    index: int


TaskRef = ById | ByWords | ByContext | ByPosition
Action = Literal["show", "complete", "reopen", "delete", "update"]


@dataclass(frozen=True)
class Help:
    """No task request: greet, thank or explain what the model understands."""

    kind: Literal["help", "greeting", "thanks", "ack", "bye", "unknown"] = "help"


@dataclass(frozen=True)
class Clarify:
    """A task request that cannot be carried out as said; `text` says why."""

    text: str


@dataclass(frozen=True)
class AddTask:
    """Call add_task with `args`."""

    args: dict[str, Any]


@dataclass(frozen=True)
class ListTasks:
    """Call list_tasks with `args`."""

    args: dict[str, Any]


@dataclass(frozen=True)
class ActOnTask:
    """Do `action` to one task; `args` are update fields, tags are added/removed to current."""

    action: Action
    target: TaskRef
    args: dict[str, Any] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pick:
    """A bare answer ("4", "the second one") to a "which task?" question."""

    target: TaskRef


Intent = Help | Clarify | AddTask | ListTasks | ActOnTask | Pick

ONE_AT_A_TIME = (
    "I can only work on one task at a time. Tell me which one, by number "
    "(“task 3”) or by words from its title (“the milk one”)."
)
NO_TITLE = "What should the task be called? For example: “add buy milk tomorrow”."
DATE_HINT = "Try “tomorrow”, “friday”, “next monday”, “in 3 days”, “Dec 3” or “2026-12-03”."

_I = re.IGNORECASE

# ---------------------------------------------------------------- normalising

_TRANSLATE = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-"})
_GREETING_WORDS = r"hey|hi|hello|hiya|yo|howdy|greetings|good\s+(?:morning|afternoon|evening)"
_LEAD = re.compile(
    r"^(?:(?:" + _GREETING_WORDS + r"|ok(?:ay)?|so|oh|also|and|actually|now|then|alright|um+|uh+"
    r"|well|great|cool|please|pls|plz|kindly|just|quickly)\b(?:\s+there\b)?[\s,!.:;-]*"
    r"|(?:can|could|would|will)\s+you\s+(?:please\s+)?|(?:go\s+ahead\s+and|let'?s)\s+)+",
    _I,
)
_GREETING = re.compile(r"\b(?:" + _GREETING_WORDS + r")\b", _I)
_TRAIL = re.compile(r"(?:[\s,.!?;:]+|\b(?:please|pls|plz|thanks|thank\s+you|thx|for\s+me)\b)+$", _I)
_HELP = re.compile(
    r"^(?:help(?:\s+me)?|\?+|what\s+can\s+(?:you|i)\s+do|what\s+do\s+you\s+do|how\s+does\s+this"
    r"\s+work|how\s+do\s+i\s+use\s+(?:this|you)|commands|usage|menu|options|examples?"
    r"|who\s+are\s+you|what\s+are\s+you|what\s+can\s+you\s+help\s+(?:me\s+)?with)$",
    _I,
)
_SMALL_TALK = re.compile(
    r"^(?:what'?s\s+up|sup|how\s+are\s+you(?:\s+doing)?(?:\s+today)?|how'?s\s+it\s+going)$", _I
)
_BYE = re.compile(r"^(?:bye|goodbye|good\s*night|see\s+you(?:\s+later)?|cya|later)$", _I)
_THANKS_WORD = re.compile(r"\b(?:thanks|thank\s+you|thx)\b", _I)
_THANKS = re.compile(r"^(?:thanks|thank\s+you|thx|ty|cheers|much\s+appreciated)\b", _I)
_ACK = re.compile(
    r"^(?:ok(?:ay)?|great|perfect|awesome|cool|nice|got\s+it|good|fine|sure|alright|yes|no|nope"
    r"|(?:all\s+|i'?m\s+)?done|that'?s\s+(?:it|all)|nothing|never\s*mind|nvm)$",
    _I,
)


def normalize(text: str) -> tuple[str, bool]:
    """The request without greetings, politeness and end punctuation; and whether it greeted."""
    text = " ".join(text.translate(_TRANSLATE).split())
    lead = _LEAD.match(text)
    greeted = bool(lead and _GREETING.search(lead[0]))
    if lead:
        text = text[lead.end() :]
    return _TRAIL.sub("", text), greeted


# ---------------------------------------------------------------- task references

_ID_REF = re.compile(r"^(?:the\s+)?(?:task|todo|item|number|no\.?)?\s*#?\s*(\d{1,9})$", _I)
_CONTEXT_REF = re.compile(
    r"^(?:it|that|this|(?:that|this|the)(?:\s+(?:same|new|latest|one))?\s+(?:one|task|todo|item)"
    r"|(?:the\s+)?one\s+(?:you|i)\s+just\s+(?:added|made|created|mentioned|showed))$",
    _I,
)
_ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "7th": 6, "eighth": 7, "8th": 7,
    "ninth": 8, "9th": 8, "tenth": 9, "10th": 9, "last": -1,
}  # fmt: skip
_POSITION_REF = re.compile(
    r"^(?:the\s+)?(" + "|".join(_ORDINALS) + r")(?:\s+(?:one|task|todo|item))?$", _I
)
_WORDS_HEAD = re.compile(
    r"^(?:(?:the|my|a|an|that|this|our)\s+)*(?:(?:task|todo|to-do|item|one|reminder)s?\s+"
    r"(?:called|named|titled|about|for|to|that\s+says|saying|with|where\s+i)\s+)?",
    _I,
)
_WORDS_TAIL = re.compile(r"(?:\s+(?:one|task|todo|to-do|item|thing|reminder|entry))+$", _I)
_NOT_A_TASK = frozenset(
    {"i", "i'm", "im", "i am", "we", "we're", "we are", "you", "me", "all", "it all", "one", "the"}
    | {"task", "nothing"}
)
# Phrases that start like questions or commands, or name several tasks, are never one task.
_NOT_A_REF = re.compile(
    r"^(?:what|what's|whats|which|who|how|why|when|where|anything|something|nothing|any|is\s+there"
    r"|are\s+there|do|does|did|can|could|make|mark|set|change|update|move|add|create|delete|remove"
    r"|show|list|find|search|tell|give|get|please)\b|\b(?:tasks|todos|to-dos|items)\b",
    _I,
)
_ALL_REF = re.compile(r"^(?:all|every|everything|both|them|those|these)\b", _I)


class _AllTasks(Exception):
    """The request names several tasks at once ("delete all tasks")."""


def parse_ref(text: str) -> TaskRef | None:
    """The task a phrase names, or None when it names none."""
    text = text.strip(" ,.")
    if match := _ID_REF.match(text):
        return ById(int(match[1]))
    if _CONTEXT_REF.match(text):
        return ByContext()
    if match := _POSITION_REF.match(text):
        return ByPosition(_ORDINALS[match[1].lower()])
    if _ALL_REF.match(text):
        raise _AllTasks
    if _NOT_A_REF.search(text):
        return None
    words = _WORDS_TAIL.sub("", _WORDS_HEAD.sub("", text, count=1)).strip(" \"'")
    if not words or words.lower() in _NOT_A_TASK:
        return None
    return ByWords(words)


# ---------------------------------------------------------------- task fields

PRIORITY_WORDS = {
    "high": "high", "top": "high", "urgent": "high", "important": "high", "critical": "high",
    "asap": "high", "low": "low", "medium": "medium", "normal": "medium",
}  # fmt: skip
_P = r"(?:high|low|medium|normal|top|urgent|important|critical)"
_DESCRIPTION = re.compile(r"\s*[,;-]?\s*\b(?:notes?|description|details)\s*[:=]\s*(?P<d>.+)$", _I)
_TAG = re.compile(r"(?<![\w&#])#(?P<tag>[A-Za-z][\w-]*)")
_PRIORITY = re.compile(
    r"(?:[,;]\s*)?\b(?:(?:with|at|as|in)\s+)?(?:an?\s+)?(?P<p>"
    + _P
    + r")[\s-]+(?:priority|prio|pri)\b"
    r"|(?:[,;]\s*)?\bpriority\s*(?:[:=]|is|of)?\s*(?P<p2>" + _P + r")\b"
    r"|(?:^|\s)!(?P<p3>high|low|medium)\b",
    _I,
)
_PRIORITY_EDGE = re.compile(
    r"^(?P<a>urgent|important|asap|critical)\b[\s:!,-]*"
    r"|[\s,;!-]*\b(?P<b>urgent(?:ly)?|important|asap|critical)!*$",
    _I,
)
_BARE_PRIORITY = re.compile(r"^(?:a\s+|an\s+)?(?P<p>" + _P + r")(?:\s+one)?$", _I)
_EVERY = {"day": "daily", "morning": "daily", "night": "daily", "evening": "daily",
          "week": "weekly", "month": "monthly", "year": "yearly"}  # fmt: skip
_ADVERB = {"daily": "daily", "nightly": "daily", "weekly": "weekly", "monthly": "monthly",
           "yearly": "yearly", "annually": "yearly"}  # fmt: skip
_RECURRENCE = re.compile(
    r"\b(?:(?:and\s+)?(?:repeat|recur)(?:s|ing)?\s+)?(?:every|each)\s+(?:single\s+)?"
    r"(?P<u>day|week|month|year|morning|night|evening)\b"
    r"|\b(?:(?:and\s+)?(?:repeat|recur)(?:s|ing)?\s+)?(?P<adv>daily|weekly|monthly|yearly|annually"
    r"|nightly)\b"
    r"|\b(?:(?:and\s+)?(?:repeat|recur)(?:s|ing)?\s+)?(?:every|each)\s+(?P<wd>monday|tuesday"
    r"|wednesday|thursday|friday|saturday|sunday)s?\b"
    r"|\b(?P<none>(?:does\s*n[o']?t|do\s+not|don'?t|not|no\s+longer|never|stop|should\s*n'?t)"
    r"\s+(?:repeat|recur)(?:ing)?|no\s+(?:repeat|recurrence)|one[-\s]?off|just\s+once"
    r"|non[-\s]?recurring)\b",
    _I,
)
_NO_DUE = re.compile(
    r"\b(?:no|without(?:\s+a)?)\s+(?:due\s+date|deadline|date)\b|\bundated\b|\bnot\s+due\b", _I
)
_FIELD_FILLER = re.compile(
    r"^(?:(?:and|to|be|a|an|as|due|it|should|is|priority|now|instead|the|date|set|make|with)"
    r"\b|[\s,;:-])*$",
    _I,
)


def _cut(text: str, match: re.Match[str]) -> str:
    return " ".join((text[: match.start()] + " " + text[match.end() :]).split())


def extract_fields(
    text: str, now: datetime, *, bare_priority: bool = False
) -> tuple[dict[str, Any], str]:
    """Task fields said in `text` (due, priority, tags, recurrence, description) and the rest."""
    fields: dict[str, Any] = {}
    if match := _DESCRIPTION.search(text):
        fields["description"] = match["d"].strip()
        text = _cut(text, match)
    tags = [m["tag"].lower() for m in _TAG.finditer(text)]
    if tags:
        fields["tags"] = list(dict.fromkeys(tags))
        text = " ".join(_TAG.sub(" ", text).split())
    if match := _PRIORITY.search(text):
        fields["priority"] = PRIORITY_WORDS[(match["p"] or match["p2"] or match["p3"]).lower()]
        text = _cut(text, match)
    if match := _RECURRENCE.search(text):
        if match["none"]:
            fields["recurrence"] = "none"
        elif match["wd"]:
            # "every monday": weekly, first due on the coming Monday.
            fields["recurrence"] = "weekly"
            said = f" this {match['wd']} "
            text = " ".join((text[: match.start()] + said + text[match.end() :]).split())
        else:
            fields["recurrence"] = (
                _EVERY.get((match["u"] or "").lower()) or _ADVERB[match["adv"].lower()]
            )
        if not match["wd"]:
            text = _cut(text, match)
    if match := _NO_DUE.search(text):
        fields["due"] = None
        text = _cut(text, match)
    else:
        when, text = find_when(text, now)
        if when is not None:
            fields["due"] = when.due(now.tzinfo)  # type: ignore[arg-type]
    if "priority" not in fields and (match := _PRIORITY_EDGE.search(text)):
        fields["priority"] = PRIORITY_WORDS[(match["a"] or match["b"]).lower().removesuffix("ly")]
        text = _cut(text, match)
    if bare_priority and "priority" not in fields:
        rest = re.sub(r"^(?:(?:a|an|be|as|to)\s+)+", "", text.strip(" ,"), flags=_I)
        if match := _BARE_PRIORITY.match(rest):
            fields["priority"] = PRIORITY_WORDS[match["p"].lower()]
            text = ""
    return fields, text


def _fields_only(text: str, now: datetime) -> dict[str, Any] | None:
    """`text` read as nothing but task fields ("high priority and due friday"), else None."""
    fields, rest = extract_fields(text, now, bare_priority=True)
    if not fields or not _FIELD_FILLER.match(rest):
        return None
    return fields


# ---------------------------------------------------------------- adding

_QUOTED = re.compile(r"""(?:^|(?<=\s))(?P<q>["'])(?P<text>[^"]+?)(?P=q)(?=$|[\s,.!?;:])""")
_LIST_PLACE = re.compile(
    r"\s*\b(?:to|on|onto|in)\s+(?:my|the)\s+(?:todo\s+|to-do\s+|to\s+do\s+|task\s+)?list\b", _I
)
_TITLE_TAIL = re.compile(
    r"(?:[\s,;:.-]+|\b(?:and|due|by|on|at|for|with|to|starting|from|priority|every|is|it's"
    r"|its|please|also)$)+$",
    _I,
)
_TITLE_HEAD = re.compile(r"^(?:[\s,;:.-]+|\b(?:to|that|and|task|todo)\b\s*(?=\S))+", _I)


def _clean_title(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _TITLE_HEAD.sub("", _TITLE_TAIL.sub("", text)).strip()
    # Capitalise "call mom" but leave "iPhone repair" alone.
    if text and text[0].islower() and text.split()[0].islower():
        text = text[0].upper() + text[1:]
    return text


def add_intent(body: str, now: datetime) -> AddTask | Clarify:
    """An add_task call from the part of a request that describes the task."""
    title = None
    if match := _QUOTED.search(body):
        title = match["text"].strip()
        body = _cut(body, match)
    body = _LIST_PLACE.sub("", body)
    try:
        fields, rest = extract_fields(body, now)
    except DateError as exc:
        return Clarify(f"{exc} {DATE_HINT}")
    title = title or _clean_title(rest)
    if not title:
        return Clarify(NO_TITLE)
    return AddTask({"title": title, **fields})


_ADD = re.compile(
    r"^(?:(?:add|put)\s+(?:to|on|onto)\s+(?:my|the)\s+(?:\w+\s+)?list\s*[:,-]?"
    r"|(?:add|create|jot\s+down|note\s+down|write\s+down)(?:\s+(?:a|an|the|another|one\s+more"
    r"|new))*\s+(?:task|todo|to-do|item|reminder|entry)s?\b"
    r"|(?:make|set\s+up|put\s+in|schedule)(?:\s+(?:a|an|another|one\s+more|new))+\s+(?:task|todo"
    r"|to-do|item|reminder|entry)\b"
    r"|(?:add|jot\s+down|note\s+down|write\s+down)\b"
    r"|new\s+(?:task|todo|to-do|item|reminder)\b"
    r"|(?:task|todo|to-do|to\s+do|reminder)(?=\s*[:-])"
    r"|remind\s+me(?:\s+(?:to|that|about)\b)?"
    r"|(?:i\s+(?:need|have|must)\s+(?:to\s+)?)?remember\s+to\b"
    r"|(?:don'?t|do\s+not)\s+(?:let\s+me\s+)?forget(?:\s+to\b)?"
    r"|note\s+to\s+self)"
    r"\s*(?:(?:to|called|named|titled|saying|that\s+says)\b|[:-])?\s*(?P<body>.*)$",
    _I,
)
_SOFT_ADD = re.compile(
    r"^(?:i|we)(?P<verb>'d\s+like\s+to|\s+(?:really\s+|still\s+|also\s+|just\s+)?(?:(?:need|have|got"
    r"|want|would\s+like|ought)\s+to|must|should|gotta))\s+(?P<body>.+)$"
    r"|^(?:i'?ve|we'?ve)\s+got\s+to\s+(?P<body2>.+)$",
    _I,
)


# ---------------------------------------------------------------- acting on one task

_T = r"(?P<t>.+?)"
_TAGS = r"(?P<tags>#\w[\w-]*(?:(?:\s*,\s*|\s+and\s+|\s+)#\w[\w-]*)*)"
_DATE_VERBS = r"(?:move|reschedule|postpone|push|defer|delay|bump|shift)"


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
    (_re(r"^untag\s+" + _T + r"\s+" + _TAGS + "$"), "remove_tags"),
    (_re(r"^(?:tag|label)\s+" + _T + r"\s+(?:with\s+|as\s+)?" + _TAGS + "$"), "add_tags"),
    (
        _re(r"^(?:tag|label)\s+" + _T + r"\s+(?:with|as)\s+(?:the\s+)?(?:tag\s+)?(?P<tag>[\w-]+)$"),
        "add_tags",
    ),
    (_re(r"^add\s+(?:the\s+)?(?:tags?\s+)?" + _TAGS + r"\s+(?:to|on)\s+" + _T + "$"), "add_tags"),
    (_re(r"^add\s+(?:the\s+)?tag\s+(?P<tag>[\w-]+)\s+to\s+" + _T + "$"), "add_tags"),
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
    (_re(r"^(?:rename|retitle)\s+" + _T + r"\s+(?:to|as)\s+(?P<title>.+)$"), "title"),
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
]
_DATE_MOVE = _re(r"^" + _DATE_VERBS + r"\s+(?P<rest>.+)$")
_DUE_SUFFIX = _re(r"^" + _T + r"\s+(?:is\s+|should\s+be\s+)?(?:now\s+)?due\s+(?P<d>.+)$")
_GENERIC_UPDATE = _re(r"^(?P<verb>make|mark|set|change|update|edit|turn|switch)\s+(?P<rest>.+)$")
_REOPEN = [
    _re(
        r"^(?:reopen|re-open|uncomplete|un-complete|unmark|restore|unfinish|reactivate)\s+"
        + _T
        + "$"
    ),
    _re(
        r"^(?:mark|set)\s+" + _T + r"\s+(?:as\s+)?(?:not\s+(?:yet\s+)?(?:done|complete|completed"
        r"|finished)|undone|incomplete|uncompleted|pending|open|unfinished|to\s*do|active)$"
    ),
    _re(
        r"^" + _T + r"\s+(?:is\s+not|isn'?t|was\s+not|wasn'?t|is\s+n't|not)\s+(?:actually\s+)?"
        r"(?:done|finished|complete|completed)(?:\s+(?:yet|after\s+all))?$"
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
    _re(r"^(?:done|finished)\s*(?:with|:|-)?\s+" + _T + "$"),
    _re(
        r"^(?:i|we)\s+(?:have\s+|'ve\s+|just\s+|already\s+)*(?:finished|completed|did|done)\s+"
        + _T
        + "$"
    ),
]
_COMPLETE_SUFFIX = _re(r"^" + _T + r"\s+(?:is\s+|are\s+|was\s+)?(?:now\s+|all\s+)?(?:done"
                       r"|complete|completed|finished)$")  # fmt: skip
_PRIORITY_SUFFIX = _re(r"^" + _T + r"\s+(?:is|should\s+be)\s+(?:now\s+)?(?:a\s+)?(?P<p>" + _P
                       + r")(?:\s+priority)?$")  # fmt: skip
_BARE_VERB = _re(
    r"^(?P<verb>delete|remove|complete|finish|check\s+off|cross\s+off|reopen|show)(?:\s+(?:it|me))?$"
)
_BARE_ACTIONS: dict[str, Action] = {"delete": "delete", "remove": "delete", "reopen": "reopen"}
_UNDO = _re(r"^undo\b")
NO_UNDO = (
    "I can't undo changes, but I can put them right: “reopen task 3”, “move task 3 to "
    "friday”, “delete task 3” or “add ...” again."
)
_DELETE = _re(
    r"^(?:delete|remove|erase|trash|drop|discard|cancel|scrap|scratch|get\s+rid\s+of|throw\s+away"
    r"|bin)\s+" + _T + r"(?:\s+(?:from|off)\s+(?:my|the)\s+(?:\w+\s+)?list)?$"
)
_SHOW = [
    _re(
        r"^(?:show|display|open|view|see|get|describe|details\s+(?:of|for|on)|info\s+(?:on|about"
        r"|for))\s+(?:me\s+)?(?:the\s+)?(?:details\s+(?:of|for|on)\s+|info\s+(?:on|about|for)\s+)?"
        + _T
        + "$"
    ),
    _re(r"^what(?:'s|\s+is)\s+" + _T + r"\s+about$"),
    _re(r"^what(?:'s|\s+is)\s+(?:in\s+|on\s+)?" + _T + "$"),
    _re(r"^tell\s+me\s+(?:more\s+)?about\s+" + _T + "$"),
]
_PICK_NUMBER = _re(
    r"^(?:(?:it'?s|it\s+is|i\s+mean|i\s+meant|i\s+said|the\s+one\s+with|that'?s)\s+)?"
    r"(?:task\s*|number\s*|no\.?\s*|#)?(\d{1,9})$"
)


def _ref(text: str) -> TaskRef | None:
    try:
        return parse_ref(text)
    except _AllTasks:
        return None


def _tags_of(match: re.Match[str]) -> tuple[str, ...]:
    if "tags" in match.re.groupindex and match["tags"]:
        return tuple(dict.fromkeys(t.lower() for t in _TAG.findall(match["tags"])))
    return (match["tag"].lower().lstrip("#"),)


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def _update_from(kind: str, match: re.Match[str], now: datetime) -> Intent | None:
    """One _UPDATES pattern's match as an intent (None when its target names no task)."""
    target = parse_ref(match["t"])
    if target is None:
        return None
    if kind == "clear_due":
        return ActOnTask("update", target, {"due": None})
    if kind == "clear_tags":
        return ActOnTask("update", target, {"tags": []})
    if kind == "remove_tags":
        return ActOnTask("update", target, remove_tags=_tags_of(match))
    if kind == "add_tags":
        return ActOnTask("update", target, add_tags=_tags_of(match))
    if kind == "description":
        return ActOnTask("update", target, {"description": _strip_quotes(match["d"])})
    if kind == "clear_description":
        return ActOnTask("update", target, {"description": None})
    if kind == "title":
        title = _strip_quotes(match["title"])
        return ActOnTask("update", target, {"title": title}) if title else Clarify(NO_TITLE)
    if kind == "due":
        return _due_update(target, match["d"], now)
    if kind == "priority":
        word = match["p"].lower()
        if word not in PRIORITY_WORDS:
            return Clarify(f"“{match['p']}” isn't a priority: say high, medium or low.")
        return ActOnTask("update", target, {"priority": PRIORITY_WORDS[word]})
    if kind in {"priority_high", "priority_low"}:
        return ActOnTask("update", target, {"priority": kind.removeprefix("priority_")})
    return ActOnTask("update", target, {"recurrence": "none"})


def _due_update(target: TaskRef, phrase: str, now: datetime) -> Intent:
    if _NO_DUE.fullmatch(phrase.strip()) or phrase.strip().lower() in {"none", "nothing", "never"}:
        return ActOnTask("update", target, {"due": None})
    when = parse_when(phrase, now)
    if when is None:
        return Clarify(f"I couldn't read “{phrase}” as a date. {DATE_HINT}")
    return ActOnTask("update", target, {"due": when.due(now.tzinfo)})  # type: ignore[arg-type]


_DELIMITERS = frozenset({"to", "as", "into", "for", "until", "till"})


def _splits(rest: str) -> list[tuple[str, str, bool]]:
    """Ways to cut "T X" into (target, value, cut at a "to"/"as"), shortest target first."""
    words = rest.split(" ")
    found = []
    for i in range(1, len(words)):
        head, tail = " ".join(words[:i]), words[i:]
        delimited = tail[0].lower() in _DELIMITERS and len(tail) > 1
        found.append((head, " ".join(tail[1:] if delimited else tail), delimited))
    return found


def _date_move(rest: str, now: datetime) -> Intent | None:
    """Read `move T to D` or `postpone T until D`: the value must be a date."""
    first_bad: tuple[TaskRef, str] | None = None
    for head, value, _ in _splits(rest):
        target = parse_ref(head)
        if target is None:
            continue
        when = parse_when(value, now)
        if when is not None:
            return ActOnTask("update", target, {"due": when.due(now.tzinfo)})  # type: ignore[arg-type]
        if first_bad is None and not isinstance(target, ByWords):
            first_bad = (target, value)
    if first_bad is not None:
        return Clarify(f"I couldn't read “{first_bad[1]}” as a date. {DATE_HINT}")
    return None


def _generic_update(verb: str, rest: str, now: datetime) -> Intent | None:
    """Read `make T high priority`, `change T to friday`, `set T to 'New title'`."""
    title_split: tuple[TaskRef, str] | None = None
    for head, value, delimited in _splits(rest):
        target = parse_ref(head)
        if target is None:
            continue
        quoted = _QUOTED.fullmatch(value)
        if delimited and quoted and verb in {"change", "set", "update", "edit"}:
            return ActOnTask("update", target, {"title": quoted["text"].strip()})
        fields = _fields_only(value, now)
        if fields is not None:
            tags = tuple(fields.pop("tags", ()))
            return ActOnTask("update", target, fields, add_tags=tags)
        if delimited and title_split is None and verb in {"change", "update", "edit"}:
            title_split = (target, value)
    if title_split is not None:
        return ActOnTask("update", title_split[0], {"title": title_split[1]})
    return None


def _explicit_update(text: str, now: datetime) -> Intent | None:
    """A change to one task said with an unmistakable pattern ("tag task 2 #work")."""
    for pattern, kind in _UPDATES:
        if (match := pattern.match(text)) and (found := _update_from(kind, match, now)):
            return found
    return None


def _act_intent(text: str, now: datetime) -> Intent | None:
    """A request to show, complete, reopen, delete or change one task, else None."""
    if (match := _DATE_MOVE.match(text)) and (found := _date_move(match["rest"], now)):
        return found
    for pattern in _REOPEN:
        if (match := pattern.match(text)) and (target := parse_ref(match["t"])):
            return ActOnTask("reopen", target)
    for pattern in _COMPLETE:
        if (match := pattern.match(text)) and (target := parse_ref(match["t"])):
            return ActOnTask("complete", target)
    if (match := _DELETE.match(text)) and (target := parse_ref(match["t"])):
        return ActOnTask("delete", target)
    if (match := _GENERIC_UPDATE.match(text)) and (
        found := _generic_update(match["verb"].lower(), match["rest"], now)
    ):
        return found
    for pattern in _SHOW:
        if (match := pattern.match(text)) and isinstance(
            target := _ref(match["t"]), ById | ByContext | ByPosition
        ):
            return ActOnTask("show", target)
    # Patterns that start with the task itself go last: they match the most.
    if (match := _DUE_SUFFIX.match(text)) and (target := parse_ref(match["t"])):
        return _due_update(target, match["d"], now)
    return None


# ---------------------------------------------------------------- listing

_LIST_START = _re(
    r"^(?:show|list|display|view|see|give|tell|read|print|what|what'?s|whats|what're|which|any"
    r"|anything|do\s+i|have\s+i|did\s+i|are\s+there|is\s+there|how\s+many|search|find|look|my|all"
    r"|pending|completed|finished|done|overdue|open|upcoming|due|todo|to-do|tasks?|todos|#)"
)
_QUESTION_START = _re(
    r"^(?:what|which|any|anything|do\s+i|have\s+i|did\s+i|are\s+there|is\s+there|how\s+many)\b"
)
_SEARCH = _re(
    r"^(?:search|find|look\s+up|look\s+for|look)\b(?:\s+(?:for|my|all|the|tasks?|todos?|through"
    r"|in|me|any)\b)*\s*(?P<q>.+)$"
)
_ABOUT = _re(
    r"\b(?:about|mentioning|containing|matching|called|named|titled|with\s+(?:the\s+)?words?"
    r"|that\s+(?:mention|contain|say)s?|regarding)\s+(?P<q>.+)$"
)
_LIST_TAG = _re(r"\btagged\s+(?:with\s+|as\s+)?#?(?P<tag>[\w-]+)|\b(?:with\s+)?(?:the\s+)?tag\s+"
                r"#?(?P<tag2>[\w-]+)")  # fmt: skip
_LIST_PRIORITY = _re(r"\b(?P<p>" + _P + r")(?:[\s-]+(?:priority|prio))?\b")
_OVERDUE = _re(r"\b(?:overdue|late|past\s+due|missed|behind)\b")
_PENDING = _re(
    r"\b(?:pending|open|incomplete|outstanding|remaining|left|unfinished|undone|not\s+(?:yet\s+)?"
    r"(?:done|finished|completed?)|still\s+to\s+do|active|upcoming|due)\b"
)
_COMPLETED = _re(
    r"\b(?:completed?|done|finished|closed|checked\s+off|ticked\s+off|accomplished)\b"
    r"|\bwhat\s+did\s+i\s+(?:do|finish)\b"
)
_ALL = _re(r"\ball\b")
_DUE_WORD = _re(r"\b(?:due|deadlines?|upcoming|soon)\b")
_SORT = _re(
    r"\b(?:sort(?:ed)?|order(?:ed)?)?\s*by\s+(?P<s>due(?:\s+date)?|date|deadline|priority|title"
    r"|name|created|creation(?:\s+date)?)\b|\b(?P<new>newest|latest|most\s+recent)\s+first\b"
)
_TASK_NOUN = _re(
    r"\b(?:tasks?|todos?|to-dos?|to\s+do|list|items?|things|stuff|everything|anything|plate"
    r"|agenda|schedule)\b"
)
_LEFTOVER_VERB = _re(r"^(?:show|list|display|view|find)\b")
_STOP = frozenset(
    {"show", "list", "display", "view", "find", "me", "my", "the", "a", "an", "all", "of", "i"}
    | {"is", "are", "any", "anything", "everything", "what", "whats", "what's", "which", "that"}
    | {"tasks", "task", "todo", "todos", "to-do", "items", "item", "things", "stuff", "one"}
    | {"ones", "with", "in", "on", "for", "please", "have", "do", "got", "there"}
)
_FILTER_WORDS = (_PENDING, _COMPLETED, _OVERDUE, _DUE_WORD, _re(r"tagged|tag|priority"))
_SORT_NAMES = {"date": "due", "deadline": "due", "name": "title", "creation": "created"}


def _search_words(text: str) -> str:
    return _WORDS_TAIL.sub("", _WORDS_HEAD.sub("", _strip_quotes(text), count=1)).strip(" \"'")


def _list_intent(text: str, now: datetime) -> ListTasks | None:
    """A request to see tasks (with filters), else None."""
    if not _LIST_START.match(text):
        return None
    args: dict[str, Any] = {}
    found = False
    if (match := _ABOUT.search(text)) or (match := _SEARCH.match(text)):
        query = _search_words(match["q"])
        tag = _TAG.fullmatch(query)
        if tag:
            args["tag"] = tag["tag"].lower()
        elif query and query.lower() not in _STOP:
            args["search"] = query
        text, found = text[: match.start("q")], True
    if "tag" not in args and ((match := _TAG.search(text)) or (match := _LIST_TAG.search(text))):
        args["tag"] = next(g for g in match.groups() if g).lower()
        text, found = _cut(text, match), True
    if match := _LIST_PRIORITY.search(text):
        args["priority"] = PRIORITY_WORDS[match["p"].lower()]
        text, found = _cut(text, match), True
    if match := _SORT.search(text):
        sort = (match["s"] or "created").lower().split()[0]
        args["sort"] = _SORT_NAMES.get(sort, sort)
        if match["new"] or sort == "priority":
            args["order"] = "desc"  # newest first; high priority first
        text = _cut(text, match)
    try:
        after, before, text = find_range(text, now)
    except DateError:
        after = before = None
    overdue = bool(_OVERDUE.search(text))
    completed = bool(_COMPLETED.search(text)) and not _PENDING.search(text)
    dated = overdue or before is not None or after is not None
    if dated and not (overdue or _QUESTION_START.match(text) or _DUE_WORD.search(text)
                      or _TASK_NOUN.search(text) or found):  # fmt: skip
        return None  # "see the doctor tomorrow" is not a question about tasks
    if completed:
        args["status"] = "completed"
    elif _PENDING.search(text) or dated:
        args["status"] = "pending"
    if overdue:
        args["overdue"] = True
    if after is not None:
        args["due_after"] = after
    if before is not None:
        args["due_before"] = before
    if (dated or _DUE_WORD.search(text)) and "sort" not in args:
        args["sort"] = "due"
    found = found or bool(args) or bool(_TASK_NOUN.search(text)) or bool(_ALL.search(text))
    if not found:
        return None
    if "search" not in args and _LEFTOVER_VERB.match(text):
        # "show me the milk task": words left over after the filters are a search.
        left = [w for w in re.findall(r"[\w'-]+", text) if w.lower() not in _STOP]
        left = [w for w in left if not any(f.fullmatch(w) for f in _FILTER_WORDS)]
        if left:
            args["search"] = " ".join(left)
    return ListTasks(args)


# ---------------------------------------------------------------- entry point


def _command(text: str, now: datetime) -> Intent | None:
    """A request with an explicit verb, else None."""
    if match := _PICK_NUMBER.match(text):
        return Pick(ById(int(match[1])))
    if match := _POSITION_REF.match(re.sub(r"^(?:i\s+mean|i\s+meant)\s+", "", text, flags=_I)):
        return Pick(ByPosition(_ORDINALS[match[1].lower()]))
    several = False  # a verb aimed at several tasks: explain, unless it reads as a list query
    try:
        if found := _explicit_update(text, now):
            return found
    except _AllTasks:
        several = True
    if match := _ADD.match(text):
        return add_intent(match["body"], now)
    try:
        if found := _act_intent(text, now):
            return found
    except _AllTasks:
        several = True
    try:
        told = _suffix_intent(text)
    except _AllTasks:
        several, told = True, None
    # "task 3 done" names its task for sure; "groceries done" only if it is no list query.
    if told is not None and not isinstance(told.target, ByWords):
        return told
    if found := _list_intent(text, now):
        return found
    if told is not None:
        return told
    return Clarify(ONE_AT_A_TIME) if several else None


def _suffix_intent(text: str) -> ActOnTask | None:
    """A sentence that starts with the task: "task 3 done", "the report is high priority"."""
    if (match := _COMPLETE_SUFFIX.match(text)) and (target := parse_ref(match["t"])):
        return ActOnTask("complete", target)
    if (match := _PRIORITY_SUFFIX.match(text)) and (target := parse_ref(match["t"])):
        return ActOnTask("update", target, {"priority": PRIORITY_WORDS[match["p"].lower()]})
    return None


def parse(text: str, now: datetime) -> Intent:
    """What one user message asks for; `now` is aware, in the user's zone."""
    said = text
    text, greeted = normalize(text)
    if not text:
        return Help("greeting" if greeted else "thanks" if _THANKS_WORD.search(said) else "ack")
    if _HELP.match(text):
        return Help("help")
    if _THANKS.match(text):
        return Help("thanks")
    if _ACK.match(text):
        return Help("ack")
    if _GREETING.fullmatch(text) or _SMALL_TALK.match(text):
        return Help("greeting")
    if _BYE.match(text):
        return Help("bye")
    if _UNDO.match(text):
        return Clarify(NO_UNDO)
    if match := _BARE_VERB.match(text):
        # "delete" alone means the task just added or shown; with none, it asks which.
        verb = match["verb"].split()[0].lower()
        if verb == "show":
            return (
                ListTasks({})
                if match[0].lower().endswith(("show", "me"))
                else ActOnTask("show", ByContext())
            )
        return ActOnTask(_BARE_ACTIONS.get(verb, "complete"), ByContext())
    try:
        if found := _command(text, now):
            return found
        if match := _SOFT_ADD.match(text):
            body = match["body"] or match["body2"]
            found = _command(body, now)
            # "I need to finish the report" is a new task; "I want to see my tasks" is a command.
            verb = " ".join((match["verb"] or "").lower().split())
            wants = verb.startswith("'d") or verb.endswith(("want to", "would like to"))
            vague = isinstance(found, ActOnTask) and isinstance(found.target, ByWords)
            if isinstance(found, ActOnTask | ListTasks) and (wants or not vague):
                return found
            return found if isinstance(found, AddTask) else add_intent(body, now)
    except _AllTasks:
        return Clarify(ONE_AT_A_TIME)
    except DateError as exc:
        return Clarify(f"{exc} {DATE_HINT}")
    return _bare_task(text, said, now) or Help("greeting" if greeted else "unknown")


def _bare_task(text: str, said: str, now: datetime) -> AddTask | None:
    """A verbless `buy milk tomorrow`: a due date, priority or tag says it is a task."""
    if said.rstrip().endswith("?") or _QUESTION_START.match(text):
        return None
    try:
        fields, _ = extract_fields(text, now)
    except DateError:
        return None
    if not fields.keys() & {"due", "priority", "tags", "recurrence"}:
        return None
    found = add_intent(text, now)
    return found if isinstance(found, AddTask) else None
