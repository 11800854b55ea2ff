"""Several tasks in one message: items on lines or after numbers ("1) milk 2) eggs",
"- milk\n- eggs"), after semicolons, after a count ("add 2 tasks: A and B"), in quotes
('add "A" and "B"'), or joined by "and" when each starts with a verb ("add buy milk and
call mom", but "add buy salt and pepper" stays one task)."""

import re
from datetime import datetime

from chat_server.agent.offline.intents import AddSeveral, AddTask, Clarify
from chat_server.agent.offline.phrases import QUOTED, add_intent, list_pieces

_I = re.IGNORECASE
# A line that is one item: "- milk", "* eggs", "• bread", "1. call mom", "2) email dad".
_BULLET = re.compile(r"^\s*+(?:[-*•]|\d{1,2}[.)])\s++(?P<item>\S.*)$")
# Inline numbered items: "1) milk 2) eggs 3) bread" (each number must follow the last).
_NUMBERED = re.compile(r"(?:^|(?<=\s))(?P<n>\d{1,2})[.)]\s++")
# The header line of a list of items: "add these:", "shopping list:", "todo:".
_HEADER = re.compile(
    r"^(?:(?:please\s+|can\s+you\s+)?(?:add|put|remind\s+me\s+to|new\s+tasks?|to-?dos?|tasks?)\b"
    r"[^:\n]{0,60}|[^:\n]{0,40}\blist)\s*:?\s*$",
    _I,
)
_COUNTED = re.compile(
    r"^(?:(?:\d|two|three|four|five|six|several|some|a\s+few|these|the\s+following)\s+)"
    r"(?:new\s+)?(?:tasks?|things|items|todos?|reminders?)\s*[:,-]?\s*(?P<rest>.+)$",
    _I,
)
_SEMICOLONS = re.compile(r"(?<!\s)\s*+;\s*+")
_AND_ALSO = re.compile(
    r"(?<!\s)(?:\s*+,)?\s++(?:and\s+also|and\s+then|also|plus|as\s+well\s+as)\s++", _I
)
_AND = re.compile(r"(?<!\s)(?:\s*+,)?\s++(?:and|&)\s++", _I)
_COMMAS = re.compile(r"(?<!\s)\s*+,\s*+")
# Verbs a to-do starts with: "buy milk and call mom" is two tasks.
TODO_VERBS = frozenset(
    [
        "buy",
        "call",
        "email",
        "text",
        "ring",
        "pay",
        "book",
        "clean",
        "fix",
        "wash",
        "walk",
        "feed",
        "water",
        "send",
        "write",
        "read",
        "pick",
        "get",
        "make",
        "cook",
        "order",
        "renew",
        "cancel",
        "schedule",
        "sort",
        "file",
        "finish",
        "check",
        "return",
        "take",
        "bring",
        "visit",
        "meet",
        "see",
        "phone",
        "post",
        "print",
        "update",
        "review",
        "prepare",
        "plan",
        "go",
        "mow",
        "tidy",
        "vacuum",
        "do",
        "submit",
        "collect",
        "drop",
        "grab",
        "fetch",
        "iron",
        "change",
        "charge",
        "backup",
        "back",
        "ask",
        "tell",
        "remind",
        "install",
        "organize",
        "organise",
        "pack",
        "unpack",
        "register",
        "apply",
        "research",
        "practice",
        "practise",
        "study",
    ]
)
MAX_LINE_CHARS = 120  # a longer line under a header is a paragraph, not an item
MAX_ITEMS = 20


def _item_list(lines: list[str]) -> list[str] | None:
    items = [m["item"].strip() for line in lines if (m := _BULLET.match(line))]
    return items if len(items) == len(lines) and len(items) > 1 else None


def listed_items(text: str) -> list[str] | None:
    """The items of a message written as a list (lines, bullets, numbers), else None."""
    lines = [line for line in text.strip().splitlines() if line.strip()][: MAX_ITEMS + 1]
    if len(lines) > 1:
        head, body = (lines[0], lines[1:]) if _HEADER.match(lines[0]) else ("", lines)
        items = _item_list(body)
        if items is None and head and all(len(line) < MAX_LINE_CHARS for line in body):
            items = [line.strip(" -*•") for line in body]
        return items
    numbered = list(_NUMBERED.finditer(text))
    if len(numbered) > 1 and [int(m["n"]) for m in numbered] == list(range(1, len(numbered) + 1)):
        head = text[: numbered[0].start()].strip()
        if head and not _HEADER.match(head):
            return None
        ends = [m.start() for m in numbered[1:]] + [len(text)]
        return [text[m.end() : end].strip(" ,;") for m, end in zip(numbered, ends, strict=True)]
    return None


# A header line naming the list the items go in: "add to classroom list:", "shopping list:".
_HEADER_LIST = re.compile(
    r"^(?:(?:please\s+)?(?:add|put)\s+(?:these\s+|this\s+|them\s+)?(?:to|on|onto|in(?:to)?)\s+)?"
    r"(?:the\s+|my\s+|our\s+)?(?P<list>[\w'&-]++)\s+list\s*+:?\s*+$",
    _I,
)


def header_list(text: str) -> str | None:
    """The list a listed message's header line names ("add to classroom list:"), else None."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    match = _HEADER_LIST.match(lines[0].strip()) if len(lines) > 1 else None
    named = match["list"] if match else None
    return named if named and named.lower() not in {"to-do", "todo", "task"} else None


def several_added(items: list[str], now: datetime) -> AddSeveral | Clarify:
    """One add per item (an item may carry its own date, priority or tags)."""
    adds: list[AddTask] = []
    for item in items[:MAX_ITEMS]:
        found = add_intent(item, now, one_item=True)
        if isinstance(found, Clarify):
            return found
        adds += found.adds if isinstance(found, AddSeveral) else [found]
    return AddSeveral(tuple(adds))


def _verb_led(piece: str) -> bool:
    words = piece.lower().split()
    return bool(words) and words[0] in TODO_VERBS


def _pieces(body: str) -> list[str] | None:
    """The items of an add's body, when it plainly names several."""
    if counted := _COUNTED.match(body):
        body = counted["rest"]
        for splitter in (_SEMICOLONS, _AND_ALSO, _COMMAS):
            if len(parts := splitter.split(body)) > 1:
                last = _AND.split(parts[-1], maxsplit=1)
                return [*parts[:-1], *last]
        return _AND.split(body, maxsplit=1) if len(_AND.split(body)) > 1 else None
    quoted = [m["text"] for m in QUOTED.finditer(body)]
    if len(quoted) > 1:
        return quoted
    for splitter in (_SEMICOLONS, _AND_ALSO):
        if len(parts := splitter.split(body)) > 1:
            return parts
    # "buy milk and call mom"; "fix bike, and call Sam and Alex about the trip": to-dos.
    for parts in (list_pieces(body), _AND.split(body)):
        if len(parts) > 1 and all(_verb_led(p) for p in parts):
            return parts
    return None


def several_in_body(body: str, now: datetime) -> AddSeveral | Clarify | None:
    """ "add 2 tasks: A and B", "add A; B", "add buy milk and call mom": one add per item."""
    pieces = _pieces(body)
    if not pieces or any(not p.strip() for p in pieces):
        return None
    return several_added([p.strip() for p in pieces], now)
