"""Questions answered from the tasks, changing nothing: about one task ("when is the
dentist?", "what's the priority on the roof repair?", "have I done the laundry yet?",
"did I already add milk?"), and about the list ("what's my next deadline?", "how many tasks
do I have?", "high priority only").

Each row of QUESTIONS is (pattern, what it asks); a pattern's `w` group names the task.
"""

import re
from collections.abc import Callable
from datetime import date, datetime

from chat_server.agent.offline.acting import FUZZY_PAGE
from chat_server.agent.offline.dates import find_when, parse_when
from chat_server.agent.offline.intents import (
    ActOnTask,
    AskAbout,
    Aspect,
    ByContext,
    ByWords,
    FieldsAlone,
    Intent,
    ListTasks,
    TaskRef,
)
from chat_server.agent.offline.phrases import (
    PRIORITY_WORD,
    PRIORITY_WORDS,
    SeveralTasks,
    core_words,
    parse_ref,
)
from chat_server.agent.offline.queries import list_intent

_I = re.IGNORECASE
# The task: a lazy run that ends on a non-space, before the question's own tail words.
_W = r"(?P<w>[^?]+?(?<!\s))"
_TAIL = r"(?:\s+(?:yet|already|again|now|then|exactly|actually|on\s+(?:my|the)\s+list))*+\??$"
_BE = r"(?:is|are|was|'s|s)"


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


QUESTIONS: tuple[tuple[re.Pattern[str], Aspect], ...] = (
    (
        _re(
            r"^(?:when|what\s+time|what\s+day|what\s+date)\s*"
            + _BE
            + r"\s+(?:the\s+|my\s+)?"
            + _W
            + r"(?:\s+(?:due|happening|scheduled|set\s+for|on))?"
            + _TAIL
        ),
        "due",
    ),
    (
        _re(
            r"^when\s+(?:do|did|should|must)\s+i\s+(?:need\s+to\s+|have\s+to\s+)?"
            + _W
            + r"(?:\s+by)?"
            + _TAIL
        ),
        "due",
    ),
    (
        _re(
            r"^(?:when'?s|what'?s\s+the\s+(?:due\s+date|deadline)\s+(?:on|of|for))\s+(?:the\s+|my\s+)?"
            + _W
            + r"(?:\s+due)?"
            + _TAIL
        ),
        "due",
    ),
    (
        _re(
            r"^is\s+(?:the\s+|my\s+)?"
            + _W
            + r"\s+(?:due|on)\s+(?P<d>today|tomorrow|this\s+week|\w+day)"
            + _TAIL
        ),
        "due",
    ),
    (
        _re(
            r"^what(?:'?s|\s+is)\s+the\s+priority\s+(?:on|of|for)\s+(?:the\s+|my\s+)?" + _W + _TAIL
        ),
        "priority",
    ),
    (
        _re(
            r"^(?:what|which)\s+priority\s+(?:is|has|does)\s+(?:the\s+|my\s+)?"
            + _W
            + r"(?:\s+(?:have|got))?"
            + _TAIL
        ),
        "priority",
    ),
    (_re(r"^how\s+(?:important|urgent)\s+is\s+(?:the\s+|my\s+)?" + _W + _TAIL), "priority"),
    (
        _re(
            r"^is\s+(?:the\s+|my\s+)?"
            + _W
            + r"\s+(?:(?:a\s+)?(?:high|low|medium)(?:\s+priority)?|urgent"
            r"|important)" + _TAIL
        ),
        "priority",
    ),
    (
        _re(
            r"^(?:have|did)\s+(?:i|we)\s+(?:already\s+|actually\s+)?(?:done|do|did|finish(?:ed)?"
            r"|complete(?:d)?|check(?:ed)?\s+off|tick(?:ed)?\s+off)\s+(?:the\s+|my\s+)?"
            + _W
            + _TAIL
        ),
        "done",
    ),
    (
        _re(
            r"^(?:is|are|was)\s+(?:the\s+|my\s+)?" + _W + r"\s+(?:done|finished|complete(?:d)?"
            r"|ticked\s+off|checked\s+off)" + _TAIL
        ),
        "done",
    ),
    (
        _re(
            r"^(?:did|have)\s+(?:i|we|you)\s+(?:already\s+)?(?:add(?:ed)?|put|create(?:d)?"
            r"|write|written|save(?:d)?|note(?:d)?)\s+(?:the\s+|a\s+task\s+(?:for|to|about)\s+)?"
            + _W
            + r"(?:\s+(?:to|on|in)\s+(?:my|the)\s+list)?"
            + _TAIL
        ),
        "exists",
    ),
    (
        _re(
            r"^is\s+(?:there\s+a\s+task\s+(?:for|to|about)\s+)?(?:the\s+)?"
            + _W
            + r"\s+(?:on|in)\s+(?:my|the)\s+list"
            + _TAIL
        ),
        "exists",
    ),
    (
        _re(r"^do\s+i\s+(?:already\s+)?have\s+(?:a\s+task\s+(?:for|to|about)\s+)" + _W + _TAIL),
        "exists",
    ),
    (
        _re(r"^(?:do|should|must)\s+(?:i|we)\s+(?:still\s+)?(?:need|have)\s+to\s+" + _W + _TAIL),
        "exists",
    ),
    (_re(r"^what(?:'?s|\s+is)\s+(?:the\s+|my\s+)?" + _W + r"\s+about" + _TAIL), "details"),
    (
        _re(
            r"^(?:tell\s+me\s+(?:more\s+)?about|details\s+(?:of|for|on)|info\s+(?:on|about))\s+"
            r"(?:the\s+|my\s+)?" + _W + _TAIL
        ),
        "details",
    ),
    (
        _re(
            r"^is\s+(?:the\s+|my\s+)?"
            + _W
            + r"\s+(?P<d>today|tomorrow|tonight|this\s+week|next\s+week"
            r"|on\s+\w+day|\w+day)" + _TAIL
        ),
        "due",
    ),
    # What a task carries: its tags, its reminders, its steps ("what tags does the tap have?",
    # "does the dentist have a reminder?", "what are the subtasks of move house?").
    (
        _re(
            r"^(?:what|which)\s+(?:tags?|labels?)\s+(?:does|do|has|is|are)\s+(?:the\s+|my\s+)?"
            + _W
            + r"(?:\s+(?:have|got|tagged(?:\s+with)?))?"
            + _TAIL
        ),
        "tags",
    ),
    (
        _re(
            r"^(?:is|are)\s+(?:the\s+|my\s+)?"
            + _W
            + r"\s+(?:tagged|labell?ed)(?:\s+with\s+anything)?"
            + _TAIL
        ),
        "tags",
    ),
    (
        _re(
            r"^(?:does|do)\s+(?:the\s+|my\s+)?"
            + _W
            + r"\s+have\s+(?:a\s+|any\s+)?(?:reminders?|alerts?)"
            + _TAIL
        ),
        "reminders",
    ),
    (
        _re(r"^(?:does|do)\s+(?:the\s+|my\s+)?" + _W + r"\s+have\s+(?:a\s+|any\s+)?tags?" + _TAIL),
        "tags",
    ),
    (
        _re(
            r"^(?:what|which)\s+reminders?\s+(?:does|do|has|is|are)\s+(?:the\s+|my\s+)?"
            + _W
            + r"(?:\s+(?:have|got|set))?"
            + _TAIL
        ),
        "reminders",
    ),
    (
        _re(
            r"^(?:what\s+are|what'?re|show(?:\s+me)?|list)\s+the\s+(?:sub-?\s?tasks|steps)\s+"
            r"(?:of|for|in|under)\s+(?:the\s+|my\s+)?" + _W + _TAIL
        ),
        "subtasks",
    ),
    (
        _re(
            r"^what(?:'?s|\s+is)\s+left\s+(?:for|on|to\s+do\s+for)\s+(?:the\s+|my\s+)?" + _W + _TAIL
        ),
        "subtasks",
    ),
    (
        _re(
            r"^(?:which|what)\s+list\s+(?:is|are|'s)\s+(?:the\s+|my\s+)?"
            + _W
            + r"\s+(?:in|on|under)"
            + _TAIL
        ),
        "list",
    ),
    (
        _re(
            r"^(?:where|which\s+list)\s+(?:is|are|'s)\s+(?:the\s+|my\s+)?"
            + _W
            + r"\s+filed"
            + _TAIL
        ),
        "list",
    ),
    # "did I book the flights?": whether the task is done, whatever the verb.
    (
        _re(
            r"^(?:have|did)\s+(?:i|we)\s+(?:already\s+|actually\s+|ever\s+)?[a-z]+\s+" + _W + _TAIL
        ),
        "done",
    ),
)
# Words that make "do I have ..." a list query, not a question about one task.
_LIST_WORDS = re.compile(
    r"\b(?:tasks?|todos?|anything|everything|something|overdue|due|today|tomorrow|week|priority"
    r"|tagged|left|pending|open|done|completed|list)\b",
    _I,
)
_NEXT = _re(
    r"^(?:what(?:'?s|\s+is)\s+(?:my\s+|the\s+)?(?:next|nearest|closest|soonest|upcoming)"
    r"\s+(?:deadline|due\s+date|task|thing\s+due|thing)|what(?:'?s|\s+is)\s+(?:due\s+)?next"
    r"|what\s+(?:do\s+i\s+have\s+)?(?:due\s+)?next|what\s+should\s+i\s+do\s+next"
    r"|when(?:'s|\s+is)\s+my\s+next\s+deadline)\??$"
)
_HOW_MANY = _re(r"^how\s+many\b")
_ONLY = _re(
    r"^(?:(?:show\s+)?(?:only|just)\s+)?(?:the\s+|my\s+)?(?P<p>" + PRIORITY_WORD + r")"
    r"(?:[\s-]+(?:priority|prio))?(?:\s+(?:ones|tasks|items|stuff))?(?:\s+only)?$"
)


def _next_due(text: str, now: datetime) -> Intent | None:
    if _NEXT.match(text):
        return ListTasks({"status": "pending", "sort": "due"}, answer="next")
    return None


def _how_many(text: str, now: datetime) -> Intent | None:
    if not _HOW_MANY.match(text):
        return None
    listed = list_intent(text, now) or ListTasks({})
    args = {"status": "pending"} | {k: v for k, v in listed.args.items() if k != "sort"}
    return ListTasks(args | {"limit": FUZZY_PAGE}, listed.tag_or_words, answer="count")


_FILTER_SAID = _re(r"\b(?:only|just|show|ones|tasks|items|stuff)\b")


def _only(text: str, now: datetime) -> Intent | None:
    """ "high priority only" lists; "high priority" alone may be said of the task just added."""
    if not (match := _ONLY.match(text)):
        return None
    priority = PRIORITY_WORDS[match["p"].lower()]
    listing = ListTasks({"priority": priority, "status": "pending"})
    if _FILTER_SAID.search(text):
        return listing
    return FieldsAlone(ActOnTask("update", ByContext(), {"priority": priority}), listing)


def _about_one(text: str, now: datetime) -> Intent | None:
    for pattern, aspect in QUESTIONS:
        if not (match := pattern.match(text)) or _LIST_WORDS.search(core_words(match["w"])):
            continue
        if aspect == "subtasks" and find_when(match["w"], now)[0] is not None:
            continue  # "what's left for this afternoon?" asks for a list
        if isinstance(target := _ref(match["w"]), ByWords):
            return AskAbout(target, aspect, _day_asked(match, now))
    return None


def _day_asked(match: re.Match[str], now: datetime) -> date | None:
    """The one day a yes-or-no due question names ("is the rent due friday?"), else None."""
    said = match.groupdict().get("d")
    if not said or "week" in said.lower() or not match.string.lower().startswith("is"):
        return None
    when = parse_when(said, now)
    return when.day if when and when.dated else None


# A title may start with a command verb ("Move house", "Get a haircut"): inside a question it
# names the task, since nothing is changed.
_VERB_TITLE = _re(r"^(?:make|set|change|update|move|add|create|find|get|book|plan)\s+\w")


def _ref(words: str) -> TaskRef | None:
    try:
        ref = parse_ref(words)
    except SeveralTasks:
        return None
    if ref is None and _VERB_TITLE.match(words) and (core := core_words(words)):
        return ByWords(core)
    return ref


# "is anything due tomorrow?", "are there any tasks tagged work": a list query, never a task
# called "is anything".
_ANYTHING = _re(r"^(?:is|are)\s+(?:there\s+)?(?:anything|any|something)\b")


def _anything(text: str, now: datetime) -> Intent | None:
    return list_intent(text, now) if _ANYTHING.match(text) else None


_ASKERS: tuple[Callable[[str, datetime], Intent | None], ...] = (
    _anything,
    _next_due,
    _how_many,
    _only,
    _about_one,
)


def question_intent(text: str, now: datetime) -> Intent | None:
    """A question answered from the tasks without changing them, else None."""
    for ask in _ASKERS:
        if found := ask(text, now):
            return found
    return None
