"""Requests about lists, subtasks and sharing: "what lists do I have?", "show my groceries
list", "move the dentist to personal", "add subtask buy soil under water the plants",
"break down the move: book van, pack books", "share the groceries list with sam", "who can
see groceries?", "assign the bins to sam", "stop sharing groceries".

Each row of LIST_ROWS is (pattern, reader): the first row whose pattern matches the whole
request and whose reader makes an intent of it wins. A list named without the word "list"
("move the dentist to personal") is only a list when the user has one by that name: the
intent says so (IfList), and the steps look it up before changing anything.
"""

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from chat_server.agent.offline.dates import DateError, parse_when
from chat_server.agent.offline.intents import (
    ActOnTask,
    AddSeveral,
    AddTask,
    Both,
    ByContext,
    ById,
    ByIds,
    ByPosition,
    ByWords,
    Clarify,
    IfList,
    IfNamed,
    Intent,
    ListCall,
    ListTasks,
    StopSharing,
)
from chat_server.agent.offline.phrases import add_intent, fields_only, parse_ref
from chat_server.agent.offline.several import TODO_VERBS

_I = re.IGNORECASE
_T = r"(?P<t>[^,:;]+?(?<!\s))"
# A list's name: a few words, none of them a comma; "my"/"the" before it are no part of it.
_NAME = r"(?:my\s+|the\s+|our\s+|an?\s+(?:new\s+)?|new\s+)?(?P<name>[\w'&-]+(?:\s+[\w'&-]+){0,3}?)"
_LIST = r"\s+(?:list|project)"
_USER = r"(?P<user>[\w.@+-]{1,64})"
_VIEWER = (
    r"(?:\s+(?:as\s+(?:an?\s+)?|with\s+)?(?P<role>viewer|editor|read[\s-]only|view[\s-]only"
    r"|edit(?:ing)?\s+(?:rights|access))(?:\s+access)?"
    r"|\s+(?:so|but)\s+(?:they|he|she|\w+)\s+can\s+(?P<only>only\s+(?:see|view|read)|edit))?"
)
SHARING_OFF = "Sharing needs sign-in with user ids; this taskchat runs for one user."
DELETE_LIST_ASKS = (
    "Deleting the {name} list needs to know what happens to its tasks. Say “delete the "
    "{name} list and move its tasks to Inbox”, or “delete the {name} list and its tasks”."
)
NOT_A_LIST_OR_DATE = (
    "I don't know a list called “{name}”, and it isn't a date I can read. To move a task to "
    "a new list, say “move it to the {name} list”."
)


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, _I)


def _name(match: re.Match[str]) -> str:
    return match["name"].strip()


def _lists(match: re.Match[str], now: datetime) -> Intent | None:
    return ListCall("list_lists")


def _show_list(match: re.Match[str], now: datetime) -> Intent | None:
    return ListTasks({"list": _name(match), "status": "pending"})


def _members(match: re.Match[str], now: datetime) -> Intent | None:
    return ListCall("list_members", {"list": _name(match)})


def _role(match: re.Match[str]) -> str:
    said = " ".join((match["role"] or match["only"] or "").lower().split())
    return "viewer" if said.startswith(("viewer", "read", "view", "only")) else "editor"


def _share(match: re.Match[str], now: datetime) -> Intent | None:
    args = {"list": _name(match), "user_id": match["user"], "role": _role(match)}
    return ListCall("share_list", args)


def _rename(match: re.Match[str], now: datetime) -> Intent | None:
    new_name = match["new"].strip(" \"'“”")
    return ListCall("rename_list", {"list": _name(match), "new_name": new_name})


def _delete_list(match: re.Match[str], now: datetime) -> Intent | None:
    if match["to"]:
        args = {"list": _name(match), "move_tasks_to": match["to"].strip()}
        return ListCall("delete_list", args)
    if match["all"]:
        return ListCall("delete_list", {"list": _name(match), "delete_tasks": True})
    return Clarify(DELETE_LIST_ASKS.format(name=_name(match)))


def _move_to_list(match: re.Match[str], now: datetime) -> Intent | None:
    target = parse_ref(match["t"])
    name, value = _name(match), match["value"]
    # "move the dentist to friday", "put it to high priority", "move it to task 3".
    if target is None or _not_a_list(match, now) or fields_only(value, now) or _names_a_task(value):
        return None
    change = ActOnTask("update", target, {"list": name})
    if match["said"]:
        return change
    return IfList(name, change, Clarify(NOT_A_LIST_OR_DATE.format(name=name)))


def _names_a_task(value: str) -> bool:
    """ "to it", "to task 3": a task, never a list."""
    return isinstance(parse_ref(value), ById | ByIds | ByContext | ByPosition)


def _assign(match: re.Match[str], now: datetime) -> Intent | None:
    if (target := parse_ref(match["t"])) is None:
        return None
    if match["user"].lower() in {"me", "myself"}:
        return None  # the chat does not know the user's own id
    return ActOnTask("update", target, {"assignee": match["user"]})


# Subtasks are steps: "book van, pack books and change address" is three of them.
_STEPS = re.compile(r"\s*+(?:[,;]|\band\s+then\b|\bthen\b|\band\b)\s*+", _I)


def _subtasks(match: re.Match[str], now: datetime) -> Intent | None:
    # The parent is named by its title's words, whatever they are ("move house").
    target = parse_ref(match["t"]) or ByWords(match["t"])
    adds: list[AddTask] = []
    for step in filter(None, _STEPS.split(match["items"])):
        read = add_intent(step, now)
        if isinstance(read, Clarify):
            return None
        adds.extend(read.adds if isinstance(read, AddSeveral) else (read,))
    return ActOnTask("subtasks", target, {"adds": tuple(adds)}) if adds else None


def _new_with_subtasks(match: re.Match[str], now: datetime) -> Intent | None:
    """ "add plan the party with subtasks buy charcoal, invite neighbours": the new task,
    then its steps under it."""
    parent = add_intent(match["t"], now)
    steps = _subtasks(match, now)
    if not isinstance(parent, AddTask) or not isinstance(steps, ActOnTask):
        return None
    # Found again by its title: "it" means a task of an earlier turn, not this one's.
    return Both(parent, replace(steps, target=ByWords(parent.args["title"])))


def _under(match: re.Match[str], now: datetime) -> Intent | None:
    """ "make the plants a subtask of the move": the parent first, then the child."""
    parent = parse_ref(match["p"]) or ByWords(match["p"])
    child = parse_ref(match["t"]) or ByWords(match["t"])
    if not isinstance(child, ByWords):
        return None  # the child is looked up by its words only
    return ActOnTask("subtasks", parent, {"child": child})


def _top_level(match: re.Match[str], now: datetime) -> Intent | None:
    target = parse_ref(match["t"]) or ByWords(match["t"])
    return ActOnTask("update", target, {"parent_id": 0})


def _in_list(adds: tuple[AddTask, ...], name: str) -> AddTask | AddSeveral:
    named = tuple(AddTask({**one.args, "list": name}) for one in adds)
    return named[0] if len(named) == 1 else AddSeveral(named)


def _things(item: AddTask | AddSeveral) -> bool:
    """Several items, none of them a to-do led by a verb: things to put in a list, so the
    "to X" after them names a list even one the user has yet to make ("add buy milk and go
    to the gym" ends with a to-do)."""
    if not isinstance(item, AddSeveral):
        return False
    return not any(one.args["title"].split()[0].lower() in TODO_VERBS for one in item.adds)


_A_TAG = _re(r"^(?:the\s+|a\s+)?(?:tag\s+\S+|\S+\s+tag)$")


def _add_to_list(match: re.Match[str], now: datetime) -> Intent | None:
    """ "add milk to the groceries list"; "add milk to groceries" only if the user has a
    list by that name (else the whole phrase is the task, as before: "add go to the gym")."""
    name, value = _name(match), match["value"]
    if (fields := fields_only(match["items"], now)) and (target := parse_ref(value)):
        # "add high priority to the report"; tags said are added to the task's own.
        tags = tuple(fields.pop("tags", ()))
        return ActOnTask("update", target, fields, add_tags=tags)
    if _A_TAG.match(match["items"]):
        return None  # "add the tag 'travel' to the flights one": a tag, not a task
    item = add_intent(match["items"], now)
    if isinstance(item, Clarify) or _not_a_list(match, now) or _names_a_task(value):
        return None
    into = _in_list(item.adds if isinstance(item, AddSeveral) else (item,), name)
    if match["said"] or _things(item):
        return into  # "add eggs, butter and flour to groceries": a list, new or not
    whole = add_intent(match[0].split(None, 1)[1], now)
    if match[0].lower().startswith("put"):
        whole = Clarify(NOT_A_LIST_OR_DATE.format(name=name))
    return IfList(name, into, _under_task(item, value, whole))


_THE = _re(r"^(?:the|my)\s")


def _under_task(item: AddTask | AddSeveral, value: str, whole: Intent) -> Intent:
    """ "add beef stew to the freezer meals" with no such list: subtasks of the one task
    "the freezer meals" names, if any (else `whole`). Only things, never a to-do led by a
    verb ("add go to the gym"), only "the ..." or "my ...", which name a thing, and only a
    task whose title starts with the name ("add talk to the boss" is a new task, whatever
    "Meeting with the boss" there is)."""
    adds = item.adds if isinstance(item, AddSeveral) else (item,)
    if not _THE.match(value) or any(
        one.args["title"].split()[0].lower() in TODO_VERBS for one in adds
    ):
        return whole
    plain = [AddTask({k: v for k, v in one.args.items() if k != "list"}) for one in adds]
    return IfNamed(value, ActOnTask("subtasks", ByContext(), {"adds": plain}), whole, leading=True)


def _unshare(match: re.Match[str], now: datetime) -> Intent | None:
    if match["user"]:
        return ListCall("unshare_list", {"list": _name(match), "user_id": match["user"]})
    return StopSharing(_name(match))


Row = tuple[re.Pattern[str], Callable[[re.Match[str], datetime], Intent | None]]
_INTO = r"\s+(?P<prep>to|into|in|on|onto)\s+(?P<value>" + _NAME + r")(?P<said>" + _LIST + r")?$"
# "add a task to buy milk", "add milk to my list": no list of a name.
_NO_LIST = _re(
    r"^(?:(?:a|an|the|another|one\s+more|new)\s+)?(?:task|todo|to-do|item|reminder|entry)s?$"
    r"|^(?:to-?do\s+|task\s+)?lists?$|^(?:tasks|todos|to-dos|to-do|todo|task)$"
)


def _not_a_list(match: re.Match[str], now: datetime) -> bool:
    """Whether the words after "to"/"on" are a date, a task or no list's name at all."""
    if _NO_LIST.match(match["items"] if "items" in match.re.groupindex else "") or _NO_LIST.match(
        _name(match)
    ):
        return True
    try:
        return parse_when(f"{match['prep']} {match['value']}", now) is not None
    except DateError:
        return True


_SUB = r"(?:a\s+|the\s+|some\s+)?(?:sub-?tasks?|steps?)"
LIST_ROWS: tuple[Row, ...] = (
    (
        _re(
            r"^(?:(?:what|which)\s+lists\s+(?:do\s+i\s+have|have\s+i\s+got|are\s+there|exist)"
            r"|(?:show|list|see|view|display)\s+(?:me\s+)?(?:all\s+)?(?:of\s+)?(?:my|the|our)"
            r"\s+lists|(?:my|all)\s+lists|how\s+many\s+lists\s+do\s+i\s+have)$"
        ),
        _lists,
    ),
    (
        _re(
            r"^(?:who\s+(?:can\s+(?:see|view|edit|access)|has\s+access\s+to|is\s+(?:in|on)"
            r"|(?:else\s+)?(?:uses|shares))|(?:show\s+)?(?:the\s+)?members\s+of"
            r"|who'?s\s+(?:in|on))\s+" + _NAME + r"(?:" + _LIST + r")?$"
        ),
        _members,
    ),
    (
        _re(
            r"^(?:(?:show|list|see|view|display|open)\s+(?:me\s+)?(?:what'?s\s+(?:in|on)\s+)?"
            r"|what(?:'?s|\s+is)\s+(?:in|on)\s+|what\s+do\s+i\s+have\s+(?:in|on)\s+)"
            + _NAME + _LIST + r"$"
        ),
        _show_list,
    ),
    (
        _re(r"^share\s+" + _NAME + r"(?:" + _LIST + r")?\s+with\s+" + _USER + _VIEWER + r"$"),
        _share,
    ),
    (
        _re(
            r"^(?:stop\s+sharing|unshare)\s+" + _NAME + r"(?:" + _LIST + r")?"
            r"(?:\s+with\s+" + _USER + r")?$"
        ),
        _unshare,
    ),
    (
        _re(r"^(?:remove|kick)\s+" + _USER + r"\s+from\s+" + _NAME + _LIST + r"$"),
        _unshare,
    ),
    (
        _re(r"^rename\s+" + _NAME + _LIST + r"\s+(?:to|as)\s+(?P<new>[^,;]{1,60})$"),
        _rename,
    ),
    (
        _re(
            r"^(?:delete|remove)\s+" + _NAME + _LIST + r"(?:\s+and\s+(?:move\s+)?(?:its|the|all"
            r"(?:\s+(?:of\s+)?its)?)\s+tasks\s+to\s+(?:my\s+|the\s+)?(?P<to>[\w' -]{1,60}?)"
            r"(?:" + _LIST + r")?|\s+and\s+(?P<all>(?:all\s+)?(?:of\s+)?(?:its|the)\s+tasks)"
            r"(?:\s+too)?)?$"
        ),
        _delete_list,
    ),
    (_re(r"^(?:assign|give)\s+" + _T + r"\s+to\s+" + _USER + r"$"), _assign),
    (
        _re(
            r"^add\s+" + _SUB + r"\s+(?P<items>[^:]+?)\s+(?:to|under|for|in)\s+"
            r"(?:the\s+task\s+)?" + _T + r"$"
        ),
        _subtasks,
    ),
    (
        _re(r"^add\s+" + _T + r"\s+with\s+" + _SUB + r"\s*+:?\s*+(?P<items>.+)$"),
        _new_with_subtasks,
    ),
    (
        _re(
            r"^add\s+(?P<items>[^:]+?)\s+as\s+" + _SUB + r"\s+(?:of|to|under|for|in)\s+"
            + _T + r"$"
        ),
        _subtasks,
    ),
    (
        _re(
            r"^(?:add\s+" + _SUB + r"\s+(?:to|for|under)|break\s+down|split\s+up|split)\s+"
            + _T + r"\s*:\s*(?P<items>.+)$"
        ),
        _subtasks,
    ),
    (
        _re(
            r"^(?:break|split)\s+" + _T + r"\s+(?:down\s+|up\s+)?into\s+(?:sub-?tasks?\s*:?\s*)?"
            r"(?P<items>.+)$"
        ),
        _subtasks,
    ),
    (
        _re(
            r"^(?:make|turn)\s+" + _T + r"\s+(?:into\s+)?(?:a\s+)?sub-?task\s+(?:of|under|for"
            r"|to)\s+(?P<p>[^,:;]+?)$"
        ),
        _under,
    ),
    (_re(r"^(?:move|put|nest)\s+" + _T + r"\s+under(?:neath)?\s+(?P<p>[^,:;]+?)$"), _under),
    (
        _re(
            r"^(?:make|turn)\s+" + _T + r"\s+(?:into\s+)?(?:a\s+|its\s+)?(?:own|top[\s-]level"
            r"|main|normal|standalone|separate|stand-alone|regular|independent)\s+task"
            r"(?:\s+again)?(?:\s*+,?\s+(?:not|no\s+longer)\s+(?:a\s+)?(?:part|under|in"
            r"|(?:a\s+)?sub-?task|step)\b[^,:;]*+)?$"
        ),
        _top_level,
    ),
    # "Book meeting room should be a subtask of the client demo": the child said first.
    (
        _re(
            r"^" + _T + r"\s+(?:should\s+(?:be|go|sit)|belongs?|goes)\s+(?:(?:a\s+)?(?:sub-?task"
            r"|step|part)\s+(?:of|under|in)|under(?:neath)?)\s+(?P<p>[^,:;]+?)$"
        ),
        _under,
    ),
    (_re(r"^(?:move|take)\s+" + _T + r"\s+out\s+of\s+[^,:;]+$"), _top_level),
    (_re(r"^(?:move|put|file)\s+" + _T + _INTO), _move_to_list),
)  # fmt: skip
_ADD_ROWS: tuple[Row, ...] = ((_re(r"^(?:add|put)\s+(?P<items>[^:]+?)" + _INTO), _add_to_list),)


def _read(rows: tuple[Row, ...], text: str, now: datetime) -> Intent | None:
    for pattern, read in rows:
        if (match := pattern.match(text)) and (found := read(match, now)):
            return found
    return None


def list_request(text: str, now: datetime) -> Intent | None:
    """A request about lists, subtasks or sharing, else None."""
    return _read(LIST_ROWS, text, now)


_LIST_WORD = _re(r"\s(?:list|project)\b")


def _fields_before_list(text: str, now: datetime) -> str:
    """ "add bulbs to the groceries list for saturday" read as "add bulbs for saturday to the
    groceries list": what follows the list's name, when it is only task fields, is the task's."""
    said = list(_LIST_WORD.finditer(text))
    last = said[-1] if said else None
    tail = text[last.end() :].strip(" ,") if last else ""
    try:
        if not tail or fields_only(tail, now) is None:
            return text
    except DateError:
        return text
    head = text[: last.end()] if last else text
    if not (match := _ADD_ROWS[0][0].match(head)):
        return text
    return f"{head[: match.end('items')]} {tail}{head[match.end('items') :]}"


def add_to_list(text: str, now: datetime) -> Intent | None:
    """ "add milk to groceries", "put eggs on the shopping list", else None."""
    return _read(_ADD_ROWS, _fields_before_list(text, now), now)


# "shopping list: add toothpaste", "add to the work list: prepare budget by friday": the list
# said first, as a header, then what goes in it.
_LIST_HEADER = _re(
    r"^(?:(?:add|put)\s+(?:these\s+|this\s+)?(?:to|on|in(?:to)?)\s+)?(?:the\s+|my\s+)?"
    r"(?P<list>[\w'&-]++)\s+list\s*+[:-]\s*+(?:(?:add|put)\s+)?"
    r"(?!(?:what|which|who|how|is|are|do|does|show|list|delete|remove|clear|rename|share|move"
    r"|empty|sort)\b)(?P<rest>[^?\s][^?]*+)$"
)


def list_header(text: str, now: datetime) -> Intent | None:
    """A list named as a header, read as "add <what follows> to the <list> list", else None."""
    if not (match := _LIST_HEADER.match(text)):
        return None
    return add_to_list(f"add {match['rest']} to the {match['list']} list", now)
