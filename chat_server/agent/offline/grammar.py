"""The offline model's grammar: one English sentence plus "now" -> an intent with tool args.

Pure functions only. `parse(text, now)` reads the sentence; `now` is an aware datetime in the
user's zone, so "tomorrow" and "friday" are the user's days and times come out in UTC.
This module tidies the sentence and decides which kind of request it is; the kinds live in
commands.py (one task), queries.py (lists) and phrases.py (adding, and the
words that name a task or set its fields), the results in intents.py.
"""

import re
from datetime import datetime

from chat_server.agent.offline.casual import casual_intent
from chat_server.agent.offline.commands import act_intent, explicit_update, suffix_intent
from chat_server.agent.offline.dates import DateError
from chat_server.agent.offline.fuzzy import COMMAND_WORDS, one_slip_from
from chat_server.agent.offline.intents import (
    Action,
    ActOnTask,
    AddSeveral,
    AddTask,
    ByContext,
    ById,
    ByPosition,
    ByWords,
    Clarify,
    Help,
    Intent,
    ListTasks,
    Pick,
    Undo,
)
from chat_server.agent.offline.phrases import (
    DATE_HINT,
    ORDINALS,
    POSITION_REF,
    PRIORITY_WORD,
    PRIORITY_WORDS,
    SeveralTasks,
    add_intent,
    extract_fields,
    strip_tail,
)
from chat_server.agent.offline.queries import QUESTION_START, list_intent
from chat_server.agent.offline.shifts import shift_intent

ONE_AT_A_TIME = (
    "I can only work on one task at a time. Tell me which one, by number "
    "(“task 3”) or by words from its title (“the milk one”)."
)

_I = re.IGNORECASE


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


# ---------------------------------------------------------------- normalising

_TRANSLATE = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-"})
_GREETING_WORDS = r"hey|hi|hello|hiya|yo|howdy|greetings|good\s+(?:morning|afternoon|evening)"
_LEAD = re.compile(
    r"^(?:(?:" + _GREETING_WORDS + r"|ok(?:ay)?|so|oh|also|and|actually|now|then|alright|um+|uh+"
    r"|well|great|cool|please|pls|plz|kindly|just|quickly)\b(?:\s+there\b)?[\s,!.:;-]*"
    r"|(?:can|could|would|will)\s+you\s+|(?:go\s+ahead\s+and|let'?s)\s+)+",
    _I,
)
_GREETING = re.compile(r"\b(?:" + _GREETING_WORDS + r")\b", _I)
_TRAIL = re.compile(r"\b(?:please|pls|plz|thanks|thank\s+you|thx|for\s+me)$", _I)
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


# Apple Reminders' priority marks, as words of their own: "!!!" high, "!!" medium, "!" low;
# "!!" and "!!!" also right after a word ("file taxes!!!"), where one "!" is just emphasis.
_BANGS = re.compile(r"(?:^|(?<=\s))(!{1,3})(?=\s|$)|(?<=\w)(!{2,3})(?=\s|$)")
_BANG_LEVELS = {"!!!": "!high", "!!": "!medium", "!": "!low"}
_BANG_MARK = re.compile(r"(?<!\s)\s*+!(?:high|medium|low)\b", _I)


def normalize(text: str) -> tuple[str, bool]:
    """The request without greetings, politeness and end punctuation; and whether it greeted."""
    text = " ".join(text.translate(_TRANSLATE).split())
    lead = _LEAD.match(text)
    greeted = bool(lead and _GREETING.search(lead[0]))
    if lead:
        text = text[lead.end() :]
    text = _BANGS.sub(lambda m: _BANG_LEVELS[m[1]] if m[1] else f" {_BANG_LEVELS[m[2]]}", text)
    return strip_tail(text, _TRAIL, ",.!?;:"), greeted


# ---------------------------------------------------------------- adding

_ADD = re.compile(
    r"^(?:(?:add|put)\s+(?:to|on|onto)\s+(?:my|the)\s+(?:\w+\s+)?list\s*[:,-]?"
    r"|(?:add|create|jot\s+down|note\s+down|write\s+down)(?:\s+(?:a|an|the|another|one\s+more"
    r"|new|(?P<prio>" + PRIORITY_WORD + r")(?:[\s-]+priority)?))*\s+(?:task|todo|to-do|item"
    r"|reminder|entry)s?\b"
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
# "put X on my list": `put` is an add only with the list named.
_PUT = re.compile(r"^put\s+(?P<body>.+?\s+(?:on|to|onto|in)\s+(?:my|the)\s+(?:\w+\s+)?list)$", _I)
_POLITE_END = re.compile(r"(?<![\s,])[\s,]++(?:please|pls|plz)[\s.!]*+$", _I)
_YES = re.compile(
    r"^(?:yes|yep|yeah|yup|sure|ok(?:ay)?|y|go\s+ahead|do\s+it|please\s+do|confirm(?:ed)?"
    r"|yes\s+please|that'?s\s+right|correct)$",
    _I,
)
_SOFT_ADD = re.compile(
    r"^(?:i|we)(?P<verb>'d\s+like\s+to|\s+(?:really\s+|still\s+|also\s+|just\s+)?(?:(?:need|have|got"
    r"|want|would\s+like|ought)\s+to|must|should|gotta))\s+(?P<body>.+)$"
    r"|^(?:i'?ve|we'?ve)\s+got\s+to\s+(?P<body2>.+)$",
    _I,
)


# ---------------------------------------------------------------- entry point

_PICK_NUMBER = _re(
    r"^(?:(?:it'?s|it\s+is|i\s+mean|i\s+meant|i\s+said|the\s+one\s+with|that'?s)\s+)?"
    r"(?:task\s*|number\s*|no\.?\s*|#)?(\d{1,9})$"
)
_I_MEAN = _re(r"^(?:i\s+mean|i\s+meant)\s+")
_BARE_VERB = _re(
    r"^(?P<verb>delete|remove|complete|finish|check\s+off|cross\s+off|reopen|show)(?:\s+(?:it|me))?$"
)
_BARE_ACTIONS: dict[str, Action] = {"delete": "delete", "remove": "delete", "reopen": "reopen"}
_UNDO = _re(r"^(?:undo|revert|reverse|take\s+back)(?:\s+(?:that|it|this|the\s+last(?:\s+change)?"
             r"|my\s+last(?:\s+change)?|what\s+you\s+(?:just\s+)?did))?$")  # fmt: skip


def _command(text: str, now: datetime) -> Intent | None:
    """A request with an explicit verb, else None."""
    if match := _PICK_NUMBER.match(text):
        return Pick(ById(int(match[1])))
    if match := POSITION_REF.match(_I_MEAN.sub("", text)):
        return Pick(ByPosition(ORDINALS[match[1].lower()]))
    several = False  # a verb aimed at several tasks: explain, unless it reads as a list query
    try:
        if found := explicit_update(text, now):
            return found
    except SeveralTasks:
        several = True
    if found := shift_intent(text, now):
        return found
    if match := _ADD.match(text) or _PUT.match(text):
        found = add_intent(match["body"], now)
        if isinstance(found, AddTask) and "prio" in match.re.groupindex and match["prio"]:
            priority = PRIORITY_WORDS[match["prio"].lower()]
            found = AddTask({**found.args, "priority": priority})
        return found
    try:
        if found := act_intent(text, now):
            return found
    except SeveralTasks:
        several = True
    if found := casual_intent(text):
        return found
    try:
        told = suffix_intent(text)
    except SeveralTasks:
        several, told = True, None
    # "task 3 done" names its task for sure; "groceries done" only if it is no list query.
    if told is not None and not isinstance(told.target, ByWords):
        return told
    if found := list_intent(text, now):
        return found
    if told is not None:
        return told
    return Clarify(ONE_AT_A_TIME) if several else None


def is_yes(text: str) -> bool:
    """True when the message only says yes ("yes", "sure, go ahead")."""
    return bool(_YES.match(normalize(text)[0]))


def parse(text: str, now: datetime) -> Intent:
    """What one user message asks for; `now` is aware, in the user's zone."""
    found = _parse(text, now)
    if isinstance(found, Help) and found.kind == "unknown":
        # "delte task 3", "addd call grandma": one slip in the command word.
        first, _, rest = normalize(text)[0].partition(" ")
        if rest and (fixed := one_slip_from(first, COMMAND_WORDS)):
            return _parse(f"{fixed} {rest}", now)
    return found


def _parse(text: str, now: datetime) -> Intent:
    said = text
    text, greeted = normalize(text)
    plain = _BANG_MARK.sub("", text).strip()  # small talk with a "!" of its own
    if not plain:
        return Help("greeting" if greeted else "thanks" if _THANKS_WORD.search(said) else "ack")
    if _HELP.match(plain):
        return Help("help")
    if _THANKS.match(plain):
        return Help("thanks")
    if _ACK.match(plain):
        return Help("ack")
    if _GREETING.fullmatch(plain) or _SMALL_TALK.match(plain):
        return Help("greeting")
    if _BYE.match(plain):
        return Help("bye")
    if _UNDO.match(text):
        return Undo()
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
            return found if isinstance(found, AddTask | AddSeveral) else add_intent(body, now)
    except SeveralTasks:
        return Clarify(ONE_AT_A_TIME)
    except DateError as exc:
        return Clarify(f"{exc} {DATE_HINT}")
    return _bare_task(text, said, now) or Help("greeting" if greeted else "unknown")


def _bare_task(text: str, said: str, now: datetime) -> AddTask | AddSeveral | None:
    """A verbless `buy milk tomorrow`: a due date, priority, tag or a "please" says it is a task."""
    if said.rstrip().endswith("?") or QUESTION_START.match(text):
        return None
    try:
        fields, _ = extract_fields(text, now)
    except DateError:
        return None
    polite = bool(_POLITE_END.search(said)) and len(text.split()) > 1
    if not polite and not fields.keys() & {"due", "priority", "tags", "recurrence"}:
        return None
    found = add_intent(text, now)
    return found if isinstance(found, AddTask | AddSeveral) else None
