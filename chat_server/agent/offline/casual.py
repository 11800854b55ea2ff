"""Casual ways to say a task is done or no longer wanted.

"I bought the milk", "called the plumber", "walked the dog already" complete the task
whose title starts with that verb (one found that does not, "I sold the car" finding "Car
wash", is asked about first); "I finished the report" completes the task the words name;
"I missed the dentist" or "postponed the car wash" complete nothing. "I don't need to buy
milk anymore", "forget about the car wash", "nevermind the dentist" delete the task. The
task is still looked up (and asked about when several match) by the model, as for any task
named by words.
"""

import re
from collections.abc import Callable

from chat_server.agent.offline.intents import ActOnTask, ByContext, ByNames, ByWords, Help, Intent
from chat_server.agent.offline.phrases import core_words, parse_ref

_I = re.IGNORECASE
_T = r"(?P<t>.+?)"

IRREGULAR_PAST = {
    "bought": ("buy",), "paid": ("pay",), "sent": ("send",), "wrote": ("write",),
    "took": ("take",), "made": ("make",), "got": ("get", "buy", "pick up", "grab", "collect"),
    "picked": ("pick", "collect", "get"), "grabbed": ("grab", "buy", "get", "pick up"),
    "went": ("go",), "did": ("do",),
    "read": ("read",), "put": ("put",), "brought": ("bring",), "met": ("meet",),
    "left": ("leave",), "found": ("find",), "gave": ("give",), "sold": ("sell",),
    "told": ("tell",), "spoke": ("speak",), "drove": ("drive",), "ate": ("eat",),
    "fed": ("feed",), "swept": ("sweep",), "hung": ("hang",), "ran": ("run",),
    "rang": ("ring",), "set": ("set",), "cut": ("cut",), "won": ("win",), "built": ("build",),
    # Participles that differ from the past tense: "the demo script is written".
    "written": ("write",), "taken": ("take",), "given": ("give",), "eaten": ("eat",),
    "driven": ("drive",), "ridden": ("ride",), "chosen": ("choose",),
    "drawn": ("draw",), "mown": ("mow",), "thrown": ("throw",), "spoken": ("speak",),
}  # fmt: skip
# Past tenses that say "done" about any task, whatever its title's first word.
_DONE_ANY = frozenset(
    {"did", "finished", "completed", "handled", "sorted", "tackled", "wrapped", "ticked"}
    | {"checked", "crossed", "knocked", "managed"}
)
# -ed words that say something other than "I did it".
_NOT_DONE = frozenset(
    {"need", "needed", "wanted", "added", "used", "tried", "forgot", "forgotten", "meant"}
    | {"planned", "wished", "hoped", "decided", "started", "scheduled", "supposed"}
    | {"missed", "skipped", "postponed", "delayed", "rescheduled", "moved", "cancelled"}
    | {"canceled", "failed", "ignored", "changed", "updated", "edited", "renamed", "tagged"}
)
_PAST = re.compile(
    r"^(?:(?:i|we)\s+|i'?ve\s+|we'?ve\s+)?(?:(?:have|has|just|already|finally|also)\s+)*"
    r"(?P<verb>[a-z]+ed|"
    + "|".join(IRREGULAR_PAST)
    + r")\s+"
    + _T
    + r"(?:\s+(?:already|just\s+now|earlier|today|finally|at\s+last|too))*$",
    _I,
)
_NO_LONGER = re.compile(
    r"^(?:i\s+|we\s+)?(?:(?:don'?t|do\s+not|no\s+longer)\s+(?:need|have|want)|"
    r"(?:don'?t|do\s+not)\s+(?:need|have|want)\s+to\s+worry\s+about)\s+(?:to\s+)?"
    + _T
    + r"(?:\s+(?:any\s*more|any\s+longer))?$",
    _I,
)
_NEEDS_ANYMORE = re.compile(r"\b(?:no\s+longer|any\s*more|any\s+longer)\b", _I)
# "I cleaned up", "I sorted it out": no words left that could name a task.
_PARTICLES = frozenset({"up", "out", "off", "in", "on", "down", "over", "away", "back", "it"})
_FORGET = re.compile(
    r"^(?:forget(?:\s+about)?|never\s*mind(?:\s+about)?|nvm|skip|scratch)\s+" + _T + "$", _I
)


_PRONOUN = re.compile(r"^(?:i|we|you)\b", _I)


def _asks(match: re.Match[str]) -> bool:
    """ "did I book the flights": a question, not something done."""
    return bool(_PRONOUN.match(match["t"]))


# A stem this short keeps its double letter: "added" is not "ad".
SHORT_STEM = 2


def past_forms(verb: str) -> tuple[str, ...]:
    """The present forms a past-tense verb may come from: "walked" -> walk; "tried" -> try."""
    verb = verb.lower()
    if verb in IRREGULAR_PAST:
        return IRREGULAR_PAST[verb]
    stem = verb[:-2]
    forms = [stem, verb[:-1]]  # walked -> walk; prepared -> prepare
    if len(stem) > SHORT_STEM and stem[-1] == stem[-2]:
        forms.append(stem[:-1])  # submitted -> submit
    if stem.endswith("i"):
        forms.append(stem[:-1] + "y")  # tried -> try
    return tuple(forms)


# "flights booked", "rent paid!", "laundry all done": the task, then what was done to it.
_DONE_AFTER = re.compile(
    r"^(?:the\s+|my\s+)?(?P<t>[^,\s][^,]*?(?<!\s))\s++(?:(?:is|are|was|were|has\s+been"
    r"|have\s+been)\s+)?(?:(?:all|now|finally|just)\s+)?(?P<verb>[a-z]+ed|"
    + "|".join(IRREGULAR_PAST)
    + r")(?:\s+(?:already|just\s+now|today|finally|at\s+last|too|now))?$",
    _I,
)
MAX_NAME_WORDS = 4  # "flights booked": a short name, not a sentence
_NOT_A_PARTICIPLE = (
    _NOT_DONE
    | {"red", "bed", "need", "seed", "feed", "speed", "shed", "wed"}
    | {"left", "read", "set", "put", "cut"}
)


def _done_after(text: str) -> Intent | None:
    match = _DONE_AFTER.match(text)
    if match is None or match["verb"].lower() in _NOT_A_PARTICIPLE:
        return None
    if not isinstance(parse_ref(match["t"]), ByWords):
        return None
    words = core_words(match["t"])
    if not words or len(words.split()) > MAX_NAME_WORDS:
        return None
    verb = match["verb"].lower()
    verbs = () if verb in _DONE_ANY else past_forms(verb)
    if len(pieces := _AND_THE.split(match["t"])) > 1:
        # "emailed the landlord and the school": the same verb, done to each.
        return ActOnTask("complete", ByNames(tuple(ByWords(core_words(p), verbs) for p in pieces)))
    return ActOnTask("complete", ByWords(words, verbs))


_AND_THE = re.compile(r"(?<!\s)\s++and\s++(?=(?:the|my|our)\s)", _I)


# "I didn't walk the dog", "I haven't paid the rent yet": a completed task is not done.
_DID_NOT = re.compile(
    r"^(?:i|we)\s+(?:didn'?t|did\s+not|haven'?t|have\s+not|never)\s+(?:actually\s+|really\s+"
    r"|even\s+)?(?P<verb>[a-z]+)\s+" + _T + r"(?:\s+(?:yet|after\s+all|actually))?$",
    _I,
)
# "the rent isn't paid yet", "the flights weren't booked after all".
_NOT_DONE_AFTER = re.compile(
    r"^(?:the\s+|my\s+)?(?P<t>[^,\s][^,]*?(?<!\s))\s++(?:isn'?t|wasn'?t|is\s+not|was\s+not"
    r"|aren'?t|weren'?t|hasn'?t\s+been|haven'?t\s+been)\s+(?:actually\s+|really\s+)?"
    r"(?P<verb>[a-z]+ed|" + "|".join(IRREGULAR_PAST) + r")(?:\s+(?:yet|after\s+all))?$",
    _I,
)
# Verbs after "I didn't" that say nothing about a task being done.
_NOT_ABOUT_DOING = frozenset({"add", "want", "need", "mean", "say", "ask", "know", "think"})


def _not_done(text: str) -> Intent | None:
    for pattern in (_DID_NOT, _NOT_DONE_AFTER):
        match = pattern.match(text)
        verb = match["verb"].lower() if match else ""
        if not match or verb in _NOT_ABOUT_DOING or verb in _NOT_A_PARTICIPLE - {"set", "put"}:
            continue
        if isinstance(parse_ref(match["t"]), ByWords):
            return ActOnTask("reopen", ByWords(core_words(match["t"])))
    return None


def _no_longer(text: str) -> Intent | None:
    """ "I don't need to buy milk anymore": delete it."""
    match = _NO_LONGER.match(text)
    if match and _NEEDS_ANYMORE.search(text) and (target := parse_ref(match["t"])):
        return ActOnTask("delete", target)
    return None


def _forget(text: str) -> Intent | None:
    """ "forget about the car wash" deletes it; "forget it" drops the request, not a task."""
    if not (match := _FORGET.match(text)):
        return None
    target = parse_ref(match["t"])
    if target is None or isinstance(target, ByContext):
        return Help("ack")
    return ActOnTask("delete", target)


# "called mom and paid the bill": another past tense after "and" starts another task.
_AND_DID = re.compile(
    r"(?<!\s)\s++and\s++(?=(?:[a-z]+ed|" + "|".join(IRREGULAR_PAST) + r")\s)", _I
)
# Past tenses spelt as their verb: said first ("put standup at 10"), they are commands.
_SAME_AS_BASE = frozenset({"put", "set"})


def _did_several(text: str) -> Intent | None:
    """ "called mom and paid the electricity bill": each task done, when each part reads so."""
    parts = _AND_DID.split(text)
    if len(parts) < 2:  # noqa: PLR2004 - one part is no list
        return None
    names = [_did_one(part) for part in parts]
    words = [n.target for n in names if isinstance(n, ActOnTask) and isinstance(n.target, ByWords)]
    return ActOnTask("complete", ByNames(tuple(words))) if len(words) == len(parts) else None


def _did(text: str) -> Intent | None:
    """ "I bought the milk": complete the task that starts with that verb."""
    return _did_several(text) or _did_one(text)


def _did_one(text: str) -> Intent | None:
    match = _PAST.match(text)
    if not match or _asks(match) or match["verb"].lower() in _NOT_DONE:
        return None
    if match.start("verb") == 0 and match["verb"].lower() in _SAME_AS_BASE:
        return None
    target = parse_ref(match["t"])
    if not isinstance(target, ByWords):
        return None if target is None else ActOnTask("complete", target)
    words = core_words(match["t"])
    if not set(words.lower().split()) - _PARTICLES:
        return None  # "I cleaned up": nothing left that names a task
    verb = match["verb"].lower()
    verbs = () if verb in _DONE_ANY else past_forms(verb)
    if len(pieces := _AND_THE.split(match["t"])) > 1:
        # "emailed the landlord and the school": the same verb, done to each.
        return ActOnTask("complete", ByNames(tuple(ByWords(core_words(p), verbs) for p in pieces)))
    return ActOnTask("complete", ByWords(words, verbs))


# The casual readers, in order; the first that reads the sentence wins.
CASUAL: tuple[Callable[[str], Intent | None], ...] = (
    _not_done,
    _no_longer,
    _forget,
    _did,
    _done_after,
)


def casual_intent(text: str) -> Intent | None:
    """A casual "I did it" or "I don't need it" about one task, else None."""
    for read in CASUAL:
        if found := read(text):
            return found
    return None
