"""The offline model's grammar: one English sentence plus "now" -> an intent with tool args.

Pure functions only. `parse(text, now)` reads the sentence; `now` is an aware datetime in the
user's zone, so "tomorrow" and "friday" are the user's days and times come out in UTC.
This module tidies the sentence and decides which kind of request it is; the kinds live in
commands.py (one task), queries.py (lists) and phrases.py (adding, and the
words that name a task or set its fields), the results in intents.py.
"""

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Literal

from chat_server.agent.offline.casual import casual_intent
from chat_server.agent.offline.commands import act_intent, explicit_update, suffix_intent
from chat_server.agent.offline.dates import DateError
from chat_server.agent.offline.followups import followup_intent
from chat_server.agent.offline.fuzzy import COMMAND_WORDS, one_slip_from
from chat_server.agent.offline.intents import (
    Action,
    ActOnTask,
    AddSeveral,
    AddTask,
    Also,
    Both,
    ByContext,
    ById,
    ByPosition,
    ByWords,
    Clarify,
    Help,
    IfNamed,
    Intent,
    ListTasks,
    MoveMatching,
    Named,
    Pick,
    Unclear,
    Undo,
)
from chat_server.agent.offline.list_requests import add_to_list, list_header, list_request
from chat_server.agent.offline.phrases import (
    DATE_HINT,
    ORDINALS,
    POSITION_REF,
    PRIORITY_WORD,
    PRIORITY_WORDS,
    SeveralTasks,
    add_intent,
    strip_tail,
)
from chat_server.agent.offline.queries import list_intent
from chat_server.agent.offline.questions import question_intent
from chat_server.agent.offline.reminder_requests import reminder_intent
from chat_server.agent.offline.reminders import reminder_at
from chat_server.agent.offline.several import (
    TODO_VERBS,
    header_list,
    listed_items,
    several_added,
    several_in_body,
)
from chat_server.agent.offline.shifts import shift_intent
from chat_server.agent.offline.unclear import content_words, unclear_intent

ONE_AT_A_TIME = (
    "I can only work on one task at a time. Tell me which one, by number "
    "(“task 3”) or by words from its title (“the milk one”)."
)

_I = re.IGNORECASE


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


# ---------------------------------------------------------------- normalising

_TRANSLATE = str.maketrans(
    {"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-", "\ufe0f": ""}
    | {mark: " done " for mark in "✅✔☑✓"}
)
# Text-speak and short forms, word for word: "can u add milk tmrw pls".
TEXT_SPEAK = {
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "tmrw": "tomorrow",
    "tmr": "tomorrow", "tmw": "tomorrow", "2moro": "tomorrow", "2morrow": "tomorrow",
    "2day": "today", "tdy": "today", "prio": "priority", "w/": "with", "thru": "through",
    "asap": "asap", "b4": "before", "abt": "about", "w": "with", "nxt": "next", "wk": "week",
    "mins": "minutes", "gimme": "give me", "lemme": "let me",
    "tomorow": "tomorrow", "tommorow": "tomorrow", "tommorrow": "tomorrow",
    "tomorrw": "tomorrow", "tmrow": "tomorrow", "tonite": "tonight", "2nite": "tonight",
    "wensday": "wednesday", "wednsday": "wednesday", "thurs": "thursday",
    # day names with a letter dropped or swapped
    "mondy": "monday", "tuesdy": "tuesday", "tusday": "tuesday", "wednesdy": "wednesday",
    "wedensday": "wednesday", "thursdy": "thursday", "thrusday": "thursday",
    "thurday": "thursday", "fridy": "friday", "firday": "friday", "saturdy": "saturday",
    "satruday": "saturday", "sundy": "sunday",
}  # fmt: skip
_SPEAK = re.compile(
    r"(?<![\w#'/])(?:" + "|".join(re.escape(w) for w in TEXT_SPEAK) + r")(?![\w'])", re.I
)
_GONE = r"(?:delete|remove|cancel|drop|scrap|undo)\b"
_GREETING_WORDS = r"hey|hi|hello|hiya|yo|howdy|greetings|good\s+(?:morning|afternoon|evening)"
_LEAD = re.compile(
    r"^(?:(?:" + _GREETING_WORDS + r"|ok(?:ay)?|so|oh|also|and|actually|now|then|alright|um+|uh+"
    r"|well|great|cool|please|pls|plz|kindly|just|quickly|oops|whoops|sorry|hmm+|ah"
    # "no wait, delete that": a lead before a take-back ("wait for the plumber" and "no
    # wait, the bill not the dentist" keep theirs: a correction reads them)
    r"|no(?=[\s,]++(?:wait\s*+[,!.]\s*+)?" + _GONE + r")|wait(?=\s*+[,!.]\s*+" + _GONE + r"))"
    r"\b(?:\s+there\b)?"
    r"[\s,!.:;-]*"
    r"|(?:can|could|would|will)\s+you\s+|(?:go\s+ahead\s+and|let'?s)\s+"
    r"|(?:thanks|thank\s+you|thx|cheers)[!.,]++\s*+)+",
    _I,
)
_GREETING = re.compile(r"\b(?:" + _GREETING_WORDS + r")\b", _I)
_TRAIL = re.compile(r"\b(?:please|pls|plz|thanks|thank\s+you|thx|for\s+me|btw|by\s+the\s+way)$", _I)
_HELP = re.compile(
    r"^(?:help(?:\s+me)?|\?+|what\s+can\s+(?:you|i)\s+do|what\s+do\s+you\s+do|how\s+does\s+this"
    r"\s+work|how\s+do\s+i\s+use\s+(?:this|you)|commands|usage|menu|options|examples?"
    r"|who\s+are\s+you|what\s+are\s+you|what\s+can\s+you\s+help\s+(?:me\s+)?with)$",
    _I,
)
_SMALL_TALK = re.compile(
    r"^(?:what'?s\s+up|sup|how\s+are\s+you(?:\s+doing)?(?:\s+today)?|how'?s\s+it\s+going)$", _I
)
_SIGN_OFF = (
    r"(?:bye|goodbye|good\s*night|night\s+night|see\s+you(?:\s+(?:later|soon|tomorrow))?|cya"
    r"|later|ttyl|talk\s+(?:to\s+you\s+)?(?:later|soon|tomorrow))"
)
# "good night, talk tomorrow": sign-offs, one or several (a mark between them keeps the
# match linear); "tomorrow" in one is no due date.
_BYE = re.compile(rf"^{_SIGN_OFF}(?:\s*+[,!.]++\s*+{_SIGN_OFF})*+$", _I)
_THANKS_WORD = re.compile(r"\b(?:thanks|thank\s+you|thx)\b", _I)
_THANKS = re.compile(r"^(?:thanks|thank\s+you|thx|ty|cheers|much\s+appreciated)\b", _I)
_ACK = re.compile(
    r"^(?:ok(?:ay)?|great|perfect|awesome|cool|nice|got\s+it|good|fine|sure|alright|yes|no|nope"
    r"|(?:all\s+|i'?m\s+)?done|that'?s\s+(?:it|all)|nothing|never\s*mind|nvm)$",
    _I,
)


# Priority marks, as words of their own: "!!!" and "!!" high (people mean "!!" as urgent,
# whatever Apple Reminders says), "!" low;
# "!!" and "!!!" also right after a word ("file taxes!!!"), where one "!" is just emphasis.
_BANGS = re.compile(r"(?:^|(?<=\s))(!{1,3})(?=\s|$)|(?<=\w)(!{2,3})(?=\s|$)")
_BANG_LEVELS = {"!!!": "!high", "!!": "!high", "!": "!low"}
_BANG_MARK = re.compile(r"(?<!\s)\s*+!(?:high|medium|low)\b", _I)


_SPOKEN_COMMA = re.compile(r"\s+comma(?=\s)", _I)


def normalize(text: str) -> tuple[str, bool]:
    """The request without greetings, politeness and end punctuation; and whether it greeted."""
    text = " ".join(text.translate(_TRANSLATE).split())
    text = _SPEAK.sub(lambda m: TEXT_SPEAK[m[0].lower()], text)
    text = _SPOKEN_COMMA.sub(",", text)  # dictated: "buy milk comma call mum"
    lead = _LEAD.match(text)
    greeted = bool(lead and _GREETING.search(lead[0]))
    if lead:
        text = text[lead.end() :]
    text = _BANGS.sub(lambda m: _BANG_LEVELS[m[1]] if m[1] else f" {_BANG_LEVELS[m[2]]}", text)
    return strip_tail(text, _TRAIL, ",.!?;:"), greeted


# ---------------------------------------------------------------- adding

_ADD = re.compile(
    r"^(?:(?:add|put)\s+(?:to|on|onto)\s+(?:my|the)\s+(?:\w+\s+)?list\s*[:,-]?"
    r"|(?:help\s+me\s+)?(?:add|create|jot\s+down|note\s+down|write\s+down)(?:\s+(?:a|an|the|another|one\s+more|one"
    r"|new|(?P<prio>" + PRIORITY_WORD + r")(?:[\s-]+priority)?))*\s+(?:task|todo|to-do|item"
    r"|reminder|entry)s?\b"
    r"|(?:make|set\s+up|set|put\s+in|schedule)(?:\s+(?:a|an|another|one\s+more|new))+\s+(?:task|todo"
    r"|to-do|item|reminder|entry)\b"
    r"|(?:add|jot\s+down|note\s+down|write\s+down|put\s+down)\b"
    r"|new\s+(?:task|todo|to-do|item|reminder)\b"
    r"|(?:task|todo|to-do|to\s+do|reminder)(?=\s*[:-])"
    r"|remind\s+me(?:\s+(?:to|that|about)\b)?"
    r"|(?:i\s+(?:need|have|must)\s+(?:to\s+)?)?remember\s+to\b"
    r"|(?:don'?t|do\s+not)\s+(?:let\s+me\s+)?forget(?:\s+to\b)?"
    r"|note\s+to\s+self)"
    r"\s*(?:(?:to|called|named|titled|saying|that\s+says|for)\b|[:-])?\s*(?P<body>.*)$",
    _I,
)
# "put X on my list": `put` is an add only with the list named.
_PUT = re.compile(
    r"^put\s+(?!.*\bback\s+(?:on|onto|in|into|to)\s)(?P<body>.+?\s+(?:on|to|onto|in)\s+(?:my|the)\s+(?:\w+\s+)?list)$",
    _I,
)
_YES = re.compile(
    r"^(?:yes|yep|yeah|yup|sure|ok(?:ay)?|y|go\s+ahead|do\s+it|please\s+do|confirm(?:ed)?"
    r"|yes\s+please|that'?s\s+right|correct)$",
    _I,
)
_SOFT_ADD = re.compile(
    r"^(?:i|we)(?P<verb>'d\s+like\s+to|\s+(?:really\s+|still\s+|also\s+|just\s+)?(?:(?:need|have|got"
    r"|want|would\s+like|ought)\s+to|must|should|gotta))\s+(?P<body>.+)$"
    r"|^(?:i'?ve|we'?ve)\s+got\s+to\s+(?P<body2>.+)$"
    r"|^(?:(?:really|still|also)\s+)?(?:need|have|got)\s+to\s+(?P<body3>.+)$",
    _I,
)


# ---------------------------------------------------------------- entry point

_PICK_NUMBER = _re(
    r"^(?:(?:it'?s|it\s+is|i\s+mean|i\s+meant|i\s+said|the\s+one\s+with|that'?s)\s+)?"
    r"(?:task\s*|number\s*|no\.?\s*|#)?(\d{1,9})$"
)
_I_MEAN = _re(r"^(?:i\s+mean|i\s+meant)\s+")
_BARE_VERB = _re(
    r"^(?P<verb>delete|remove|complete|finish|check\s+off|cross\s+off|tick\s+off|reopen|show)"
    r"(?:\s+(?:it|me))?$|^(?P<verb2>cross|tick|check|strike)\s+(?:it|that)\s+off$"
)
_BARE_ACTIONS: dict[str, Action] = {"delete": "delete", "remove": "delete", "reopen": "reopen"}
_UNDO = _re(r"^(?:(?:wait|oops|whoops|sorry|no|nope|wrong\s+one|my\s+(?:bad|mistake))[\s,!.]*+)*+"
             r"(?:undo|revert|reverse|take\s+back"
             r"|(?:bring|put|get)\s+(?:it|that|them)\s+back|restore\s+(?:it|that|them))"
             r"(?:\s+(?:that|it|this|the\s+last(?:\s+change)?"
             r"|my\s+last(?:\s+change)?|what\s+you\s+(?:just\s+)?did))?$")  # fmt: skip
MAX_COMMAND_CHARS = 400
"""The longest request read word by word: a title holds 200 characters, its fields fewer.
Notes after "note:" may run on; a longer request without them is asked about, unread."""
TOO_LONG = (
    "That's longer than any request I can read. Add the task with a short title, then its "
    "notes: “add a note to it: …”."
)


def _pick(text: str, now: datetime) -> Intent | None:
    if match := _PICK_NUMBER.match(text):
        return Pick(ById(int(match[1])))
    if match := POSITION_REF.match(_I_MEAN.sub("", text)):
        return Pick(ByPosition(ORDINALS[match[1].lower()]))
    return None


def _add_command(text: str, now: datetime) -> Intent | None:
    if not (match := _ADD.match(text) or _PUT.match(text)):
        return None
    found = several_in_body(match["body"], now) or add_intent(match["body"], now)
    if isinstance(found, AddTask) and "prio" in match.re.groupindex and match["prio"]:
        priority = PRIORITY_WORDS[match["prio"].lower()]
        found = AddTask({**found.args, "priority": priority})
    if isinstance(found, AddTask) and _REMIND.match(text) and "T" in found.args.get("due", ""):
        # "remind me at 8am tomorrow to call grandma": a reminder at that moment, too.
        found = AddTask({"reminders": [{"before": "PT0M"}], **found.args})
    return found


_REMIND = _re(r"^remind\s+me\b")
# "set a reminder for the visa documents tomorrow at 9am": a reminder on the task named, if
# one is; else a new task, as before ("set a reminder for the car service next month").
_REMINDER_FOR = _re(
    r"^(?:set|add|create|make|put)\s+(?:a\s+|an\s+)?reminder\s+(?:for|about|on)\s+"
    r"(?P<t>[^,]+?(?<!\s))\s+(?P<when>(?:at|on|tomorrow|tonight|today|this|next|in)\b.*)$"
)


def _reminder_for(text: str, now: datetime) -> Intent | None:
    if not (match := _REMINDER_FOR.match(text)) or not content_words(match["t"]):
        return None
    if (reminder := reminder_at(match["when"], now)) is None:
        return None
    otherwise = _add_command(text, now)
    if otherwise is None:
        return None
    return IfNamed(
        match["t"], ActOnTask("update", ByContext(), {"reminders": [reminder]}), otherwise
    )


def _named_for_sure(text: str, now: datetime) -> Intent | None:
    """ "task 3 done" names its task for sure; "groceries done" only if it is no list query."""
    told = suffix_intent(text)
    return told if told is not None and not isinstance(told.target, ByWords) else None


def _named_by_words(text: str, now: datetime) -> Intent | None:
    return suffix_intent(text)


def _casual(text: str, now: datetime) -> Intent | None:
    return casual_intent(text)


# "the haircut isn't done, mark it incomplete": a statement naming a task, then what to do
# to "it". Cut at the last comma, semicolon or dash (string search: no pattern rescans).
_TAIL_CUTS = (",", ";", " - ")


def _then_it(text: str, now: datetime) -> Intent | None:
    cut = max(text.rfind(mark) for mark in _TAIL_CUTS)
    if cut <= 0:
        return None
    head, tail = text[:cut], text[cut:].lstrip(",; -")
    try:
        change = _bare_verb(tail) or act_intent(tail, now)
    except SeveralTasks:
        return None
    if not (isinstance(change, ActOnTask) and isinstance(change.target, ByContext)):
        return None
    head = _subject(head)
    return Named(change, head) if content_words(head) else None


# "the bread isn't bought yet": what the sentence is about comes before its verb.
_PREDICATE = _re(
    r"(?<=\w)(?:'s|\s++(?:is|isn'?t|was|wasn'?t|are|aren'?t|has|hasn'?t|have|haven'?t|got"
    r"|still|never|didn'?t|doesn'?t|won'?t)\b)"
)
_NO_LEAD = _re(r"^(?:(?:no|nope|wait|oh|hmm+|actually|sorry|oops)\b[\s,!.]*+)++")


def _subject(head: str) -> str:
    """ "the bread isn't bought yet" -> "the bread"; "Expense report submitted" -> "Expense
    report": the words that name the task, without what is said of it."""
    head = _NO_LEAD.sub("", head)
    if (verb := _PREDICATE.search(head)) and content_words(head[: verb.start()]):
        return head[: verb.start()]
    words = head.split()
    if len(words) > 1 and (words[-1].lower().endswith("ed") or words[-1].lower() in _DONE_WORDS):
        return " ".join(words[:-1])
    return head


_DONE_WORDS = frozenset({"sent", "done", "paid", "bought", "made", "out", "gone", "sorted"})


Reader = Callable[[str, datetime], Intent | None]
# The readers a request goes through, in order; the first that reads it wins. A reader
# that finds several tasks named at once raises SeveralTasks (explained, if none reads it).
READERS: tuple[Reader, ...] = (
    _pick,
    list_request,
    followup_intent,
    question_intent,
    _then_it,
    list_header,
    explicit_update,
    reminder_intent,
    _reminder_for,
    shift_intent,
    add_to_list,
    _add_command,
    act_intent,
    _casual,
    _named_for_sure,
    list_intent,
    _named_by_words,
)


def _command(text: str, now: datetime) -> Intent | None:
    """A request with an explicit verb, else None."""
    several = False  # a verb aimed at several tasks: explain, unless another reader reads it
    for read in READERS:
        try:
            if found := read(text, now):
                return found
        except SeveralTasks:
            several = True
    return Clarify(ONE_AT_A_TIME) if several else None


def is_yes(text: str) -> bool:
    """True when the message only says yes ("yes", "sure, go ahead")."""
    return bool(_YES.match(normalize(text)[0]))


def parse(text: str, now: datetime) -> Intent:
    """What one user message asks for; `now` is aware, in the user's zone."""
    if items := listed_items(text):
        listed = several_added(items, now)
        if (name := header_list(text)) and isinstance(listed, AddSeveral):
            # "add to classroom list:\n- glue sticks": each item goes in that list
            return AddSeveral(tuple(AddTask({**one.args, "list": name}) for one in listed.adds))
        return listed
    plain_text, greeted = normalize(text)
    if len(_NOTES.split(plain_text, maxsplit=1)[0]) > MAX_COMMAND_CHARS:
        return Clarify(TOO_LONG)
    for read in FALLBACKS:
        if (found := read(text, plain_text, now)) is not None:
            return _asked_not_told(text, plain_text, found)
    return Help("greeting" if greeted else "unknown")


_ASKING = _re(
    r"^(?:is|are|was|were|am|do|does|did|have|has|had|should|shall|what|whats|what's|when"
    r"|where|which|who|why|how|isn't|aren't|didn't|haven't|hasn't|doesn't|don't)\b"
)
ONLY_A_QUESTION = (
    "That reads as a question, so I changed nothing. To change a task, ask for it: "
    "“mark the laundry done”, “move the dentist to friday”."
)


def _asked_not_told(text: str, plain_text: str, found: Intent) -> Intent:
    """A question ("is the report done?") never changes a task, whatever else it reads as."""
    if (
        text.rstrip().endswith("?")
        and _ASKING.match(plain_text)
        and (_changes_tasks(found) or isinstance(found, Both | Named | MoveMatching | Unclear))
    ):
        return Clarify(ONLY_A_QUESTION)
    return found


def _as_said(text: str, plain_text: str, now: datetime) -> Intent | None:
    return _parse(text, now)


def _slip_fixed(text: str, plain_text: str, now: datetime) -> Intent | None:
    """ "delte task 3", "remnd me to call grandma": one slip in the command word."""
    first, _, rest = plain_text.partition(" ")
    fixed = one_slip_from(first, COMMAND_WORDS) if rest else None
    return _parse(f"{fixed} {rest}", now) if fixed else None


def _more_of_the_same(text: str, plain_text: str, now: datetime) -> Intent | None:
    """ "and the bread": the last request again, for another task."""
    if _AND_MORE.match(text) and not _STATEMENT_START.match(plain_text):
        return Also(plain_text)
    return None


def _plain_list(text: str, plain_text: str, now: datetime) -> Intent | None:
    """ "today's tasks", "work stuff this week": a list asked for without a verb."""
    if plain_text.split(" ", 1)[0].lower() in TODO_VERBS or not _TASKS_NOUN.search(plain_text):
        return None
    return _as_list(plain_text, now)


def _unclear(text: str, plain_text: str, now: datetime) -> Intent | None:
    try:
        return unclear_intent(plain_text, text, now)
    except DateError as exc:
        return Clarify(f"{exc} {DATE_HINT}")


# "add milk and mark task 3 done": a second request starts with a command verb after "and",
# "then", ";" or ". " (each cut tried once; at most a few).
_SECOND_REQUEST = _re(
    r"(?<!\s)\s*+(?:[,;.]\s*+)?(?:\band\s+then\s+|\band\s+also\s+|\bthen\s+|\band\s+|(?<=[;.])"
    r"|(?<=[;.]\s))"
    r"(?=(?:add|mark|move|delete|remove|complete|finish|change|set|make|rename|tag|reschedule"
    r"|postpone|push|put|check|tick|cross|reopen|remind|bump|cancel|untag)\b)"
)
MAX_CUTS = 3


def _changes_tasks(intent: Intent | None) -> bool:
    if isinstance(intent, ActOnTask):
        return intent.action != "show"
    return isinstance(intent, AddTask | AddSeveral)


def _plain_change(one: Intent) -> bool:
    """An update of fields to "it", with nothing relative to what the task holds now."""
    return (
        isinstance(one, ActOnTask)
        and one.action == "update"
        and isinstance(one.target, ByContext)
        and not (one.shift or one.at or one.retitle or one.remove_tags)
    )


def _one_update(first: Intent, second: ActOnTask) -> ActOnTask | None:
    """Two plain field changes to the same "it", as one update; else None."""
    if not (isinstance(first, ActOnTask) and _plain_change(first) and _plain_change(second)):
        return None
    if first.args.keys() & second.args.keys():
        return None  # "make it high and make it low": not one change
    args = {**first.args, **second.args}
    return replace(second, args=args, add_tags=first.add_tags + second.add_tags)


def _two_requests(text: str, plain_text: str, now: datetime) -> Intent | None:
    """Two requests in one message, each read on its own; "it" in the second is the first's."""
    for match in list(_SECOND_REQUEST.finditer(plain_text))[:MAX_CUTS]:
        first = _parse(plain_text[: match.start()], now)
        second = _parse(plain_text[match.end() :], now)
        if first is None or second is None:
            continue
        if not (_changes_tasks(first) and _changes_tasks(second)):
            continue
        if isinstance(second, ActOnTask) and isinstance(second.target, ByContext):
            if (merged := _one_update(first, second)) is not None:
                return merged  # "put that in Work and make it urgent": one change to "it"
            if isinstance(first, ActOnTask) and not isinstance(first.target, ByContext):
                second = replace(second, target=first.target)
            elif (
                isinstance(first, AddTask)
                and second.action == "update"
                and not (second.shift or second.at or second.add_tags or second.remove_tags)
            ):
                return AddTask({**first.args, **second.args})  # "add X and remind me ..."
            else:
                continue
        return Both(first, second)
    return None


# How a message is read, in order: as two requests, as said, with a slip in its command word
# fixed, as more of the same, as a plain list, and last as a sentence to check against the
# user's tasks.
FALLBACKS: tuple[Callable[[str, str, datetime], Intent | None], ...] = (
    _two_requests,
    _as_said,
    _slip_fixed,
    _more_of_the_same,
    _plain_list,
    _unclear,
)


_TASKS_NOUN = _re(r"\b(?:tasks|todos|to-dos|agenda|stuff|things|reminders)\b")


# "and the bread", "also the gym": more of the same, said as the message's start.
_AND_MORE = _re(r"^\s*+(?:(?:oh|ah)[\s,]++)?(?:and|also|plus)\b")
_STATEMENT_START = _re(r"^(?:i|we|you|it|it's|that|this|there|what|how|why|when|where)\b")


def _as_list(text: str, now: datetime) -> ListTasks | None:
    return list_intent(f"show {text}", now)


# Notes may run on after one of these words; the request before them may not.
_NOTES = re.compile(r"\b(?:notes?|description|details|comments?)\b", _I)


def _small_talk(plain: str, said: str, greeted: bool) -> Help | None:
    if not plain:
        return Help("greeting" if greeted else "thanks" if _THANKS_WORD.search(said) else "ack")
    for pattern, kind in _SMALL_TALK_KINDS:
        if pattern.match(plain):
            return Help(kind)
    return Help("greeting") if _GREETING.fullmatch(plain) else None


_SMALL_TALK_KINDS: tuple[
    tuple[re.Pattern[str], Literal["help", "thanks", "ack", "greeting", "bye"]], ...
] = (
    (_HELP, "help"),
    (_THANKS, "thanks"),
    (_ACK, "ack"),
    (_SMALL_TALK, "greeting"),
    (_BYE, "bye"),
)


def _bare_verb(text: str) -> Intent | None:
    """ "delete" alone means the task just added or shown; with none, it asks which."""
    if not (match := _BARE_VERB.match(text)):
        return None
    verb = (match["verb"] or match["verb2"]).split()[0].lower()
    if verb == "show":
        return (
            ListTasks({})
            if match[0].lower().endswith(("show", "me"))
            else ActOnTask("show", ByContext())
        )
    return ActOnTask(_BARE_ACTIONS.get(verb, "complete"), ByContext())


def _parse(text: str, now: datetime) -> Intent | None:
    said = text
    text, greeted = normalize(text)
    plain = _BANG_MARK.sub("", text).strip()  # small talk with a "!" of its own
    if found := _small_talk(plain, said, greeted):
        return found
    if _UNDO.match(text):
        return Undo()
    try:
        return _bare_verb(text) or _command(text, now) or _soft_add(text, now)
    except SeveralTasks:
        return Clarify(ONE_AT_A_TIME)
    except DateError as exc:
        return Clarify(f"{exc} {DATE_HINT}")


def _soft_add(text: str, now: datetime) -> Intent | None:
    """ "I need to finish the report" is a new task; "I want to see my tasks" is a command."""
    if not (match := _SOFT_ADD.match(text)):
        return None
    body = match["body"] or match["body2"] or match["body3"]
    found = _command(body, now)
    verb = " ".join((match["verb"] or "").lower().split())
    wants = verb.startswith("'d") or verb.endswith(("want to", "would like to"))
    vague = isinstance(found, ActOnTask) and isinstance(found.target, ByWords)
    if isinstance(found, ActOnTask | ListTasks) and (wants or not vague):
        return found
    return found if isinstance(found, AddTask | AddSeveral) else add_intent(body, now)
