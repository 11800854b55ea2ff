"""The offline model's replies: tool results (task JSON, as in the MCP contract) -> plain text.

Pure functions. `now` is an aware datetime in the user's zone; due dates are said relative
to it ("today", "tomorrow", "Friday", else "Dec 3"). Replies are markdown, and task text is
someone else's data: titles and notes go in through `plain()`, so they show as written and
never become a link or an image in the assistant's voice.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from chat_server.agent.markdown import plain
from chat_server.agent.offline.dates import describe_due, end_of_week, is_overdue, parse_due
from chat_server.agent.offline.task_words import INBOX, extra_details, reminder_words
from shared.contract import ToolFailure

Task = dict[str, Any]

EXAMPLES = (
    "- “add call mom tomorrow high priority #family”\n"
    "- “what's due this week?”, “show my #work tasks”, “anything overdue?”\n"
    "- “mark task 3 done”, “I'm done with the groceries one”\n"
    "- “move task 2 to friday”, “make it high priority”, “delete the meeting task”"
)
_HELP = {
    "greeting": "Hi! I keep your task list. Try:\n",
    "thanks": "You're welcome! Anything else? For example:\n",
    "ack": "Okay. Anything else? For example:\n",
    "help": "I can add, list, complete, change and delete your tasks. Try:\n",
    "unknown": "Sorry, I didn't understand that. I'm the built-in offline assistant, so I know "
    "only simple task requests like these:\n",
}
ACTION_VERBS = {
    "show": "show",
    "complete": "mark as done",
    "reopen": "reopen",
    "delete": "delete",
    "update": "change",
    "subtasks": "add the subtasks to",
}
WEEK = 7  # days
MAX_SHOWN = 10  # candidates listed when several tasks match


def help_text(kind: str) -> str:
    """What the model understands, introduced for a greeting, thanks, "help" or gibberish."""
    if kind == "bye":
        return "Bye! Your tasks will be here when you come back."
    return _HELP.get(kind, _HELP["help"]) + EXAMPLES


def _details(task: Task, now: datetime, *, long: bool, done: bool = True) -> list[str]:
    """Done (unless `done` is False), due date, priority, list, rule, reminders, subtasks and
    tags, as phrases."""
    parts = []
    if done and task.get("completed"):
        parts.append("done")
    if due := task.get("due"):
        late = not task.get("completed") and is_overdue(due, now)
        parts.append(f"due {describe_due(due, now)}" + (", overdue" if late else ""))
    priority = task.get("priority", "medium")
    if priority != "medium":
        parts.append(f"{priority} priority" if long else priority)
    parts.extend(extra_details(task, now, long=long))
    parts.extend(f"#{tag}" for tag in task.get("tags") or [])
    return parts


def summary(task: Task, now: datetime) -> str:
    """A task in one line: `Call mom — due tomorrow, high priority, #family`."""
    parts = _details(task, now, long=True)
    return plain(task["title"]) + (" — " + ", ".join(parts) if parts else "")


def task_line(task: Task, now: datetime, *, done: bool = True) -> str:
    """One list line: `- #3 Buy milk (due tomorrow, high)`."""
    parts = _details(task, now, long=False, done=done)
    return f"- #{task['id']} {plain(task['title'])}" + (f" ({', '.join(parts)})" if parts else "")


def added(change: Task, now: datetime) -> str:
    """Confirms an add: `Added task 7: Call mom — due tomorrow, high priority, #family.`"""
    return f"Added task {change['task_id']}: {summary(change['task'], now)}."


def completed(change: Task, now: datetime) -> str:
    """Confirms a completion (naming a recurring task's next occurrence) or a reopening."""
    text = f"Marked task {change['task_id']} as done: {plain(change['title'])}."
    if change.get("status") == "reopened":
        text = f"Reopened task {change['task_id']}: {plain(change['title'])}."
    if nxt := change.get("next_task"):
        due = f", due {describe_due(nxt['due'], now)}" if nxt.get("due") else ""
        text += f" It repeats, so I added the next one as task {nxt['id']}{due}."
    return text


def deleted(change: Task) -> str:
    """Confirms a deletion."""
    return f"Deleted task {change['task_id']}: {plain(change['title'])}."


def _due_changed(task: Task, number: int, title: str, now: datetime) -> str:
    if task.get("due") is None:
        return f"Removed the due date from task {number}: {title}."
    return f"Task {number} ({title}) is now due {describe_due(task['due'], now)}."


def _tags_changed(task: Task, number: int, title: str, now: datetime) -> str:
    tags = ", ".join(f"#{tag}" for tag in task.get("tags") or [])
    if not tags:
        return f"Task {number} ({title}) has no tags now."
    return f"Task {number} ({title}) is now tagged {tags}."


def _repeat_changed(task: Task, number: int, title: str, now: datetime) -> str:
    if not task.get("repeat"):
        return f"Task {number} ({title}) no longer repeats."
    rule = next((p for p in extra_details(task, now) if p.startswith("repeats ")), "repeats")
    return f"Task {number} ({title}) now {rule}."


def _list_changed(task: Task, number: int, title: str, now: datetime) -> str:
    return f"Moved task {number} ({title}) to {task.get('list')}."


def _reminders_changed(task: Task, number: int, title: str, now: datetime) -> str:
    if not task.get("reminders"):
        return f"Task {number} ({title}) has no reminders now."
    due = f" (due {describe_due(task['due'], now)})" if task.get("due") else ""
    return f"I'll remind you {reminder_words(task['reminders'], now)}{due}: task {number}, {title}."


def _skipped(task: Task, number: int, title: str, now: datetime) -> str:
    due = f"; next due {describe_due(task['due'], now)}" if task.get("due") else ""
    return f"Skipped this one of task {number} ({title}){due}."


def _notes_changed(task: Task, number: int, title: str, now: datetime) -> str:
    if not task.get("description"):
        return f"Removed the notes from task {number}: {title}."
    return f"Updated the notes on task {number}: {title}."


# What one changed field says, by field.
_ONE_CHANGE: dict[str, Callable[[Task, int, str, datetime], str]] = {
    "title": lambda task, number, title, now: f"Renamed task {number} to “{title}”.",
    "due": _due_changed,
    "priority": lambda task, number, title, now: (
        f"Task {number} ({title}) is now {task['priority']} priority."
    ),
    "tags": _tags_changed,
    "recurrence": _repeat_changed,
    "repeat": _repeat_changed,
    "list": _list_changed,
    "reminders": _reminders_changed,
    "skip": _skipped,
    "description": _notes_changed,
}


def updated(change: Task, args: dict[str, Any], now: datetime) -> str:
    """Says what an update_task call changed, from its arguments and the result."""
    task, number = change["task"], change["task_id"]
    changed = set(args) - {"task_id", "repeat_from", "timezone"}
    if len(changed) == 1 and (say := _ONE_CHANGE.get(next(iter(changed)))):
        return say(task, number, plain(task["title"]), now)
    return f"Updated task {number}: {summary(task, now)}."


def shown(task: Task, now: datetime) -> str:
    """One task in full."""
    text = f"Task {task['id']}: {summary(task, now)}."
    if description := task.get("description"):
        text += f"\nNotes: {plain(description)}"
    return text


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _window(args: dict[str, Any], now: datetime) -> str | None:
    """The due window of a list query in words: "due today", "due this week"."""
    after: str | None = args.get("due_after")
    before: str | None = args.get("due_before")
    today, zone = now.date(), now.tzinfo or UTC
    if before is None:
        return f"due from {describe_due(after, now)}" if after is not None else None
    if after == before:
        return f"due {describe_due(before, now)}"
    end, _ = parse_due(before, zone)
    if after is None:
        return (
            "due this week" if end == end_of_week(today) else f"due by {describe_due(before, now)}"
        )
    start, _ = parse_due(after, zone)
    if start.weekday() == 0 and end == end_of_week(start) and 0 < (start - today).days <= WEEK:
        return "due next week"
    return f"due between {describe_due(after, now)} and {describe_due(before, now)}"


def _kind(args: dict[str, Any], now: datetime) -> tuple[str, str]:
    """What a list query asks for: ("pending high-priority", "tagged #work due today")."""
    before = []
    if args.get("overdue"):
        before.append("overdue")
    elif args.get("status") in {"pending", "completed"}:
        before.append(args["status"])
    if priority := args.get("priority"):
        before.append(f"{priority}-priority")
    after = []
    if tag := args.get("tag"):
        after.append(f"tagged #{tag}")
    if window := _window(args, now):
        after.append(window)
    if search := args.get("search"):
        after.append(f"matching “{search}”")
    return " ".join(before), " ".join(after)


def task_list(page: Task, args: dict[str, Any], now: datetime) -> str:
    """A list_tasks result as a heading and one line per task, numbered by task id."""
    tasks = page.get("tasks") or []
    adjectives, qualifiers = _kind(args, now)
    if not tasks:
        if not adjectives and not qualifiers:
            return "Your task list is empty. Add one with “add buy milk tomorrow”."
        noun = " ".join(p for p in (adjectives, "tasks", qualifiers) if p)
        return f"You have no {noun}."
    heading = " ".join(
        p for p in (adjectives, "task" if len(tasks) == 1 else "tasks", qualifiers) if p
    )
    more = page.get("next_cursor") is not None
    count = f"{len(tasks)}+" if more else str(len(tasks))
    lines = [f"You have {count} {heading}:"]
    # In a list of completed tasks, "done" on every line says nothing.
    done = args.get("status") != "completed"
    lines.extend(task_line(task, now, done=done) for task in tasks)
    if more:
        lines.append("…and more. Narrow it down (a #tag, “pending”, a due date) to see the rest.")
    return "\n".join(lines)


def candidates(tasks: list[Task], action: str, words: str, now: datetime) -> str:
    """Several tasks match, or one that may not be meant: list them and ask which one."""
    if len(tasks) == 1:
        lines = [f"One task matches “{words}”:"]
    else:
        lines = [f"{_count(len(tasks), 'task').capitalize()} match “{words}”:"]
    lines.extend(task_line(task, now) for task in tasks[:MAX_SHOWN])
    if len(tasks) > MAX_SHOWN:
        lines.append(f"…and {len(tasks) - MAX_SHOWN} more.")
    first = tasks[0]["id"]
    lines.append(
        f"Which one should I {ACTION_VERBS[action]}? Reply with its number, like “{first}”."
    )
    return "\n".join(lines)


def no_match(words: str, status: str | None) -> str:
    """No task matches the words the user named it by."""
    kind = {"pending": "an open task", "completed": "a completed task"}.get(status or "", "a task")
    return f"I couldn't find {kind} matching “{words}”. Try “show my tasks” to see them all."


def which_task(action: str, tasks: list[Task] | None, now: datetime) -> str:
    """The conversation names no single task: ask which one (listing the last ones seen)."""
    verb = ACTION_VERBS[action]
    if tasks:
        lines = [f"Which task should I {verb}?"]
        lines.extend(task_line(task, now) for task in tasks[:MAX_SHOWN])
        lines.append("Reply with its number.")
        return "\n".join(lines)
    return (
        f"Which task should I {verb}? Tell me its number (“task 3”) or words from its "
        "title (“the milk one”)."
    )


def not_offered(number: int, offered: list[Task], now: datetime) -> str:
    """The user answered "which one?" with a number that was not among the choices."""
    lines = [f"Task {number} isn't one of these:"]
    lines.extend(task_line(task, now) for task in offered[:MAX_SHOWN])
    lines.append("Which one did you mean? Reply with its number.")
    return "\n".join(lines)


def no_position(index: int, count: int) -> str:
    """The user picked a place ("the fourth one") the last list does not have."""
    if count == 0:
        return "I haven't shown you a list of tasks yet. Try “show my tasks”."
    return f"The last list had only {_count(count, 'task')}; which one did you mean?"


def tool_error(failure: ToolFailure) -> str:
    """A failed tool call in plain words, such as `I couldn't find task 99.`"""
    if (task_id := failure.missing_task) is not None:
        return f"I couldn't find task {task_id}."
    if not failure.reached:
        return "I couldn't reach your task list just now. Please try again in a moment."
    why = failure.reason.strip().rstrip(".")
    if not why:
        return "Something went wrong on the task server. Please try again."
    return f"That didn't work: {plain(why[:300])}."


def confirm_move(tasks: list[Task], args: dict[str, Any], now: datetime) -> str:
    """Several tasks would move: list them and ask before touching any."""
    when = describe_due(args["due"], now) if args.get("due") else "no due date"
    lines = [f"That would move {_count(len(tasks), 'task')} to {when}:"]
    lines.extend(task_line(task, now) for task in tasks[:MAX_SHOWN])
    if len(tasks) > MAX_SHOWN:
        lines.append(f"…and {len(tasks) - MAX_SHOWN} more.")
    lines.append("Should I go ahead? Say “yes” to move them all.")
    return "\n".join(lines)


def tag_or_words(word: str, page: Task, args: dict[str, Any], now: datetime) -> str:
    """A list asked for by a bare word: say whether it was read as a tag or as title words."""
    if "tag" in args:
        return task_list(page, args, now)
    heading = f"No tasks are tagged #{word}, so I looked for “{word}” in their titles instead."
    return f"{heading}\n{task_list(page, args, now)}"


def cannot_undo(task_id: int) -> str:
    """The state before the last change is not in this chat, so it cannot be put back."""
    return (
        f"I can't undo that: I don't know what task {task_id} looked like before the change. "
        f"Tell me what to set instead, like “move task {task_id} to friday”."
    )


def undone(tool: str, change: Task, *, now: datetime) -> str:
    """What one undo call put back."""
    task, number = change["task"], change["task_id"]
    title = plain(task["title"])
    if tool == "delete_task":
        return f"Removed task {number} ({title}) again."
    if tool == "restore_task":
        return f"Restored task {number} ({title}) as it was."
    if tool == "complete_task":
        state = "done" if task.get("completed") else "open"
        return f"Task {number} ({title}) is {state} again."
    return f"Task {number} is back as it was: {summary(task, now)}."


def how_many(page: Task, args: dict[str, Any], now: datetime) -> str:
    """How many tasks a list query found: "You have 4 pending tasks."."""
    tasks = page.get("tasks") or []
    adjectives, qualifiers = _kind(args, now)
    more = "+" if page.get("next_cursor") is not None else ""
    noun = " ".join(
        p for p in (adjectives, "task" if len(tasks) == 1 else "tasks", qualifiers) if p
    )
    return f"You have {len(tasks)}{more} {noun}."


def next_due(page: Task, args: dict[str, Any], now: datetime) -> str:
    """The open task due soonest."""
    dated = [task for task in page.get("tasks") or [] if task.get("due")]
    if not dated:
        return "None of your open tasks has a due date."
    return f"Next up: task {dated[0]['id']}, {summary(dated[0], now)}."


ANSWERS: dict[str, Callable[[Task, dict[str, Any], datetime], str]] = {
    "count": how_many,
    "next": next_due,
}


def _due_words(task: Task, now: datetime) -> str:
    if not task.get("due"):
        return "has no due date"
    return f"is due {describe_due(task['due'], now)}"


def _state_words(task: Task, now: datetime) -> str:
    return "is done" if task.get("completed") else "isn't done yet"


def _priority_words(task: Task, now: datetime) -> str:
    return f"is {task.get('priority', 'medium')} priority"


def _exists_words(task: Task, now: datetime) -> str:
    return "is on your list" + (" (done)" if task.get("completed") else "")


def _details_words(task: Task, now: datetime) -> str:
    parts = _details(task, now, long=True)
    return "is on your list" + (": " + ", ".join(parts) if parts else "")


def _tags_words(task: Task, now: datetime) -> str:
    tags = task.get("tags") or []
    return "is tagged " + ", ".join(f"#{tag}" for tag in tags) if tags else "has no tags"


def _reminders_words(task: Task, now: datetime) -> str:
    reminders = task.get("reminders")
    return f"has a reminder {reminder_words(reminders, now)}" if reminders else "has no reminder"


def _list_words(task: Task, now: datetime) -> str:
    return f"is in {task.get('list') or INBOX}"


_ABOUT: dict[str, Callable[[Task, datetime], str]] = {
    "list": _list_words,
    "tags": _tags_words,
    "reminders": _reminders_words,
    "due": _due_words,
    "done": _state_words,
    "priority": _priority_words,
    "exists": _exists_words,
    "details": _details_words,
}


def about(
    tasks: list[Task], aspect: str, words: str, now: datetime, day: date | None = None
) -> str:
    """The answer to a question about the task (or tasks) `words` name."""
    if not tasks:
        if aspect == "exists":
            return f"No, there's no task matching “{plain(words)}” on your list."
        return no_match(words, None)
    say = _ABOUT[aspect]
    lines = [f"Task {t['id']} ({plain(t['title'])}) {say(t, now)}." for t in tasks[:MAX_SHOWN]]
    yes = _YES_NO.get(aspect)
    if aspect == "exists" or (yes and len(tasks) == 1):  # "have I done the laundry yet?"
        said = yes(tasks[0], day, now) if yes else None
        lines[0] = {True: "Yes. ", False: "No. ", None: ""}[said] + lines[0]
    return "\n".join(lines)


def _due_on(task: Task, day: date | None, now: datetime) -> bool | None:
    if day is None:
        return None
    due = task.get("due")
    return isinstance(due, str) and parse_due(due, now.tzinfo or UTC)[0] == day


# The questions answered with a yes or no first ("is the rent due friday?", "is the tax return
# tagged?"); a None from the check means the question asked no yes or no.
_YES_NO: dict[str, Callable[[Task, date | None, datetime], bool | None]] = {
    "exists": lambda task, day, now: True,
    "done": lambda task, day, now: bool(task.get("completed")),
    "tags": lambda task, day, now: bool(task.get("tags")),
    "reminders": lambda task, day, now: bool(task.get("reminders")),
    "due": _due_on,
}


def steps(parent: Task, found: list[Task], now: datetime) -> str:
    """The open subtasks of one task, one a line."""
    title = f"Task {parent['id']} ({plain(parent['title'])})"
    if not found:
        return f"{title} has no open subtasks."
    lines = [task_line(t, now) for t in found]
    return f"{title} has {len(found)} open subtask{'s' if len(found) > 1 else ''}:\n" + "\n".join(
        lines
    )


def ask_add(title: str) -> str:
    """A sentence that names no task and may be one: ask before adding it."""
    return f"{ASK_ADD}“{plain(title)}” as a task? Say “yes” to add it."


ASK_ADD = "Add "
UNREAD = (
    "I'm not sure what to change. Tell me the task and what to do, like “move the dentist to "
    "friday” or “add buy milk tomorrow”."
)


def move_or_add(task: Task, title: str, now: datetime) -> str:
    """A dated to-do that names a task on the list: ask whether it moves that one."""
    return (
        f"You already have task {task['id']}, {summary(task, now)}. Should I move it (say "
        f"“move task {task['id']} to …”), or add “{plain(title)}” as a new task (say “add …”)?"
    )
