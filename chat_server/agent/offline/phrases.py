"""Phrases about one task: which task a phrase names ("task 3", "it", "the milk one"),
the fields a sentence sets (due date, priority, tags, repeat rule, notes), and the task an
"add ..." request describes. Pure functions; `now` is aware, in the user's zone."""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chat_server.agent.offline.dates import UNREAD_DATE, DateError, find_when
from chat_server.agent.offline.fuzzy import NOUNS, one_slip_from
from chat_server.agent.offline.intents import (
    AddSeveral,
    AddTask,
    ByContext,
    ById,
    ByIds,
    ByNames,
    ByPosition,
    ByWords,
    Clarify,
    TaskRef,
)
from chat_server.agent.offline.reminders import read_reminders
from chat_server.agent.offline.repeats import first_due, read_repeat

NO_TITLE = "What should the task be called? For example: “add buy milk tomorrow”."
DATE_HINT = "Try “tomorrow”, “friday”, “next monday”, “in 3 days”, “Dec 3” or “2026-12-03”."

_I = re.IGNORECASE

# ---------------------------------------------------------------- task references

_IDS_REF = re.compile(
    r"^(?:the\s+)?(?:(?:tasks?|todos?|items?|numbers?)\s*)?#?\d{1,9}"
    r"(?:\s*(?:,|\band\b|&|\+)\s*(?:and\s+)?#?\d{1,9})+$",
    _I,
)
_ID_REF = re.compile(r"^(?:the\s++)?(?:task|todo|item|number|no\.?)?\s*+#?\s*+(\d{1,9})$", _I)
_CONTEXT_REF = re.compile(
    r"^(?:it|that|this|(?:that|this|the)(?:\s+(?:same|new|latest|one))?\s+(?:one|task|todo|item)"
    r"|(?:the\s+)?one\s+(?:you|i)\s+just\s+(?:added|made|created|mentioned|showed))$",
    _I,
)
ORDINALS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6, "7th": 6, "eighth": 7, "8th": 7,
    "ninth": 8, "9th": 8, "tenth": 9, "10th": 9, "last": -1,
}  # fmt: skip
POSITION_REF = re.compile(
    r"^(?:the\s+)?(" + "|".join(ORDINALS) + r")(?:\s+(?:one|task|todo|item))?$", _I
)
_WORDS_HEAD = re.compile(
    r"^(?:(?:the|my|a|an|that|this|our)\s+)*(?:(?:task|todo|to-do|item|one|reminder)s?\s+"
    r"(?:called|named|titled|about|for|to|that\s+says|saying|with|where\s+i)\s+)?",
    _I,
)
_WORDS_TAIL = re.compile(r"(?<=\s)(?:one|task|sub-?task|todo|to-do|item|thing|reminder|entry)$", _I)
_NOT_A_TASK = frozenset(
    {"i", "i'm", "im", "i am", "we", "we're", "we are", "you", "me", "all", "it all", "one", "the"}
    | {"task", "nothing"}
)
# Phrases that start like questions or commands, or name several tasks, are never one task.
_NOT_A_REF = re.compile(
    r"^(?:what|what's|whats|which|who|how|why|when|where|anything|something|nothing|any|is|are|was"
    r"|were|do|does|did|can|could|make|mark|set|change|update|move|add|create|delete|remove"
    r"|show|list|find|search|tell|give|get|please)\b|\b(?:tasks|todos|to-dos|items)\b",
    _I,
)
_NUMBER = re.compile(r"\d+")
_ALL_REF = re.compile(r"^(?:all|every|everything|both|them|those|these)\b", _I)


class SeveralTasks(Exception):
    """Raised when a request names several tasks at once ("delete all tasks")."""


def strip_quotes(text: str) -> str:
    """`text` without one pair of surrounding quotes."""
    text = text.strip()
    if len(text) >= len('""') and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def core_words(text: str) -> str:
    """The words that name a task, without "the", "my" or "... one": "the milk one" -> "milk"."""
    return _without_filler_nouns(_WORDS_HEAD.sub("", text, count=1)).strip(" \"'")


def _by_ids(match: re.Match[str]) -> TaskRef:
    ids = tuple(dict.fromkeys(int(n) for n in _NUMBER.findall(match[0])))
    return ByIds(ids) if len(ids) > 1 else ById(ids[0])


def _several(match: re.Match[str]) -> TaskRef:
    raise SeveralTasks


# How a phrase can name a task other than by its words: (pattern, the reference it makes).
_REFS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], TaskRef]], ...] = (
    (_ID_REF, lambda match: ById(int(match[1]))),
    (_IDS_REF, _by_ids),
    (_CONTEXT_REF, lambda match: ByContext()),
    (POSITION_REF, lambda match: ByPosition(ORDINALS[match[1].lower()])),
    (_ALL_REF, _several),
)


def parse_ref(text: str) -> TaskRef | None:
    """The task a phrase names, or None when it names none."""
    text = text.strip(" ,.")
    for pattern, ref in _REFS:
        if match := pattern.match(text):
            return ref(match)
    if _NOT_A_REF.search(text):
        return None
    words = core_words(text)
    if not words or words.lower() in _NOT_A_TASK:
        return None
    return ByWords(words)


_TARGETS_SPLIT = re.compile(r"(?<!\s)(?:\s*+,\s*+(?:and\s+)?|\s++(?:and|&)\s++(?:also\s+)?)", _I)
MAX_TARGETS = 10


# "delete eggs and bread from groceries": the list they are in names no task.
_FROM_LIST = re.compile(
    r"(?<!\s)\s++(?:from|in|on|off)\s++(?:my\s+|the\s+)?[\w'&-]++(?:\s++list)?$", _I
)


def parse_targets(text: str) -> TaskRef | None:
    """Like parse_ref, and several tasks named by words: "the laundry and the milk"."""
    if _TARGETS_SPLIT.search(text):
        text = _FROM_LIST.sub("", text)
    ref = parse_ref(text)
    if not isinstance(ref, ByWords):
        return ref
    parts = _TARGETS_SPLIT.split(text.strip(" ,."))
    if not 1 < len(parts) <= MAX_TARGETS:
        return ref
    refs = [parse_ref(part) for part in parts]
    if all(isinstance(r, ById) for r in refs):
        return ByIds(tuple(r.task_id for r in refs))  # type: ignore[union-attr]
    if all(isinstance(r, ByWords) for r in refs):
        return ByNames(tuple(r for r in refs if isinstance(r, ByWords)))
    return ref


# "make the tax return and the insurance renewal both high priority": tasks a field change
# names, each led by "the"/"my" (so "salt and pepper" stays one title).
_AND_NAMED = re.compile(r"(?<!\s)(?:\s*+,)?\s++and\s++(?=(?:the|my|our)\s)", _I)
_BOTH = re.compile(r"^both\s++|\s++both$", _I)


def field_targets(text: str) -> TaskRef | None:
    """Like parse_ref, and several tasks led by "the" named for one change of fields."""
    parts = _AND_NAMED.split(_BOTH.sub("", text.strip(" ,.")))
    if not 1 < len(parts) <= MAX_TARGETS:
        return parse_ref(text)
    refs = [parse_ref(part) for part in parts]
    if all(isinstance(r, ByWords) for r in refs):
        return ByNames(tuple(r for r in refs if isinstance(r, ByWords)))
    return parse_ref(text)


# ---------------------------------------------------------------- task fields

PRIORITY_WORDS = {
    "high": "high", "top": "high", "urgent": "high", "important": "high", "critical": "high",
    "asap": "high", "low": "low", "medium": "medium", "normal": "medium",
}  # fmt: skip
PRIORITY_WORD = r"(?:high|low|medium|normal|top|urgent|important|critical)"
_DESCRIPTION = re.compile(
    r"(?<!\s)\s*+[,;-]?\s*+\b(?:notes?|description|details)\s*+[:=]\s*(?P<d>.+)$", _I
)
TAG = re.compile(r"(?<![\w&#])#(?P<tag>[A-Za-z][\w-]*)")
_PRIORITY = re.compile(
    r"(?:[,;]\s*)?\b(?:(?:with|at|as|in)\s+)?(?:an?\s+)?(?P<p>"
    + PRIORITY_WORD
    + r")[\s-]+(?:priority|prio|pri)\b"
    r"|(?:[,;]\s*)?\bpriority\s*(?:[:=]|is|of)?\s*(?P<p2>" + PRIORITY_WORD + r")\b",
    _I,
)
# "!!!", "!!", "!" (grammar.py turns them into !high, !medium, !low): a priority word said
# beside them ("urgent!!") wins.
_BANG_PRIORITY = re.compile(r"(?:^|\s)!(?P<p>high|low|medium)\b", _I)
# Priorities said in everyday words, negations first: "not urgent" is low, not high.
PRIORITY_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?:[,;]\s*+)?\b(?:(?:it'?s|it\s+is|is|isn'?t|is\s+not|it\s+isn'?t|that'?s)\s+)?"
            r"(?:not|no\s+longer|not\s+that|not\s+very|not\s+super|not\s+really|isn'?t)\s+"
            r"(?:so\s+|that\s+|very\s+|really\s+)?(?:urgent|important|critical|a\s+priority"
            r"|high\s+priority|pressing)(?:\s+any\s*more|\s+at\s+all)?\b",
            _I,
        ),
        "low",
    ),
    (
        re.compile(
            r"(?:[,;]\s*+)?\b(?:(?:there'?s\s+)?no\s+(?:rush|hurry)(?:\s+at\s+all)?|whenever(?:\s+i\s+(?:can|have\s+time"
            r"|get\s+(?:a\s+)?(?:chance|time|round\s+to\s+it)))?|(?:low|lo)\s*-?\s*prio\b"
            r"|(?:(?:it|this|that)\s+)?can\s+wait|not\s+a\s+big\s+deal|someday|some\s+day|eventually|low\s+key)\b",
            _I,
        ),
        "low",
    ),
    (
        re.compile(
            r"(?:[,;]\s*+)?\b(?:(?:it'?s|it\s+is|is)\s+)?(?:super|very|really|extremely|most|so|top"
            r"|hi|high)[\s-]*(?:important|urgent|prio(?:rity)?|critical)\b|\bmust\s+do\b",
            _I,
        ),
        "high",
    ),
)
_PRIORITY_EDGE = re.compile(
    r"^(?P<a>urgent|important|asap|critical)\b[\s:!,-]*"
    r"|(?<![\s,;!-])[\s,;!-]*+\b(?P<b>urgent(?:ly)?|important|asap|critical)!*$",
    _I,
)
# Todoist's p1 (high) .. p4 (low); "!!!", "!!", "!" arrive as !high, !medium, !low (grammar.py).
_TODOIST = re.compile(r"(?:^|(?<=\s))p(?P<n>[1-4])\b", _I)
_TODOIST_LEVELS = {"1": "high", "2": "medium", "3": "low", "4": "low"}
_WORD_TAG = re.compile(
    r"(?<![\s,])[\s,]*(?:\b(?:tagged(?:\s+(?:as|with))?|with\s+(?:the\s+)?tag|tag\s*:)"
    # ", tag it family", "and tag it as work": after a comma or "and" only, so a title may
    # still start with the verb ("add tag the boxes").
    # ", tags car and admin" too.
    r"|(?:,|\band)\s*tag(?:s|\s+it)?(?:\s+(?:as|with))?)\s+#?(?P<tag>[a-z][\w-]*)\b",
    _I,
)
_LEADING_LINKS = re.compile(r"^(?:(?:a|an|be|as|to)\s+)+", _I)
_BARE_PRIORITY = re.compile(r"^(?:a\s+|an\s+)?(?P<p>" + PRIORITY_WORD + r")(?:\s+one)?$", _I)
NO_DUE = re.compile(
    r"\b(?:no|without(?:\s+a)?)\s+(?:due\s+date|deadline|date)\b|\bundated\b|\bnot\s+due\b", _I
)
_FIELD_FILLER = re.compile(
    r"^(?:(?:and|to|be|a|an|as|due|it|should|is|priority|now|instead|the|date|set|make|with)"
    r"\b|[\s,;:-])*$",
    _I,
)


AT_ONLY = "_at"
"""Beside "due": the time said alone ("at 3pm"), which a change sets on the task's own day."""


def time_only(fields: dict[str, Any]) -> str:
    """The time said alone, as "HH:MM" ("" when a day was said too); taken out of `fields`."""
    at: str = fields.pop(AT_ONLY, "")
    if at:
        del fields["due"]
    return at


def cut(text: str, match: re.Match[str]) -> str:
    return " ".join((text[: match.start()] + " " + text[match.end() :]).split())


def _priority(text: str, fields: dict[str, Any]) -> str:
    """The priority said in words, a level or Todoist's p1-p4 (not "!!": see _bang). The
    same level said twice ("low prio, no rush") is one field, both phrases cut out."""
    while (found := _one_priority(text)) is not None:
        level, match = found
        if fields.setdefault("priority", level) != level:
            break
        text = cut(text, match)
    return text


def _one_priority(text: str) -> tuple[str, re.Match[str]] | None:
    for pattern, level in PRIORITY_PHRASES:
        if match := pattern.search(text):
            return level, match
    if match := _PRIORITY.search(text):
        return PRIORITY_WORDS[(match["p"] or match["p2"]).lower()], match
    if match := _TODOIST.search(text):
        return _TODOIST_LEVELS[match["n"]], match
    return None


def _bang(text: str) -> tuple[str, str | None]:
    """`text` without its "!!" mark, and the level the mark says."""
    if match := _BANG_PRIORITY.search(text):
        return cut(text, match), match["p"].lower()
    return text, None


# "due monday not friday", "on the 20th, not the 14th", "but not today": the date it is
# not, dropped.
_NOT_DATE = re.compile(
    r"(?<![\s,])[\s,]*+\b(?:(?:but\s+)?not|rather\s+than|instead\s+of)\s+(?:on\s+|the\s+)?(?=\S)",
    _I,
)


def without_denied_dates(text: str, now: datetime) -> str:
    """`text` without the dates it says the task is not due on."""
    for match in _NOT_DATE.finditer(text):
        after = text[match.end() :]
        when, rest = find_when(after, now)
        if when is not None and len(rest) < len(after):
            return text[: match.start()] + " " + rest
    return text


def _description(text: str, fields: dict[str, Any], now: datetime) -> str:
    if match := _DESCRIPTION.search(text):
        fields["description"] = match["d"].strip()
        return cut(text, match)
    return text


# "tagged home and admin": more tags after the first, up to the end or a comma.
_MORE_TAGS = re.compile(
    r"(?:\s*+,\s*+|\s++and\s++)#?(?P<tag>[a-z][\w-]*+)(?=\s*+(?:$|,|and\b))", _I
)


def _tags(text: str, fields: dict[str, Any], now: datetime) -> str:
    tags = [m["tag"].lower() for m in TAG.finditer(text)]
    text = " ".join(TAG.sub(" ", text).split())
    kept, end = [], 0
    for match in _WORD_TAG.finditer(text):
        tags.append(match["tag"].lower())
        kept.append(text[end : match.start()])
        end = match.end()
        while more := _MORE_TAGS.match(text, end):
            tags.append(more["tag"].lower())
            end = more.end()
    if not tags:
        return text
    fields["tags"] = list(dict.fromkeys(tags))
    return " ".join((" ".join(kept) + " " + text[end:]).split())


def _said_priority(text: str, fields: dict[str, Any], now: datetime) -> str:
    return _priority(text, fields)


def _repeat(text: str, fields: dict[str, Any], now: datetime) -> str:
    return read_repeat(text, fields)


def _due(text: str, fields: dict[str, Any], now: datetime) -> str:
    if match := NO_DUE.search(text):
        fields["due"] = ""  # update_task's "clear"; an add leaves it out
        return cut(text, match)
    when, text = find_when(without_denied_dates(text, now), now)
    if when is not None:
        fields["due"] = when.due(now.tzinfo)  # type: ignore[arg-type]
        if not when.dated and when.at is not None:
            fields[AT_ONLY] = when.at.strftime("%H:%M")
    return text


def _edge_priority(text: str, fields: dict[str, Any], now: datetime) -> str:
    """ "urgent: fix the roof", "pay the fine asap": a priority word at either end."""
    if "priority" in fields or not (match := _PRIORITY_EDGE.search(text)):
        return text
    fields["priority"] = PRIORITY_WORDS[(match["a"] or match["b"]).lower().removesuffix("ly")]
    return cut(text, match)


FieldReader = Callable[[str, dict[str, Any], datetime], str]
# The readers of a sentence's fields, in order: each sets what it finds in `fields` and
# returns the sentence without it. A new field, or a new way to say one, is a row here.
FIELD_READERS: tuple[FieldReader, ...] = (
    _description,
    _tags,
    read_reminders,
    _said_priority,
    _repeat,
    _due,
    _edge_priority,
)


def extract_fields(
    text: str, now: datetime, *, bare_priority: bool = False
) -> tuple[dict[str, Any], str]:
    """Task fields said in `text` (due, priority, tags, repeat, description) and the rest."""
    fields: dict[str, Any] = {}
    text, bang = _bang(text)
    for read in FIELD_READERS:
        text = read(text, fields, now)
    if bang:
        fields.setdefault("priority", bang)
    if bare_priority and "priority" not in fields:
        rest = _LEADING_LINKS.sub("", text.strip(" ,"))
        if match := _BARE_PRIORITY.match(rest):
            fields["priority"] = PRIORITY_WORDS[match["p"].lower()]
            text = ""
    return fields, text


_INSTEAD_OF = re.compile(r"(?<!\s)\s++(?:instead\s+of|rather\s+than)\s.*$", _I)


def fields_only(text: str, now: datetime) -> dict[str, Any] | None:
    """`text` read as nothing but task fields ("high priority and due friday"), else None."""
    text = _INSTEAD_OF.sub("", text)  # "every week instead of every day"
    fields, rest = extract_fields(text, now, bare_priority=True)
    if not fields or not _FIELD_FILLER.match(rest):
        return None
    return fields


# ---------------------------------------------------------------- adding

QUOTED = re.compile(r"""(?:^|(?<=\s))(?P<q>["'])(?P<text>[^"]+?)(?P=q)(?=$|[\s,.!?;:])""")
_LIST_PLACE = re.compile(
    r"(?<!\s)\s*+\b(?:to|on|onto|in)\s+(?:my|the)\s+(?:todo\s+|to-do\s+|to\s+do\s+|task\s+)?list\b",
    _I,
)
_TITLE_TAIL = re.compile(
    r"\b(?:and|due|by|on|at|for|with|to|starting|from|priority|every|is|it's|its|please|also)$", _I
)
_TITLE_HEAD = re.compile(r"^(?:[\s,;:.-]|\b(?:to|that|and|task|todo)\b(?=\s*+\S))+", _I)


TAIL_REACH = 16
"""How far back from the end a trailing word (and the character before it) may start."""


def strip_tail(text: str, words: re.Pattern[str], separators: str) -> str:
    """`text` without the spaces, `separators` and `words` (a pattern ending in `$`) it ends with.

    A loop over the end instead of one `(?:separator|word)+$` search: a search tries every
    start and rescans the rest of a long tail from each, quadratic in its length.
    """
    end = len(text)
    while True:
        while end and (text[end - 1].isspace() or text[end - 1] in separators):
            end -= 1
        if not (match := words.search(text, max(end - TAIL_REACH, 0), end)):
            return text[:end]
        end = match.start()


def _without_filler_nouns(text: str) -> str:
    """`text` without the "one", "task", ... words it ends with: "the milk one" -> "the milk"."""
    end = len(text)
    while match := _WORDS_TAIL.search(text, max(end - TAIL_REACH, 0), end):
        end = match.start()
        while end and text[end - 1].isspace():
            end -= 1
    return text[:end]


def clean_title(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _TITLE_HEAD.sub("", strip_tail(text, _TITLE_TAIL, ",;:.-")).strip()
    # Capitalise "call mom" but leave "iPhone repair" alone.
    if text and text[0].islower() and text.split()[0].islower():
        text = text[0].upper() + text[1:]
    return text


_NOUN_SLIP = re.compile(r"^(?P<w>[a-z]{3,9})\s*:\s*", _I)
_LIST_ITEMS = re.compile(r"(?:(?<!\s)\s*+)?,\s*(?:and\s+)?")
_LAST_AND = re.compile(r"(?<!\s)\s++(?:and|&)\s+", _I)
SEVERAL = 2  # items that make a list
MAX_ITEM_WORDS = 6


_BOTH = re.compile(r"(?<![\s,])[\s,]++(?:both|each|all\s+of\s+them|all\s+(?:two|three))$", _I)


def list_pieces(text: str, *, and_alone: bool = False) -> list[str]:
    """ "milk, eggs and bread" -> its pieces ("salt and pepper" is one unless `and_alone`).
    A list closed by ", and" ("fix bike, and call Sam and Alex") has said where its last
    item starts: that item's own "and" stays in it."""
    separators = list(_LIST_ITEMS.finditer(text.strip(" ,")))
    pieces = _LIST_ITEMS.split(text.strip(" ,"))
    if (separators or and_alone) and not (separators and "and" in separators[-1][0].lower()):
        pieces[-1:] = _LAST_AND.split(pieces[-1], maxsplit=1)
    return pieces


def _items(rest: str) -> list[str]:
    """ "milk, eggs and bread" -> its items; a phrase without a comma list is one item."""
    pieces = list_pieces(rest)
    if len(pieces) < SEVERAL:
        return [rest]
    titles = [clean_title(piece) for piece in pieces]
    # "buy milk, low priority" left "buy milk, ": not a list when any item is empty or long.
    if any(not t or len(t.split()) > MAX_ITEM_WORDS for t in titles):
        return [rest]
    return titles


def _each_with_its_fields(body: str, now: datetime) -> AddSeveral | None:
    """ "buy milk monday, call mom tomorrow": items that each say their own fields.

    None unless two or more items do; fields said once at the end ("milk, eggs and bread
    tomorrow") are for every item, as add_intent reads them.
    """
    pieces = list_pieces(body, and_alone=True)
    if len(pieces) < SEVERAL:
        return None
    try:
        parsed = [extract_fields(piece, now) for piece in pieces]
    except DateError:
        return None
    if sum(1 for fields, _ in parsed if fields) < SEVERAL:
        return None
    for fields, _ in parsed:
        fields.pop(AT_ONLY, None)
    titles = [clean_title(rest) for _, rest in parsed]
    if any(not t or len(t.split()) > MAX_ITEM_WORDS for t in titles):
        return None
    return AddSeveral(
        tuple(
            AddTask({"title": t, **fields}) for t, (fields, _) in zip(titles, parsed, strict=True)
        )
    )


def _several_items(rest: str, fields: dict[str, Any]) -> AddSeveral | Clarify | None:
    """ "milk, eggs and bread", "a card and the present, both": one add per item, with the
    fields said once."""
    if both := _BOTH.search(rest):
        items = [clean_title(p) for p in list_pieces(rest[: both.start()], and_alone=True)]
        if not all(items):
            items = []
    else:
        items = _items(rest)
    if len(items) < SEVERAL:
        return None
    if unread := next((u for item in items if (u := UNREAD_DATE.search(item))), None):
        # "gutter cleaning sat, ... call the roofer mon": a day in one item no reader took
        title = next(item for item in items if UNREAD_DATE.search(item))
        return Clarify(UNREAD.format(title=title, phrase=unread[0].strip()) + f" {DATE_HINT}")
    return AddSeveral(tuple(AddTask({"title": item, **fields}) for item in items))


# "remind me about the insurance the day it's due": "it" is a task there is, and its due day
# is not known here; adding a new task would be a guess.
_ITS_DUE_DAY = re.compile(
    r"\bthe\s+(?:day|morning|evening|night|week)\s+(?:(?:it|that)(?:'?s|\s+is)|they'?re)\s+due\b",
    _I,
)
ITS_DUE_DAY = (
    "I changed nothing: “{phrase}” is about a task you already have, and I can't read which "
    "day that is. Name the day and time: “remind me about the insurance on Dec 16 at 9am”."
)
UNREAD = (
    "I didn't add “{title}”: I couldn't read “{phrase}” as a date or time. Say it again with "
    "the date on its own, or put the title in quotes to keep it as it is."
)


def _new_task_fields(fields: dict[str, Any], now: datetime) -> None:
    """The fields said, as a new task takes them."""
    fields.pop(AT_ONLY, None)  # a new task's time alone is its next occurrence
    for name in ("due", "repeat"):
        if fields.get(name) == "":
            del fields[name]  # "add X, no due date": a new task has none anyway
    if fields.get("repeat_from") and not fields.get("repeat"):
        fields["repeat"] = "FREQ=DAILY"  # "add water the plants from when I last did it"
    first_due(fields, now)


def add_intent(
    body: str, now: datetime, *, one_item: bool = False
) -> AddTask | AddSeveral | Clarify:
    """An add_task call (or one per listed item) from the words that describe the task;
    `one_item` for an item already cut out of a list, whose own "and" stays in it."""
    title = None
    if match := QUOTED.search(body):
        title = match["text"].strip()
        body = cut(body, match)
    if (match := _NOUN_SLIP.match(body)) and one_slip_from(match["w"], NOUNS):
        body = body[match.end() :]  # "add taks: email sarah"
    body = _LIST_PLACE.sub("", body)
    if title is None and not one_item and (several := _each_with_its_fields(body, now)):
        return several
    try:
        fields, rest = extract_fields(body, now)
    except DateError as exc:
        return Clarify(f"{exc} {DATE_HINT}")
    _new_task_fields(fields, now)
    if title is None and not one_item and (items := _several_items(rest, fields)):
        return items
    said_title = title is not None
    title = title or clean_title(rest)
    if not title:
        return Clarify(NO_TITLE)
    if unread := (_placed(title, rest) if said_title else _unread(title, body)):
        return unread
    return AddTask({"title": title, **fields})


# "add 'buy bark chips' under redo the border": a place for a quoted title no reader took
# (a task to file it under) is asked about, never dropped.
_PLACED = re.compile(r"(?:under|below|beneath|inside|into|in|to|as\s+part\s+of)\b", _I)
UNREAD_PLACE = (
    "I didn't add “{title}”: I couldn't tell where “{phrase}” puts it. Name the task it goes"
    " under, like “add a subtask to task 3”."
)


def _placed(title: str, rest: str) -> Clarify | None:
    left = clean_title(rest)
    return Clarify(UNREAD_PLACE.format(title=title, phrase=left)) if _PLACED.match(left) else None


def _unread(title: str, body: str) -> Clarify | None:
    """Why the words of an add are not added as they are, when a part of them is unread."""
    if unread := UNREAD_DATE.search(title):
        return Clarify(UNREAD.format(title=title, phrase=unread[0].strip()) + f" {DATE_HINT}")
    if its_due := _ITS_DUE_DAY.search(body):
        return Clarify(ITS_DUE_DAY.format(phrase=its_due[0]))
    return None
