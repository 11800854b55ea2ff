"""A sentence that reads as no command. It changes a task only when it names one the user
has ("the vet appointment is actually on the 20th"), found among their own titles by the
model (steps.py lists them first); else it is added only when it plainly reads as a to-do
with something that makes it one (a date, a priority, a tag, "please"); else the model asks.
"""

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from chat_server.agent.offline import replies
from chat_server.agent.offline.acting import FUZZY_PAGE, act
from chat_server.agent.offline.dates import UNREAD_DATE
from chat_server.agent.offline.intents import ActOnTask, ById, Named, Unclear
from chat_server.agent.offline.phrases import AT_ONLY, clean_title, extract_fields, time_only
from chat_server.agent.offline.repeats import first_due
from chat_server.agent.offline.several import TODO_VERBS
from chat_server.agent.offline.turns import Call, Conversation, Replay, Say, Step, Task, finish

_I = re.IGNORECASE
_QUESTION = re.compile(
    r"^(?:what|which|who|whom|whose|why|how|when|where|any|anything|do|does|did|have|has|had"
    r"|is|are|was|were|am|can|could|would|will|should|shall|may|might|must)\b",
    _I,
)
_POLITE_END = re.compile(r"(?<![\s,])[\s,]++(?:please|pls|plz)[\s.!]*+$", _I)
# Words that make a sentence a statement about something, never a to-do's title.
_STATEMENT = frozenset(
    [
        "i",
        "i'm",
        "im",
        "i've",
        "i'd",
        "i'll",
        "me",
        "my",
        "we",
        "we're",
        "we've",
        "us",
        "our",
        "you",
        "you're",
        "your",
        "he",
        "she",
        "they",
        "it",
        "it's",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "is",
        "are",
        "was",
        "went",
        "were",
        "am",
        "be",
        "been",
        "being",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "not",
        "no",
        "never",
        "actually",
        "really",
        "already",
        "just",
        "still",
        "anymore",
        "any",
        "more",
        "lol",
        "haha",
        "thanks",
        "thank",
        "hi",
        "hello",
        "ok",
        "okay",
        "yes",
        "yeah",
        "yep",
        "nope",
        "needs",
        "need",
        "should",
        "must",
        "will",
        "has",
        "had",
        "gets",
        "got",
        "think",
        "guess",
        "hope",
        "wish",
        "feel",
        "seems",
        "isnt",
        "didn't",
        "don't",
        "doesn't",
        "haven't",
        "hasn't",
        "won't",
        "wasnt",
        "didnt",
        "dont",
        "doesnt",
        "havent",
        "nvm",
        "nevermind",
        "forget",
    ]
)
# "the report's due monday": "'s" before a field word says "is".
# Verbs that change a task that exists: a sentence led by one is never a new task's title
# ("flag the report as important", "repeat the plant watering every week").
EDIT_VERBS = frozenset(
    [
        "move",
        "moved",
        "bump",
        "bumped",
        "push",
        "pushed",
        "update",
        "updated",
        "edit",
        "rename",
        "renamed",
        "reschedule",
        "rescheduled",
        "postpone",
        "postponed",
        "delay",
        "delayed",
        "shift",
        "flag",
        "flagged",
        "star",
        "starred",
        "pin",
        "pinned",
        "mark",
        "marked",
        "label",
        "labelled",
        "labeled",
        "tag",
        "tagged",
        "untag",
        "prioritise",
        "prioritize",
        "deprioritise",
        "deprioritize",
        "raise",
        "lower",
        "demote",
        "promote",
        "repeat",
        "recur",
    ]
)
_IS_BEFORE_FIELD = re.compile(
    r"(?:\w's|\b(?:is|are))\s+(?:due|not|actually|now|on|at|for|high|low|urgent)\b", _I
)
MAX_TODO_WORDS = 10
_CHANGED = re.compile(
    r"\b(?:instead|rather\s+than|not\s+anymore|any\s*more|after\s+all|isn'?t|aren'?t)\b", _I
)
_VERB_AT = 2  # "the recycling goes": the verb after "the" and one noun


def reads_as_todo(rest: str, said: str) -> bool:
    """Whether the words left after the fields plainly read as a task's title."""
    words = [w.strip(',.!:;"') for w in rest.lower().split()]
    if not words or len(words) > MAX_TODO_WORDS or said.rstrip().endswith("?"):
        return False
    # "review sundays, repeating": a date or repeat no reader took is no title either;
    # "classroom list pls": a list asked for, not a task to add
    if _QUESTION.match(rest) or _IS_BEFORE_FIELD.search(said) or words[0] in EDIT_VERBS:
        return False
    if words[-1] in {"list", "lists"} or UNREAD_DATE.search(rest) or _CHANGED.search(said):
        return False  # "gym today at 7pm instead of 6": a change to what there is
    if any(w in EDIT_VERBS and w.endswith("ed") for w in words[1:]):
        return False  # "roadmap deadline moved to 4pm": news of a change, not a title
    if words[0] == "the" and len(words) > _VERB_AT and words[_VERB_AT].endswith("s"):
        return False  # "the recycling goes out ...": a statement about a thing there is
    return not any(w in _STATEMENT for w in words)


def unclear_intent(text: str, said: str, now: datetime) -> Unclear | None:
    """What an unread sentence might mean, for the model to check against the tasks.

    None for a question (it changes nothing); a DateError for a date that names no day.
    """
    if said.rstrip().endswith("?") or _QUESTION.match(text):
        return None
    fields, rest = extract_fields(text, now)
    title = clean_title(rest)
    todo = reads_as_todo(rest, said) and bool(title)
    sure = bool(fields.keys() & {"due", "priority", "tags", "repeat", "reminders", "list"})
    polite = bool(_POLITE_END.search(said)) and len(text.split()) > 1
    if not fields and not (todo and (polite or rest.split()[0].lower() in TODO_VERBS)):
        return None  # nothing to change and no to-do: not understood
    return Unclear(rest, fields, title, todo, sure or polite)


# ---------------------------------------------------------------- settling it against the tasks

ASK_ADD = replies.ASK_ADD
# Words that say how a task changes, never which task: left out when matching titles.
_EDIT_WORDS = (
    _STATEMENT
    | EDIT_VERBS
    | frozenset(
        {"as", "its", "them", "into", "onto", "over", "about", "very", "super", "high", "low"}
        | {"medium", "urgent", "important", "normal", "every", "each", "repeating", "recurring"}
        | {"happen", "happens", "happening", "get", "done", "finished", "sorted", "handled"}
        | {"goes", "going", "comes", "coming", "starts", "starting", "runs"}
        | {"can", "could", "may", "might", "whole", "thing", "after", "all", "though", "drop"}
    )
    | frozenset(
        [
            "the",
            "a",
            "an",
            "of",
            "to",
            "on",
            "at",
            "for",
            "in",
            "by",
            "up",
            "down",
            "back",
            "out",
            "off",
            "due",
            "now",
            "move",
            "moved",
            "bump",
            "bumped",
            "push",
            "pushed",
            "change",
            "changed",
            "set",
            "make",
            "made",
            "should",
            "be",
            "will",
            "needs",
            "need",
            "has",
            "have",
            "got",
            "instead",
            "rather",
            "than",
            "task",
            "todo",
            "item",
            "one",
            "priority",
            "date",
            "deadline",
            "time",
            "day",
            "please",
            "also",
            "again",
            "until",
            "till",
            "from",
            "with",
            "and",
            "or",
            "but",
            "so",
            "then",
            "actually",
            "really",
            "happen",
            "happens",
            "happening",
            "get",
            "done",
            "finished",
            "sorted",
            "handled",
        ]
    )
)
_SAME = 85.0  # rapidfuzz ratio at which two words are the same word, typos forgiven
_WORD = re.compile(r"[\w'-]+")


def _content(text: str) -> list[str]:
    words = [w.lower().removesuffix("'s").strip("'-") for w in _WORD.findall(text)]
    return [w for w in words if len(w) > 1 and w not in _EDIT_WORDS]


STEM = 4  # words this long that start another word are its stem: "water" in "watering"


def _same(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return a == b or fuzz.ratio(a, b) >= _SAME or (len(short) >= STEM and long.startswith(short))


def content_words(text: str) -> list[str]:
    """The words of `text` that could name a task (no edit, link or statement words)."""
    return _content(text)


def named_tasks(words: str, tasks: list[Task]) -> list[Task]:
    """The tasks whose titles the words name: every word said is in the title, and at least
    half the title's words are said. The best-covered titles, open ones first."""
    said = _content(words)
    if not said:
        return []
    scored: list[tuple[tuple[int, int], Task]] = []
    for task in tasks:
        title = _content(task.get("title", ""))
        if not title or not all(any(_same(s, t) for t in title) for s in said):
            continue
        hits = sum(any(_same(t, s) for s in said) for t in title)
        if hits * 2 >= len(title):
            scored.append(((hits, hits - len(title)), task))  # more said, fewer left over
    if not scored:
        return []
    best = max(score for score, _ in scored)
    named = [task for score, task in scored if score == best]
    return [t for t in named if not t.get("completed")] or named


def add_args(intent: Unclear, now: datetime) -> dict[str, Any]:
    """add_task's arguments for the sentence read as a new task."""
    fields = {k: v for k, v in intent.fields.items() if k != AT_ONLY and v != ""}
    first_due(fields, now)
    return {"title": intent.title, **fields}


def settle(intent: Unclear, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """Change the one task the sentence names, else add it (when sure), else ask."""
    if not intent.fields:  # nothing to change: "call mom" is a new task or a question
        return _add_or_ask(intent, replay, now)
    run = replay.next()
    if run is None:
        return Call("list_tasks", {"limit": FUZZY_PAGE})
    if not isinstance(run.result, dict):
        return Say(replies.tool_error(run.failure))
    named = named_tasks(intent.words, list(run.result.get("tasks") or []))
    if len(named) != 1:
        return _add_or_ask(intent, replay, now) if not named else Say(
            replies.candidates(named, "update", intent.words, now)
        )  # fmt: skip
    if intent.todo and intent.fields.keys() & {"due", "repeat"}:
        # "groceries tomorrow" with "Buy groceries" on the list: move it, or a new one? Ask.
        return Say(replies.move_or_add(named[0], intent.title, now))
    fields = dict(intent.fields)
    tags, at = tuple(fields.pop("tags", ())), time_only(fields)
    change = ActOnTask("update", ById(named[0]["id"]), fields, add_tags=tags, at=at)
    return act(change, conversation, replay, now)


def _add_or_ask(intent: Unclear, replay: Replay, now: datetime) -> Step:
    if intent.todo and intent.marked:
        return finish(replay, "add_task", add_args(intent, now), lambda c: replies.added(c, now))
    if intent.todo:
        return Say(replies.ask_add(intent.title))
    return Say(replies.UNREAD)


def settle_named(intent: Named, conversation: Conversation, replay: Replay, now: datetime) -> Step:
    """Carry out the change on the one task the words name; with several, ask which."""
    return act_on_named(
        intent.words, intent.change, conversation, replay, now,
        otherwise=lambda: Say(replies.no_match(intent.words, None)),
    )  # fmt: skip


def act_on_named(
    words: str,
    change: ActOnTask,
    conversation: Conversation,
    replay: Replay,
    now: datetime,
    *,
    otherwise: Callable[[], Step],
    keep: Callable[[Task], bool] = lambda _: True,
) -> Step:
    """`change` on the one task (of those `keep` keeps) the words name, read from a page of
    list_tasks; with several, ask which; with none, `otherwise()`."""
    run = replay.next()
    if run is None:
        return Call("list_tasks", {"limit": FUZZY_PAGE})
    if not isinstance(run.result, dict):
        return Say(replies.tool_error(run.failure))
    named = [t for t in named_tasks(words, list(run.result.get("tasks") or [])) if keep(t)]
    if len(named) == 1:
        return act(replace(change, target=ById(named[0]["id"])), conversation, replay, now)
    if named:
        return Say(replies.candidates(named, change.action, words, now))
    return otherwise()
