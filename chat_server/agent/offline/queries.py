"""Requests to see tasks ("what's due this week?", "show my #work tasks") -> list_tasks
arguments: status, tag, priority, search, due window, overdue and sort."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chat_server.agent.offline.dates import DateError, find_range
from chat_server.agent.offline.intents import ListTasks
from chat_server.agent.offline.phrases import (
    PRIORITY_WORD,
    PRIORITY_WORDS,
    TAG,
    core_words,
    cut,
    strip_quotes,
)

_I = re.IGNORECASE


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


_LIST_START = _re(
    r"^(?:show|list|display|view|see|give|tell|read|print|what|what'?s|whats|what're|which|any"
    r"|anything|do\s+i|have\s+i|did\s+i|are\s+there|is\s+there|is\s+anything|are\s+any|how\s+many"
    r"|search|find|look|my|all"
    r"|pending|completed|finished|done|overdue|open|upcoming|due|todo|to-do|tasks?|todos|#)"
)
QUESTION_START = _re(
    r"^(?:what|whats|which|any|anything|do\s+i|have\s+i|did\s+i|are\s+there|is\s+there|is\s+anything"
    r"|are\s+any|how\s+many)\b"
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
_LIST_PRIORITY = _re(r"\b(?P<p>" + PRIORITY_WORD + r")(?:[\s-]+(?:priority|prio))?\b")
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
_WORD = _re(r"[\w'-]+")
_LEFTOVER_VERB = _re(r"^(?:show|list|display|view|find)\b")
_STOP = frozenset(
    {"show", "list", "display", "view", "find", "me", "my", "the", "a", "an", "all", "of", "i"}
    | {"is", "are", "any", "anything", "everything", "what", "whats", "what's", "which", "that"}
    | {"tasks", "task", "todo", "todos", "to-do", "items", "item", "things", "stuff", "one"}
    | {"ones", "with", "in", "on", "for", "please", "have", "do", "got", "there"}
)
# "show my work tasks": the word before a plural task noun may be a tag said without '#'.
# At most 32 characters, as the task server allows a tag: a word of any length would be
# rescanned from each of its hyphens, quadratic in a long hyphenated run.
_TAG_NOUN = _re(r"\b(?P<w>[a-z][\w-]{1,31}+)\s+(?:tasks|todos|to-dos|items|things|stuff)\b")
_POSSESSIVE_DAY = _re(r"\b(?P<d>today|tomorrow|yesterday|tonight)['’]s\b")
_FILTER_WORDS = (_PENDING, _COMPLETED, _OVERDUE, _DUE_WORD, _re(r"tagged|tag|priority"))
_DATES = _re(
    r"today|tomorrow|tonight|weekend|week|month|year|late|recent|new|old|other|more|these|those"
    r"|some|few|many|repeating|recurring|important|priority|every|next|last|due"
)
_SORT_NAMES = {"date": "due", "deadline": "due", "name": "title", "creation": "created"}


# "anything about Berlin on my list?": where the words are looked for is no search word.
_ON_MY_LIST = _re(r"(?<!\s)\s++(?:on|in)\s+(?:my|the)\s+(?:\w+\s+)?(?:list|tasks|todos?)$")


def _search_words(text: str) -> str:
    return core_words(_ON_MY_LIST.sub("", strip_quotes(text)))


@dataclass
class _Query:
    """A list query being read: the text left, the arguments so far, and what was found."""

    text: str
    args: dict[str, Any] = field(default_factory=dict)
    found: bool = False
    tag_word: str = ""

    def took(self, text: str) -> None:
        self.text, self.found = text, True


def _about(query: _Query, now: datetime) -> None:
    """ "tasks about the garden", "search for milk": words in titles, or a #tag."""
    text = query.text
    if not ((match := _ABOUT.search(text)) or (match := _SEARCH.match(text))):
        return
    words = _search_words(match["q"])
    if tag := TAG.fullmatch(words):
        query.args["tag"] = tag["tag"].lower()
    elif words and words.lower() not in _STOP:
        query.args["search"] = words
    query.took(text[: match.start("q")])


def _tag(query: _Query, now: datetime) -> None:
    if "tag" in query.args:
        return
    if (match := TAG.search(query.text)) or (match := _LIST_TAG.search(query.text)):
        query.args["tag"] = next(g for g in match.groups() if g).lower()
        query.took(cut(query.text, match))


def _priority(query: _Query, now: datetime) -> None:
    if match := _LIST_PRIORITY.search(query.text):
        query.args["priority"] = PRIORITY_WORDS[match["p"].lower()]
        query.took(cut(query.text, match))


def _tag_noun(query: _Query, now: datetime) -> None:
    """ "my work tasks": the word before a plural task noun, a tag said without '#'."""
    if "tag" in query.args or "search" in query.args:
        return
    if not (match := _TAG_NOUN.search(query.text)):
        return
    word = match["w"].lower()
    if word in _STOP or any(f.fullmatch(word) for f in (*_FILTER_WORDS, _DATES)):
        return
    query.args["tag"] = query.tag_word = word
    text = query.text
    query.took(" ".join((text[: match.start("w")] + text[match.end("w") :]).split()))


def _sort(query: _Query, now: datetime) -> None:
    if not (match := _SORT.search(query.text)):
        return
    sort = (match["s"] or "created").lower().split()[0]
    query.args["sort"] = _SORT_NAMES.get(sort, sort)
    if match["new"] or sort == "priority":
        query.args["order"] = "desc"  # newest first; high priority first
    query.text = cut(query.text, match)


_IN_LIST = re.compile(
    r"\b(?:in|on|from|under)\s++(?:my|the|our)\s++(?P<l>[\w'&-]++)\s++list\b", re.IGNORECASE
)


def _list_named(query: _Query, now: datetime) -> None:
    """ "how many things are in my work list?": the list whose tasks are asked about."""
    if match := _IN_LIST.search(query.text):
        query.args["list"] = match["l"]
        query.took(cut(query.text, match))


# The filters a list query may say, read in this order; each takes its words out.
_FILTERS: tuple[Callable[[_Query, datetime], None], ...] = (
    _list_named,
    _about,
    _tag,
    _priority,
    _tag_noun,
    _sort,
)


def _window(query: _Query, now: datetime) -> bool | None:
    """Status and due window; False when the dates make it no question about tasks."""
    try:
        after, before, text = find_range(query.text, now)
    except DateError:
        after = before = None
        text = query.text
    query.text = text
    args = query.args
    overdue = bool(_OVERDUE.search(text))
    dated = overdue or before is not None or after is not None
    asked = overdue or QUESTION_START.match(text) or _DUE_WORD.search(text)
    if dated and not (asked or _TASK_NOUN.search(text) or query.found):
        return False  # "see the doctor tomorrow" is not a question about tasks
    if _COMPLETED.search(text) and not _PENDING.search(text):
        args["status"] = "completed"
    elif _PENDING.search(text) or dated:
        args["status"] = "pending"
    args.update({k: v for k, v in (("overdue", overdue or None), ("due_after", after),
                                   ("due_before", before)) if v is not None})  # fmt: skip
    zone = getattr(now.tzinfo, "key", None)
    if dated and zone not in (None, "UTC", "Etc/UTC"):
        args["timezone"] = zone  # "today" and "overdue" are the user's days
    if (dated or _DUE_WORD.search(text)) and "sort" not in args:
        args["sort"] = "due"
    return None


def _leftover_search(query: _Query) -> None:
    """ "show me the milk task": words left over after the filters are a search."""
    if "search" in query.args or not _LEFTOVER_VERB.match(query.text):
        return
    left = [w for w in _WORD.findall(query.text) if w.lower() not in _STOP]
    left = [w for w in left if not any(f.fullmatch(w) for f in _FILTER_WORDS)]
    if left:
        query.args["search"] = " ".join(left)


def list_intent(text: str, now: datetime) -> ListTasks | None:
    """A request to see tasks (with filters), else None."""
    if not _LIST_START.match(text):
        return None
    query = _Query(_POSSESSIVE_DAY.sub(r"\g<d>", text))  # "today's tasks" -> "today tasks"
    for read in _FILTERS:
        read(query, now)
    if _window(query, now) is False:
        return None
    said = bool(_TASK_NOUN.search(query.text)) or bool(_ALL.search(query.text))
    if not (query.found or query.args or said):
        return None
    _leftover_search(query)
    return ListTasks(query.args, query.tag_word)
