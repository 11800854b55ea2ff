"""Typo-tolerant matching for the offline model: task titles and command words.

"the grocerys task" finds "Buy groceries" and "delte task 3" reads as "delete task 3",
with rapidfuzz doing the string distances.
"""

from typing import Any

from rapidfuzz import fuzz, utils
from rapidfuzz.distance import OSA

MATCH = 80.0
"""The least score (0-100) at which a title counts as what the user meant."""
CLOSE = 6.0
"""Two titles within this many points of each other are too close to choose between."""

_FILLER = frozenset(
    {"the", "a", "an", "my", "our", "your", "this", "that", "task", "todo", "one", "item", "of"}
)
COMMAND_WORDS = (
    "add", "create", "delete", "remove", "complete", "finish", "mark", "move", "postpone",
    "rename", "reopen", "show", "list", "tag", "remind", "schedule", "change", "update",
)  # fmt: skip
NOUNS = ("task", "todo", "item", "reminder")


# A word shorter than this is never a slip of another ("ad" is no "add" typo unless 3+).
MIN_WORD = 2


def _words(text: str) -> list[str]:
    return [w for w in utils.default_process(text).split() if w not in _FILLER]


def title_score(query: str, title: str) -> float:
    """How well `query` names `title`, 0-100: each word's best match, or the whole string."""
    wanted, have = _words(query), _words(title)
    if not wanted or not have:
        return 0.0
    per_word = sum(max(fuzz.ratio(w, h) for h in have) for w in wanted) / len(wanted)
    whole = fuzz.ratio(" ".join(wanted), " ".join(have))
    return max(per_word, whole)


def closest(query: str, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The task `query` names despite typos: one task, several too close to call, or none."""
    scored = sorted(
        ((title_score(query, t.get("title", "")), t) for t in tasks),
        key=lambda pair: pair[0],
        reverse=True,
    )
    good = [(score, t) for score, t in scored if score >= MATCH]
    if not good:
        return []
    best = good[0][0]
    return [t for score, t in good if best - score < CLOSE]


def one_slip_from(word: str, choices: tuple[str, ...]) -> str | None:
    """The one choice `word` is a single slip from (a letter missed, added, changed or
    swapped), or None when it is one of them, or near none or several."""
    word = word.lower()
    if word in choices or len(word) < MIN_WORD:
        return None
    near = [c for c in choices if OSA.distance(word, c) == 1 and len(c) > MIN_WORD]
    return near[0] if len(near) == 1 else None
