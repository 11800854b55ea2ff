"""`taskchat tasks`, `taskchat remind`, `taskchat channels` and `taskchat digest`: the
user's tasks (lists, subtasks, repeat rules, reminders, shared lists' owners and assignees)
and where their reminders go, through the chat server's /api/tasks, /api/lists,
/api/channels and /api/digest."""

import argparse
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from taskchat_cli.client import ChatClient, ChatError

COMMANDS = frozenset({"tasks", "remind", "default-reminder", "channels", "digest"})
STATUSES = {"open": "pending", "done": "completed", "all": "all"}
CHANNEL_TYPES = ("webhook", "email", "ntfy")  # a browser's push subscription comes from the page
# "30m", "2h", "1d", "1w" (and "90s"): a reminder that long before the due.
_SHORT = re.compile(r"(?P<number>\d{1,4})(?P<unit>[smhdw])")
_ISO_PARTS = re.compile(r"(\d+)([WDHMS])")
_UNIT_WORDS = {"W": "week", "D": "day", "H": "hour", "M": "min", "S": "s"}
_DIGEST_TIME = re.compile(r"\d{1,2}:\d{2}")


class Lines(Protocol):
    """Where results go: the terminal's stdout lines and stderr reports."""

    def line(self, text: str, *, dim: bool = False, bold: bool = False) -> None: ...

    def report(self, message: str) -> None: ...


class TasksClient(ChatClient):
    """The chat client, with the panel's JSON API beside ChatKit."""

    def __enter__(self) -> "TasksClient":
        return self

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call to the chat server's API; its JSON answer (None for 204)."""
        with self._errors():
            response = self._http.request(method, f"{self.url}{path}", **kwargs)
            self._check(response)
        if response.status_code == 204:  # noqa: PLR2004
            return None
        try:
            return response.json()
        except ValueError:
            raise ChatError(f"{self.url}{path} did not answer JSON") from None


# --- how things are shown ---------------------------------------------------------------


def duration_words(value: str) -> str:
    """'PT30M' as '30 min', 'P1DT2H' as '1 day 2 hours', 'PT0S' as '0 min'."""
    parts = _ISO_PARTS.findall(value.upper().replace("T", " "))
    words = []
    for number, unit in parts:
        word = _UNIT_WORDS[unit]
        plural = int(number) != 1 and unit in "WDH"
        words.append(f"{int(number)} {word}{'s' if plural else ''}")
    return " ".join(word for word in words if not word.startswith("0 ")) or "0 min"


def when_text(value: str) -> str:
    """An ISO date-time as 'YYYY-MM-DD HH:MM' on this machine's clock; a date as it is."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) <= len("YYYY-MM-DD"):
        return value
    return (moment.astimezone() if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M")


def reminder_text(spec: dict[str, str]) -> str:
    """One reminder in words: 'at the due time', '30 min before', 'at 2026-05-01 08:00'."""
    if "at" in spec:
        return f"at {when_text(spec['at'])}"
    words = duration_words(spec.get("before", ""))
    return "at the due time" if words == "0 min" else f"{words} before"


def task_line(task: dict[str, Any], depth: int = 0, *, shared: bool = False) -> str:
    """'  [ ] 7  Clean the flat  (due 2026-05-01 09:00; repeats every week; remind 30 min
    before; high; #home; assigned to ann)'; in a shared list a done task says who did it."""
    details = []
    if task.get("due"):
        details.append(f"due {when_text(task['due'])}")
    repeat = task.get("repeat_text") or task.get("repeat")
    if repeat:
        after = " after it's done" if task.get("repeat_from") == "completion" else ""
        details.append(f"repeats {repeat}{after}")
    if task.get("reminders"):
        details.append("remind " + ", ".join(reminder_text(r) for r in task["reminders"]))
    if task.get("priority") not in (None, "medium"):
        details.append(str(task["priority"]))
    details += [f"#{tag}" for tag in task.get("tags") or []]
    if task.get("assignee"):
        details.append(f"assigned to {task['assignee']}")
    if shared and task.get("completed") and task.get("changed_by"):
        details.append(f"completed by {task['changed_by']}")
    box = "[x]" if task.get("completed") else "[ ]"
    said = f"  ({'; '.join(details)})" if details else ""
    return f"{'    ' * depth}  {box} {task['id']}  {task['title']}{said}"


def list_heading(name: str, info: dict[str, Any] | None) -> str:
    """A list's name, and for a shared one whose it is and what the user may do there."""
    if not info or not (info.get("shared") or info.get("role") not in (None, "owner")):
        return name
    if info.get("role") in (None, "owner"):
        return f"{name} (shared by you)"
    return f"{name} (shared by {info.get('owner')}; you: {info.get('role')})"


def task_lines(tasks: list[dict[str, Any]], lists: Iterable[dict[str, Any]]) -> list[str]:
    """Tasks under their lists (in the lists' order), subtasks under their parents."""
    known = {item["name"]: item for item in lists}
    order = {name: index for index, name in enumerate(known)}
    ids = {task["id"] for task in tasks}
    children: dict[int, list[dict[str, Any]]] = {}
    by_list: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        parent = task.get("parent_id")
        if parent is not None and parent in ids:
            children.setdefault(parent, []).append(task)
        else:  # a top-level task, or a subtask whose parent is not shown
            by_list.setdefault(task.get("list") or "Inbox", []).append(task)
    lines: list[str] = []

    def add(task: dict[str, Any], depth: int, shared: bool) -> None:
        lines.append(task_line(task, depth, shared=shared))
        for child in children.get(task["id"], []):
            add(child, depth + 1, shared)

    for name in sorted(by_list, key=lambda name: (order.get(name, len(order)), name)):
        heading = list_heading(name, known.get(name))
        lines.append(heading)
        for task in by_list[name]:
            add(task, 0, heading != name)
    return lines


def channel_line(channel: dict[str, Any]) -> str:
    """'3  webhook  https://example.com/hook  (failing: answered HTTP 500)'."""
    where = channel.get("url") or channel.get("address") or ""
    if channel.get("type") == "webpush":
        where = "a browser (push)"
    status = channel.get("status", "ok")
    said = "" if status == "ok" else f"  ({status}: {channel.get('last_error') or 'no details'})"
    return f"{channel['id']:>4}  {channel['type']:<8} {where}{said}"


# --- reading the command line ------------------------------------------------------------


def reminder_spec(word: str) -> dict[str, str]:
    """A reminder from the command line: '30m', '2h', '1d', '1w' or 'due' (before the due),
    an ISO duration ('PT30M'), or a date-time with its offset (at that moment)."""
    text = word.strip()
    short = _SHORT.fullmatch(text.lower())
    if short:
        number, unit = int(short["number"]), short["unit"]
        if unit in "dw":
            return {"before": f"P{number}{unit.upper()}"}
        return {"before": f"PT{number}{unit.upper()}"}
    if text.lower() in ("due", "0"):
        return {"before": "PT0S"}
    if text.upper().startswith("P"):
        return {"before": text.upper()}
    if text[:1].isdigit() and "T" in text:
        return {"at": text}
    raise argparse.ArgumentTypeError(
        f"{word!r} is not a reminder: 30m, 2h, 1d, 1w or due (before the due), PT30M, or a "
        "date-time with its offset such as 2026-05-01T08:00+02:00"
    )


def _digest_time(value: str) -> str | None:
    if value.lower() in ("off", "none"):
        return None
    if not _DIGEST_TIME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a time like 08:00, or off")
    hours, minutes = value.split(":")
    return f"{int(hours):02d}:{minutes}"


def _task_id(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a task id")
    return int(value)


def add_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The `tasks`, `remind`, `channels` and `digest` subcommands."""
    listing = commands.add_parser("tasks", help="list your tasks by list, subtasks indented")
    listing.add_argument("--status", choices=tuple(STATUSES), default="open")
    listing.add_argument("--list", dest="list_name", metavar="NAME", help="only this list")
    remind = commands.add_parser(
        "remind", help="set a task's reminders: 30m, 2h, 1d, due, or a date-time"
    )
    remind.add_argument("task_id", metavar="TASK", type=_task_id)
    remind.add_argument("when", metavar="WHEN", nargs="*", type=reminder_spec,
                        help="each reminder; none given clears them")  # fmt: skip
    fallback = commands.add_parser(
        "default-reminder", help="the reminders a new task with a time gets: 30m, 1d or due"
    )
    fallback.add_argument("when", metavar="WHEN", nargs="*", type=reminder_spec,
                          help="each reminder before the due; none given: no default")  # fmt: skip
    channels = commands.add_parser("channels", help="where your reminders go")
    actions = channels.add_subparsers(dest="action", metavar="{add,remove}")
    add = actions.add_parser("add", help="add a webhook URL, an email address or an ntfy topic")
    add.add_argument("type", choices=CHANNEL_TYPES)
    add.add_argument("target", metavar="URL_OR_ADDRESS")
    add.add_argument("--token", dest="ntfy_token", help="the ntfy topic's access token")
    remove = actions.add_parser("remove", help="remove a channel by its id")
    remove.add_argument("channel_id", metavar="ID", type=_task_id)
    digest = commands.add_parser(
        "digest", help="a daily digest at HH:MM on this machine's clock, or off"
    )
    digest.add_argument("time", metavar="HH:MM|off", type=_digest_time)


# --- running them ------------------------------------------------------------------------


def run(args: argparse.Namespace, client: TasksClient, term: Lines) -> int:
    """Run one of this module's commands; the exit status."""
    match args.command:
        case "tasks":
            return show_tasks(args, client, term)
        case "remind":
            change = client.api("PATCH", f"/api/tasks/{args.task_id}",
                                json={"reminders": list(args.when)})  # fmt: skip
            term.line(task_line(change["task"]))
            return 0
        case "channels":
            return run_channels(args, client, term)
        case "default-reminder":
            found = client.api("PUT", "/api/reminders/default", json={"reminders": args.when})
            said = ", ".join(reminder_text(spec) for spec in found["reminders"])
            term.line(f"new tasks with a time: remind {said}" if said else
                      "new tasks: no default reminder")  # fmt: skip
            return 0
    answer = client.api("PUT", "/api/digest", json={"time": args.time})
    if answer["time"] is None:
        term.line("daily digest off")
    else:
        term.line(f"daily digest at {answer['time']} ({answer['timezone']})")
    return 0


def show_tasks(args: argparse.Namespace, client: TasksClient, term: Lines) -> int:
    """`taskchat tasks`."""
    print_tasks(client, term, status=args.status, list_name=args.list_name)
    return 0


def print_tasks(
    client: TasksClient, term: Lines, *, status: str = "open", list_name: str | None = None
) -> None:
    """The user's tasks under their lists (`taskchat tasks`, and /tasks at the prompt)."""
    tasks = client.api("GET", "/api/tasks", params={"status": STATUSES[status]})["tasks"]
    lists = client.api("GET", "/api/lists")["lists"]
    if list_name:
        wanted = list_name.casefold()
        tasks = [task for task in tasks if str(task.get("list", "")).casefold() == wanted]
    if not tasks:
        term.report("no tasks" + (f" in {list_name}" if list_name else ""))
        return
    for line in task_lines(tasks, lists):
        term.line(line, bold=not line.startswith(" "))


def run_channels(args: argparse.Namespace, client: TasksClient, term: Lines) -> int:
    """`taskchat channels [add TYPE TARGET | remove ID]`."""
    if args.action == "add":
        body: dict[str, Any] = {
            "type": args.type,
            ("address" if args.type == "email" else "url"): args.target,
        }
        if args.ntfy_token:
            body["token"] = args.ntfy_token
        made = client.api("POST", "/api/channels", json=body)
        term.line(channel_line(made))
        if made.get("secret"):
            term.line(f"signing secret (shown once): {made['secret']}")
        return 0
    if args.action == "remove":
        client.api("DELETE", f"/api/channels/{args.channel_id}")
        term.report(f"channel {args.channel_id} removed")
        return 0
    found = client.api("GET", "/api/channels")["channels"]
    if not found:
        term.report("no channels: `taskchat channels add webhook|email|ntfy ...` adds one")
    for channel in found:
        term.line(channel_line(channel))
    return 0
