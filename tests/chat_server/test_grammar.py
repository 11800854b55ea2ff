"""The offline model's grammar, dates and replies: pure functions, exact values.

The tables give a phrasing and the first tool call the model makes for it (name and exact
arguments), or None when it must answer with help and call nothing. "Now" is fixed:
Thursday 2026-11-26 10:00, in UTC unless a test says otherwise.
"""

import json
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from chat_server.agent.offline import replies
from chat_server.agent.offline.dates import (
    DateError,
    When,
    add_months,
    day_words,
    describe_due,
    find_when,
)
from chat_server.agent.offline.grammar import parse
from chat_server.agent.offline.intents import (
    ActOnTask,
    AddTask,
    ByContext,
    ById,
    ByWords,
    Clarify,
    Help,
    IfList,
    ListCall,
    ListTasks,
    StopSharing,
)
from chat_server.agent.offline.steps import Call, Conversation, Say, next_step
from chat_server.agent.offline.turns import ToolRun
from chat_server.agent.zones import local_zone
from mcp_server.inputs import (
    AddTaskInput,
    CompleteTaskInput,
    DeleteTaskInput,
    GetTaskInput,
    ListTasksInput,
    ToolInput,
    UpdateTaskInput,
)
from mcp_server.task_rules import clean_tags, clean_title, parse_due
from shared.contract import failure_of

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # Thursday


def first_call(text: str, now: datetime = NOW) -> Call | None:
    """The first step for `text` with no history: a tool call, or None for a reply.

    A change by number to a task this chat has not seen reads the task first (so "undo"
    knows its fields); that read is answered here and the change that follows is returned.
    """
    step = next_step(Conversation(user_text=text), now)
    if isinstance(step, Call) and step.name == "get_task" and not text.startswith("show"):
        task = {
            "id": step.args["task_id"], "title": "Task", "description": None,
            "completed": False, "completed_at": None, "priority": "medium", "tags": [],
            "due": None, "recurrence": "none", "created_at": "2026-11-01T09:00:00Z",
            "updated_at": "2026-11-01T09:00:00Z",
        }  # fmt: skip
        read = ToolRun("get_task", dict(step.args), json.dumps(task))
        after = next_step(Conversation(user_text=text, this_turn=[read]), now)
        step = after if isinstance(after, Call) else step
    return step if isinstance(step, Call) else None


def call(name: str, **args: object) -> Call:
    return Call(name, dict(args))


ADDING = [
    ("add a task to buy groceries", call("add_task", title="Buy groceries")),
    ("I need to remember to pay bills", call("add_task", title="Pay bills")),
    (
        "add call mom tomorrow high priority #family",
        call("add_task", title="Call mom", tags=["family"], priority="high", due="2026-11-27"),
    ),
    ("add buy milk today", call("add_task", title="Buy milk", due="2026-11-26")),
    ("add call mom tonight", call("add_task", title="Call mom", due="2026-11-26T20:00:00Z")),
    ("add call mom tonight at 9", call("add_task", title="Call mom", due="2026-11-26T21:00:00Z")),
    ("add submit report next friday", call("add_task", title="Submit report", due="2026-12-04")),
    ("add submit report friday", call("add_task", title="Submit report", due="2026-11-27")),
    ("add submit report this friday", call("add_task", title="Submit report", due="2026-11-27")),
    ("add review thursday", call("add_task", title="Review", due="2026-12-03")),
    ("add pay rent in 3 days", call("add_task", title="Pay rent", due="2026-11-29")),
    ("add renew passport in 2 weeks", call("add_task", title="Renew passport", due="2026-12-10")),
    ("add renew visa in a month", call("add_task", title="Renew visa", due="2026-12-26")),
    ("add dentist on Dec 3", call("add_task", title="Dentist", due="2026-12-03")),
    ("add dentist December 3rd", call("add_task", title="Dentist", due="2026-12-03")),
    ("add dentist 3rd of December", call("add_task", title="Dentist", due="2026-12-03")),
    ("add dentist 2026-12-03", call("add_task", title="Dentist", due="2026-12-03")),
    ("add taxes on March 15", call("add_task", title="Taxes", due="2027-03-15")),
    ("add taxes by Jan 5, 2028", call("add_task", title="Taxes", due="2028-01-05")),
    ("add finish essay by monday", call("add_task", title="Finish essay", due="2026-11-30")),
    ("add book flights this weekend", call("add_task", title="Book flights", due="2026-11-28")),
    ("add plan trip next week", call("add_task", title="Plan trip", due="2026-11-30")),
    ("add close books end of month", call("add_task", title="Close books", due="2026-11-30")),
    ("add pay rent on the 1st", call("add_task", title="Pay rent", due="2026-12-01")),
    ("add call mom at 5pm", call("add_task", title="Call mom", due="2026-11-26T17:00:00Z")),
    ("add call mom at 9am", call("add_task", title="Call mom", due="2026-11-27T09:00:00Z")),
    (
        "add call mom tomorrow at 9:30am",
        call("add_task", title="Call mom", due="2026-11-27T09:30:00Z"),
    ),
    (
        "add lunch with Ann tomorrow at noon",
        call("add_task", title="Lunch with Ann", due="2026-11-27T12:00:00Z"),
    ),
    ("add water plants every day", call("add_task", title="Water plants", repeat="FREQ=DAILY")),
    ("add standup daily", call("add_task", title="Standup", repeat="FREQ=DAILY")),
    ("add review expenses weekly", call("add_task", title="Review expenses", repeat="FREQ=WEEKLY")),
    (
        "add pay rent every month #home",
        call("add_task", title="Pay rent", tags=["home"], repeat="FREQ=MONTHLY"),
    ),
    ("add renew domain yearly", call("add_task", title="Renew domain", repeat="FREQ=YEARLY")),
    (
        "add gym every monday",
        call("add_task", title="Gym", repeat="FREQ=WEEKLY;BYDAY=MO", due="2026-11-30"),
    ),
    ("add buy milk, low priority", call("add_task", title="Buy milk", priority="low")),
    ("add clean desk normal priority", call("add_task", title="Clean desk", priority="medium")),
    ("add clean desk medium priority", call("add_task", title="Clean desk", priority="medium")),
    ("add urgent: fix the server", call("add_task", title="Fix the server", priority="high")),
    ("add fix the server, important", call("add_task", title="Fix the server", priority="high")),
    (
        'add "Call mom tomorrow" friday',
        call("add_task", title="Call mom tomorrow", due="2026-11-27"),
    ),
    (
        "add buy milk notes: 2 litres, organic",
        call("add_task", title="Buy milk", description="2 litres, organic"),
    ),
    ("remind me to call the bank", call("add_task", title="Call the bank")),
    ("don't let me forget to feed the cat", call("add_task", title="Feed the cat")),
    ("todo: fix the sink", call("add_task", title="Fix the sink")),
    ("new task: fix the sink", call("add_task", title="Fix the sink")),
    ("create a task called write report", call("add_task", title="Write report")),
    ("make a task to call Bob", call("add_task", title="Call Bob")),
    ("add buy groceries to my list", call("add_task", title="Buy groceries")),
    ("I need to finish the report", call("add_task", title="Finish the report")),
    ("I have to call mom tomorrow", call("add_task", title="Call mom", due="2026-11-27")),
    (
        "we need to fix the fence by saturday",
        call("add_task", title="Fix the fence", due="2026-11-28"),
    ),
    ("hi, add buy milk please", call("add_task", title="Buy milk")),
    (
        "Could you add “Renew passport” for next month?",
        call("add_task", title="Renew passport", due="2026-12-01"),
    ),
    # A verbless sentence is first checked against the user's own titles (it may name one).
    ("buy milk tomorrow", call("list_tasks", limit=200)),
    ("add iPhone repair", call("add_task", title="iPhone repair")),
]

LISTING = [
    ("show me all my tasks", call("list_tasks")),
    ("my tasks", call("list_tasks")),
    ("what's on my plate?", call("list_tasks")),
    ("what's pending?", call("list_tasks", status="pending")),
    ("what's left", call("list_tasks", status="pending")),
    ("what have I completed?", call("list_tasks", status="completed")),
    ("list completed tasks", call("list_tasks", status="completed")),
    (
        "what's due this week?",
        call("list_tasks", status="pending", due_before="2026-11-29", sort="due"),
    ),
    (
        "what's due today?",
        call(
            "list_tasks",
            status="pending",
            due_after="2026-11-26",
            due_before="2026-11-26",
            sort="due",
        ),
    ),
    (
        "what's due tomorrow?",
        call(
            "list_tasks",
            status="pending",
            due_after="2026-11-27",
            due_before="2026-11-27",
            sort="due",
        ),
    ),
    (
        "what's due next week",
        call(
            "list_tasks",
            status="pending",
            due_after="2026-11-30",
            due_before="2026-12-06",
            sort="due",
        ),
    ),
    (
        "tasks due by friday",
        call("list_tasks", status="pending", due_before="2026-11-27", sort="due"),
    ),
    ("what's due?", call("list_tasks", status="pending", sort="due")),
    ("anything overdue?", call("list_tasks", status="pending", overdue=True, sort="due")),
    ("show overdue", call("list_tasks", status="pending", overdue=True, sort="due")),
    ("show my #work tasks", call("list_tasks", tag="work")),
    ("show me tasks tagged home", call("list_tasks", tag="home")),
    ("show high priority tasks", call("list_tasks", priority="high")),
    ("list my urgent tasks", call("list_tasks", priority="high")),
    ("show low priority", call("list_tasks", priority="low")),
    ("search for milk", call("list_tasks", search="milk")),
    ("find tasks about the dentist", call("list_tasks", search="dentist")),
    ("show me the milk task", call("list_tasks", search="milk")),
    ("show tasks sorted by priority", call("list_tasks", sort="priority", order="desc")),
    (
        "show pending #home tasks due this week",
        call("list_tasks", tag="home", status="pending", due_before="2026-11-29", sort="due"),
    ),
    ("I want to see my tasks", call("list_tasks")),
]

ACTING = [
    ("mark task 3 as complete", call("complete_task", task_id=3)),
    ("complete task 3", call("complete_task", task_id=3)),
    ("task 3 done", call("complete_task", task_id=3)),
    ("done with #5", call("complete_task", task_id=5)),
    ("check off task 8", call("complete_task", task_id=8)),
    (
        "I'm done with the groceries one",
        call("list_tasks", search="groceries", status="pending"),
    ),
    ("mark the milk one done", call("list_tasks", search="milk", status="pending")),
    ("groceries done", call("list_tasks", search="groceries", status="pending")),
    ("reopen task 3", call("complete_task", task_id=3, completed=False)),
    ("mark task 3 as not done", call("complete_task", task_id=3, completed=False)),
    ("reopen the milk task", call("list_tasks", search="milk", status="completed")),
    ("delete task 4", call("delete_task", task_id=4)),
    ("remove task #4", call("delete_task", task_id=4)),
    ("can you please delete task 7?", call("delete_task", task_id=7)),
    ("delete the meeting task", call("list_tasks", search="meeting")),
    ("get rid of the dentist appointment", call("list_tasks", search="dentist appointment")),
    (
        "change task 1 to 'Call mom tonight'",
        call("update_task", task_id=1, title="Call mom tonight"),
    ),
    ("rename task 1 to Call mom tonight", call("update_task", task_id=1, title="Call mom tonight")),
    (
        "change the title of task 2 to Buy oat milk",
        call("update_task", task_id=2, title="Buy oat milk"),
    ),
    ("move task 2 to friday", call("update_task", task_id=2, due="2026-11-27")),
    ("postpone task 2 until dec 10", call("update_task", task_id=2, due="2026-12-10")),
    ("task 2 is due friday", call("update_task", task_id=2, due="2026-11-27")),
    ("change task 5 to tomorrow", call("update_task", task_id=5, due="2026-11-27")),
    (
        "move the dentist appointment to next monday",
        call("list_tasks", search="dentist appointment"),
    ),
    ("make task 4 high priority", call("update_task", task_id=4, priority="high")),
    ("set the priority of task 3 to low", call("update_task", task_id=3, priority="low")),
    ("prioritize task 6", call("update_task", task_id=6, priority="high")),
    (
        "update task 5 to high priority and due friday",
        call("update_task", task_id=5, priority="high", due="2026-11-27"),
    ),
    ("make task 3 weekly", call("update_task", task_id=3, repeat="FREQ=WEEKLY")),
    ("stop repeating task 3", call("update_task", task_id=3, repeat="")),
    ("remove the due date from task 2", call("update_task", task_id=2, due="")),
    ("clear the tags on task 2", call("update_task", task_id=2, tags=[])),
    (
        "add a note to task 3: bring receipts",
        call("update_task", task_id=3, description="bring receipts"),
    ),
    # Tags are a whole list in update_task: the current ones are read first.
    # Tags replace the whole list, so the task is read first (first_call answers: no tags).
    ("tag task 2 #work", call("update_task", task_id=2, tags=["work"])),
    ("add #urgent to task 3", call("update_task", task_id=3, tags=["urgent"])),
    ("remove #work from task 2", call("update_task", task_id=2, tags=[])),
    ("show task 3", call("get_task", task_id=3)),
    ("what's task 12", call("get_task", task_id=12)),
    ("I'd like to delete task 3", call("delete_task", task_id=3)),
    ("task 3 is high priority", call("update_task", task_id=3, priority="high")),
    ("the report is urgent", call("list_tasks", search="report")),
    ("what's task 3 about", call("get_task", task_id=3)),
    ("show", call("list_tasks")),
]

HELP_ONLY = [
    "hello",
    "hi there!",
    "help",
    "what can you do?",
    "thanks!",
    "ok",
    "asdfgh qwerty",
    "what's up",
    "",
    "I cleaned up",  # a past tense with no words that could name a task
    "ok !",
    "forget it",
]


@pytest.mark.parametrize(("text", "expected"), ADDING + LISTING + ACTING)
def test_phrasing_gives_exactly_this_first_tool_call(text: str, expected: Call) -> None:
    assert first_call(text) == expected


@pytest.mark.parametrize("text", HELP_ONLY)
def test_phrasing_gets_help_and_no_tool_call(text: str) -> None:
    step = next_step(Conversation(user_text=text), NOW)
    assert isinstance(step, Say)
    assert "add call mom tomorrow high priority #family" in step.text


@pytest.mark.parametrize(
    ("text", "title"),
    [("call mom", "Call mom"), ("make dinner reservations", "Make dinner reservations")],
)
def test_a_bare_to_do_without_a_field_is_asked_about_not_added(text: str, title: str) -> None:
    step = next_step(Conversation(user_text=text), NOW)
    assert step == Say(f"Add “{title}” as a task? Say “yes” to add it.")


# ---------------------------------------------------------------- zones

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # 21:00 Thursday in Los Angeles is already Friday 05:00 in UTC.
        ("add pay rent today", call("add_task", title="Pay rent", due="2026-11-26")),
        ("add pay rent tomorrow", call("add_task", title="Pay rent", due="2026-11-27")),
        ("add pay rent friday", call("add_task", title="Pay rent", due="2026-11-27")),
        (
            "add call mom tomorrow at 9am",
            call("add_task", title="Call mom", due="2026-11-27T17:00:00Z"),
        ),
        ("add call mom at 10pm", call("add_task", title="Call mom", due="2026-11-27T06:00:00Z")),
        # 8pm has passed in Los Angeles, so a bare time means tomorrow's.
        ("add call mom at 8pm", call("add_task", title="Call mom", due="2026-11-28T04:00:00Z")),
        (
            "what's due today?",
            call(
                "list_tasks",
                status="pending",
                due_after="2026-11-26",
                due_before="2026-11-26",
                timezone="America/Los_Angeles",
                sort="due",
            ),
        ),
        (
            "anything overdue?",
            call(
                "list_tasks",
                status="pending",
                overdue=True,
                timezone="America/Los_Angeles",
                sort="due",
            ),
        ),
    ],
)
def test_dates_are_read_in_the_users_zone(text: str, expected: Call) -> None:
    evening = datetime(2026, 11, 26, 21, 0, tzinfo=LOS_ANGELES)
    assert first_call(text, evening) == expected


def test_today_in_tokyo_can_be_tomorrow_in_utc() -> None:
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC).astimezone(TOKYO)
    assert first_call("add pay rent today", late) == call(
        "add_task", title="Pay rent", due="2026-11-27"
    )
    assert first_call("add call at 9am", late) == call(
        "add_task", title="Call", due="2026-11-27T00:00:00Z"
    )


# ---------------------------------------------------------------- clarifications


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("add", "What should the task be called? For example: “add buy milk tomorrow”."),
        ("add tomorrow", "What should the task be called? For example: “add buy milk tomorrow”."),
        (
            "add meeting feb 30",
            "“feb 30” isn't a real date. Try “tomorrow”, “friday”, “next monday”, “in 3 days”, "
            "“Dec 3” or “2026-12-03”.",
        ),
        (
            "move task 2 to someday",
            "I couldn't read “someday” as a date. Try “tomorrow”, “friday”, “next monday”, "
            "“in 3 days”, “Dec 3” or “2026-12-03”.",
        ),
        (
            "delete all tasks",
            "I can only work on one task at a time. Tell me which one, by number (“task 3”) "
            "or by words from its title (“the milk one”).",
        ),
        (
            "undo that",
            "There's nothing to undo: I haven't changed any of your tasks in this chat yet.",
        ),
        (
            "delete",
            "Which task should I delete? Tell me its number (“task 3”) or words from its title "
            "(“the milk one”).",
        ),
        ("bye", "Bye! Your tasks will be here when you come back."),
        (
            "set the priority of task 3 to extreme",
            "“extreme” isn't a priority: say high, medium or low.",
        ),
    ],
)
def test_unclear_requests_are_answered_without_a_tool_call(text: str, reply: str) -> None:
    assert next_step(Conversation(user_text=text), NOW) == Say(reply)


def test_greeting_thanks_and_gibberish_are_told_apart() -> None:
    assert parse("hello!", NOW) == Help("greeting")
    assert parse("thank you so much!", NOW) == Help("thanks")
    assert parse("help", NOW) == Help("help")
    assert parse("zzzz", NOW) == Help("unknown")
    assert isinstance(parse("add", NOW), Clarify)


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("today", "phrase", "expected"),
    [
        (date(2026, 11, 30), "next friday", date(2026, 12, 11)),  # Monday: next week's
        (date(2026, 11, 30), "friday", date(2026, 12, 4)),
        (date(2026, 11, 29), "next monday", date(2026, 11, 30)),  # Sunday: tomorrow
        (date(2026, 11, 27), "friday", date(2026, 12, 4)),  # said on a Friday: next week's
        (date(2026, 11, 27), "this friday", date(2026, 11, 27)),
        (date(2027, 1, 31), "in 1 month", date(2027, 2, 28)),
        (date(2027, 3, 1), "Feb 29", date(2028, 2, 29)),
        (date(2026, 12, 20), "Dec 3", date(2027, 12, 3)),
        (date(2026, 11, 26), "on sat", date(2026, 11, 28)),
        (date(2026, 11, 26), "the 31st", date(2026, 12, 31)),
        (date(2027, 1, 31), "the 30th", date(2027, 3, 30)),
        (date(2026, 11, 26), "day after tomorrow", date(2026, 11, 28)),
        (date(2026, 11, 26), "end of the year", date(2026, 12, 31)),
    ],
)
def test_date_phrases(today: date, phrase: str, expected: date) -> None:
    now = datetime.combine(today, time(10), tzinfo=UTC)
    when, rest = find_when(phrase, now)
    assert when is not None and when.day == expected
    assert rest == ""


def test_short_weekday_names_need_a_marker_to_be_dates() -> None:
    assert find_when("buy sun cream", NOW) == (None, "buy sun cream")
    assert find_when("due by sat", NOW)[0] == When(date(2026, 11, 28), deadline=True)


def test_impossible_dates_and_times_are_refused() -> None:
    with pytest.raises(DateError, match="“2026-13-01” isn't a real date."):
        find_when("2026-13-01", NOW)
    with pytest.raises(DateError, match="“13pm” isn't a time of day."):
        find_when("at 13pm", NOW)


def test_months_are_added_with_the_day_clamped() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 11, 26), "today"),
        (date(2026, 11, 27), "tomorrow"),
        (date(2026, 11, 25), "yesterday"),
        (date(2026, 11, 28), "Saturday"),
        (date(2026, 12, 2), "Wednesday"),
        (date(2026, 12, 3), "Dec 3"),
        (date(2026, 11, 20), "Nov 20"),
        (date(2027, 1, 5), "Jan 5"),
        (date(2027, 12, 24), "Dec 24, 2027"),
        (date(2025, 12, 24), "Dec 24, 2025"),
    ],
)
def test_days_are_said_relative_to_today(day: date, words: str) -> None:
    assert day_words(day, date(2026, 11, 26)) == words


def test_due_times_are_said_in_the_users_zone() -> None:
    evening = datetime(2026, 11, 26, 21, 0, tzinfo=LOS_ANGELES)
    assert describe_due("2026-11-27T17:00:00Z", evening) == "tomorrow at 9am"
    assert describe_due("2026-11-27T04:30:00Z", evening) == "today at 8:30pm"
    assert describe_due("2026-11-27T20:00:00Z", evening) == "tomorrow at noon"
    assert describe_due("2026-12-01", evening) == "Tuesday"


# ---------------------------------------------------------------- replies


def task(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": 3,
        "title": "Buy milk",
        "description": None,
        "completed": False,
        "priority": "medium",
        "tags": [],
        "due": None,
        "recurrence": "none",
    }
    return base | fields


def change(status: str, **fields: object) -> dict[str, object]:
    item = task(**fields)
    return {
        "task_id": item["id"],
        "status": status,
        "title": item["title"],
        "task": item,
        "next_task": None,
    }


def test_added_names_the_task_number_and_its_details() -> None:
    made = change(
        "created", id=7, title="Call mom", due="2026-11-27", priority="high", tags=["family"]
    )
    assert replies.added(made, NOW) == (
        "Added task 7: Call mom — due tomorrow, high priority, #family."
    )
    assert replies.added(change("created", id=8), NOW) == "Added task 8: Buy milk."


def test_list_is_numbered_by_id_with_due_dates_and_priorities() -> None:
    page = {
        "tasks": [
            task(id=3, due="2026-11-27", priority="high"),
            task(id=5, title="Pay rent", due="2026-11-20", tags=["home"]),
            task(
                id=9,
                title="Stand-up",
                due="2026-11-26T15:30:00Z",
                repeat="FREQ=DAILY",
                repeat_text="every day",
            ),
            task(id=11, title="Read", completed=True, priority="low"),
        ],
        "next_cursor": None,
    }
    assert replies.task_list(page, {}, NOW) == (
        "You have 4 tasks:\n"
        "- #3 Buy milk (due tomorrow, high)\n"
        "- #5 Pay rent (due Nov 20, overdue, #home)\n"
        "- #9 Stand-up (due today at 3:30pm, every day)\n"
        "- #11 Read (done, low)"
    )


@pytest.mark.parametrize(
    ("args", "empty"),
    [
        ({}, "Your task list is empty. Add one with “add buy milk tomorrow”."),
        ({"status": "pending"}, "You have no pending tasks."),
        ({"status": "completed"}, "You have no completed tasks."),
        ({"status": "pending", "overdue": True}, "You have no overdue tasks."),
        ({"priority": "high"}, "You have no high-priority tasks."),
        ({"tag": "work"}, "You have no tasks tagged #work."),
        ({"search": "milk"}, "You have no tasks matching “milk”."),
        (
            {"status": "pending", "due_before": "2026-11-29"},
            "You have no pending tasks due this week.",
        ),
        ({"due_after": "2026-11-26", "due_before": "2026-11-26"}, "You have no tasks due today."),
        (
            {"due_after": "2026-11-30", "due_before": "2026-12-06"},
            "You have no tasks due next week.",
        ),
        ({"due_before": "2026-12-10"}, "You have no tasks due by Dec 10."),
    ],
)
def test_empty_lists_say_what_was_asked_for(args: dict[str, object], empty: str) -> None:
    assert replies.task_list({"tasks": [], "next_cursor": None}, args, NOW) == empty


def test_list_heading_describes_the_filters_and_a_cut_off_list_says_so() -> None:
    page = {"tasks": [task()], "next_cursor": "abc"}
    args = {"status": "pending", "tag": "home", "due_before": "2026-11-29"}
    assert replies.task_list(page, args, NOW) == (
        "You have 1+ pending task tagged #home due this week:\n"
        "- #3 Buy milk\n"
        "…and more. Narrow it down (a #tag, “pending”, a due date) to see the rest."
    )


def test_several_matches_are_listed_with_ids_and_a_question() -> None:
    found = [task(id=4, title="Team meeting", due="2026-11-27"), task(id=9, title="Meeting notes")]
    assert replies.candidates(found, "delete", "meeting", NOW) == (
        "2 tasks match “meeting”:\n"
        "- #4 Team meeting (due tomorrow)\n"
        "- #9 Meeting notes\n"
        "Which one should I delete? Reply with its number, like “4”."
    )


@pytest.mark.parametrize(
    ("output", "reply"),
    [
        (
            '{"error": {"code": "not_found", "message": "Task 99 not found", "task_id": 99}}',
            "I couldn't find task 99.",
        ),
        # Recorded before refusals carried codes: the words, without a code.
        (
            "Error executing tool complete_task: Task 99 not found",
            "That didn't work: Task 99 not found.",
        ),
        (
            '{"error": {"code": "invalid_input", "message": "title must be at most 200 characters'
            ' (got 250)"}}',
            "That didn't work: title must be at most 200 characters (got 250).",
        ),
        (
            "Error executing tool list_tasks",
            "Something went wrong on the task server. Please try again.",
        ),
        (
            "An error occurred while running the tool. Please try again. Error: boom",
            "I couldn't reach your task list just now. Please try again in a moment.",
        ),
    ],
)
def test_tool_errors_come_back_in_plain_words(output: str, reply: str) -> None:
    failure = failure_of("a_tool", output)
    assert failure is not None
    assert replies.tool_error(failure) == reply


def test_update_replies_say_what_changed() -> None:
    moved = change("updated", id=2, due="2026-11-27")
    assert replies.updated(moved, {"task_id": 2, "due": "2026-11-27"}, NOW) == (
        "Task 2 (Buy milk) is now due tomorrow."
    )
    cleared = change("updated", id=2)
    assert replies.updated(cleared, {"task_id": 2, "due": ""}, NOW) == (
        "Removed the due date from task 2: Buy milk."
    )
    renamed = change("updated", id=1, title="Call mom tonight")
    assert replies.updated(renamed, {"task_id": 1, "title": "Call mom tonight"}, NOW) == (
        "Renamed task 1 to “Call mom tonight”."
    )
    both = change("updated", id=5, priority="high", due="2026-11-27")
    assert replies.updated(both, {"task_id": 5, "priority": "high", "due": "x"}, NOW) == (
        "Updated task 5: Buy milk — due tomorrow, high priority."
    )


def test_completion_reply_names_the_next_occurrence_of_a_recurring_task() -> None:
    done = change("completed", id=3, title="Water plants", repeat="FREQ=WEEKLY")
    done["next_task"] = task(id=12, title="Water plants", due="2026-12-03")
    assert replies.completed(done, NOW) == (
        "Marked task 3 as done: Water plants. It repeats, so I added the next one as task 12, "
        "due Dec 3."
    )
    assert replies.completed(change("reopened"), NOW) == "Reopened task 3: Buy milk."


# ---------------------------------------------------------------- the contract

INPUTS: dict[str, type[ToolInput]] = {
    "add_task": AddTaskInput,
    "list_tasks": ListTasksInput,
    "get_task": GetTaskInput,
    "update_task": UpdateTaskInput,
    "complete_task": CompleteTaskInput,
    "delete_task": DeleteTaskInput,
}


@pytest.mark.parametrize(("text", "expected"), ADDING + LISTING + ACTING)
def test_every_call_is_valid_input_for_the_real_mcp_tools(text: str, expected: Call) -> None:
    made = first_call(text)
    assert made is not None
    INPUTS[made.name].model_validate(made.args)  # types, choices, no unknown arguments
    for field in ("due", "due_before", "due_after"):
        if made.args.get(field):  # "" clears a due date: not a date to check
            parse_due(str(made.args[field]), field)  # the server's own date rule
    if made.args.get("title") is not None:
        clean_title(made.args["title"])
    clean_tags(made.args.get("tags"))  # type: ignore[arg-type]


def test_the_machine_zone_follows_tz_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert local_zone(None) == ZoneInfo("Asia/Tokyo")
    assert local_zone("Europe/Paris") == ZoneInfo("Europe/Paris")


def test_slash_dates_are_month_first_unless_the_model_is_set_day_first() -> None:
    from types import SimpleNamespace

    from chat_server.agent.offline import OfflineModel

    tools: list = [SimpleNamespace(name="get_task"), SimpleNamespace(name="update_task")]

    def change(model: OfflineModel, text: str) -> Call:
        """The update after the model's read of task 4 (answered with the task as it is)."""
        read = model.decide(text, tools)
        assert read == call("get_task", task_id=4)
        task = {"id": 4, "title": "Pay rent", "description": None, "completed": False,
                "completed_at": None, "priority": "medium", "tags": [], "due": None,
                "recurrence": "none", "created_at": "2026-11-01T09:00:00Z",
                "updated_at": "2026-11-01T09:00:00Z"}  # fmt: skip
        items = [
            {"role": "user", "content": text},
            {"type": "function_call", "call_id": "c1", "name": "get_task",
             "arguments": json.dumps({"task_id": 4})},
            {"type": "function_call_output", "call_id": "c1", "output": json.dumps(task)},
        ]  # fmt: skip
        return model.decide(items, tools)

    month_first = OfflineModel(clock=lambda: NOW, timezone="UTC")
    day_first = OfflineModel(clock=lambda: NOW, timezone="UTC", day_first=True)
    assert change(month_first, "move task 4 to 12/3") == call(
        "update_task", task_id=4, due="2026-12-03"
    )
    assert change(day_first, "move task 4 to 12/3") == call(
        "update_task", task_id=4, due="2027-03-12"
    )
    assert change(day_first, "move task 4 to 3/12/2027") == call(
        "update_task", task_id=4, due="2027-12-03"
    )


# ---------------------------------------------------------------- new families, one row each


@pytest.mark.parametrize(
    "text",
    ["in 9999999 days", "in 8000 years", "in 99999999999999999999 minutes", "add x in 9999 years"],
)
def test_a_date_no_task_can_hold_is_a_clear_question_not_a_crash(text: str) -> None:
    found = parse(text, NOW)
    assert isinstance(found, Clarify) and "further off" in found.text


def test_shifting_a_due_date_past_the_last_day_is_a_date_error() -> None:
    from chat_server.agent.offline.dates import DateError, shifted

    with pytest.raises(DateError):
        shifted("9999-12-29", 3, "day", NOW)
    with pytest.raises(DateError):
        shifted("9999-12-29", 999999999, "month", NOW)


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("in a fortnight", date(2026, 12, 10)),
        ("24/12", date(2026, 12, 24)),  # 24 cannot be a month: day first
        ("28 feb", date(2027, 2, 28)),
        ("to sat", date(2026, 11, 28)),
        ("end of the month", date(2026, 11, 30)),
        ("the 14th", date(2026, 12, 14)),
    ],
)
def test_everyday_dates_name_the_day(said: str, day: date) -> None:
    from chat_server.agent.offline.dates import parse_when

    when = parse_when(said, NOW)
    assert when is not None and when.day == day


@pytest.mark.parametrize(
    ("text", "aspect", "words"),
    [
        ("when is the dentist?", "due", "dentist"),
        ("what's the priority on the roof repair?", "priority", "roof repair"),
        ("have I done the laundry yet?", "done", "laundry"),
        ("did I already add oat milk?", "exists", "oat milk"),
        ("did I book the flights?", "done", "flights"),
    ],
)
def test_a_question_about_one_task_asks_and_changes_nothing(
    text: str, aspect: str, words: str
) -> None:
    from chat_server.agent.offline.intents import AskAbout, ByWords

    assert parse(text, NOW) == AskAbout(ByWords(words), aspect)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "args", "answer"),
    [
        ("what's my next deadline?", {"status": "pending", "sort": "due"}, "next"),
        ("how many tasks do I have?", {"status": "pending", "limit": 200}, "count"),
        ("high priority only", {"priority": "high", "status": "pending"}, "list"),
    ],
)
def test_a_question_about_the_list_is_a_list_query(
    text: str, args: dict[str, object], answer: str
) -> None:
    from chat_server.agent.offline.intents import ListTasks

    assert parse(text, NOW) == ListTasks(args, answer=answer)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("wait no, 7am", {"at": "07:00"}),
        ("make it 4 instead", {"at": "16:00"}),
        ("no wait, sunday", {"args": {"due": "2026-11-29"}}),
        ("oops, I meant oat milk", {"retitle": "oat milk"}),
        ("actually make that high priority", {"args": {"priority": "high"}}),
    ],
)
def test_a_correction_changes_the_task_just_changed(text: str, intent: dict[str, object]) -> None:
    from chat_server.agent.offline.intents import ActOnTask, ByContext

    assert parse(text, NOW) == ActOnTask("update", ByContext(), **intent)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "priority"),
    [
        ("add call mom super important", "high"),
        ("add call mom, no rush", "low"),
        ("add call mom whenever", "low"),
        ("add call mom low prio", "low"),
        ("add call mom, not important", "low"),
        ("add call mom urgent!!", "high"),  # the word wins over the "!!" beside it
    ],
)
def test_priorities_in_words_and_their_negations(text: str, priority: str) -> None:
    from chat_server.agent.offline.intents import AddTask

    assert parse(text, NOW) == AddTask({"title": "Call mom", "priority": priority})


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("add buy eggs and call the bank", ["Buy eggs", "Call the bank"]),
        ("add 2 tasks: wash the car and feed the cat", ["Wash the car", "Feed the cat"]),
        ("- buy eggs\n- call grandma", ["Buy eggs", "Call grandma"]),
        ("1) eggs 2) flour 3) sugar", ["Eggs", "Flour", "Sugar"]),
        ("add eggs; flour", ["Eggs", "Flour"]),
        ("add 'fix tap' and 'oil hinges'", ["Fix tap", "Oil hinges"]),
        ("add salt and pepper", ["Salt and pepper"]),
    ],
)
def test_several_tasks_however_joined(text: str, titles: list[str]) -> None:
    from chat_server.agent.offline.intents import AddSeveral, AddTask

    found = parse(text, NOW)
    adds = found.adds if isinstance(found, AddSeveral) else (found,)
    assert [a.args["title"] for a in adds if isinstance(a, AddTask)] == titles


def test_a_request_longer_than_any_task_is_asked_about_unread() -> None:
    found = parse("add " + "word " * 200, NOW)
    assert isinstance(found, Clarify)


def test_text_speak_and_a_slip_in_the_command_word_are_read() -> None:
    from chat_server.agent.offline.intents import AddTask, ListTasks

    assert parse("remnd me to call mom tmrw", NOW) == AddTask(
        {"title": "Call mom", "due": "2026-11-27"}
    )
    assert parse("can u shwo my tasks pls", NOW) == ListTasks({})


# ---------------------------------------------------------------- lists, subtasks, sharing

LISTS_AND_SHARING = [
    ("what lists do I have?", ListCall("list_lists")),
    ("show my lists", ListCall("list_lists")),
    ("show my groceries list", ListTasks({"list": "groceries", "status": "pending"})),
    ("what's on the shopping list?", ListTasks({"list": "shopping", "status": "pending"})),
    ("who can see groceries?", ListCall("list_members", {"list": "groceries"})),
    (
        "share the groceries list with sam",
        ListCall("share_list", {"list": "groceries", "user_id": "sam", "role": "editor"}),
    ),
    (
        "share groceries with sam as a viewer",
        ListCall("share_list", {"list": "groceries", "user_id": "sam", "role": "viewer"}),
    ),
    ("stop sharing groceries", StopSharing("groceries")),
    (
        "stop sharing groceries with sam",
        ListCall("unshare_list", {"list": "groceries", "user_id": "sam"}),
    ),
    (
        "remove sam from the groceries list",
        ListCall("unshare_list", {"list": "groceries", "user_id": "sam"}),
    ),
    (
        "rename the groceries list to shopping",
        ListCall("rename_list", {"list": "groceries", "new_name": "shopping"}),
    ),
    (
        "delete the groceries list and its tasks",
        ListCall("delete_list", {"list": "groceries", "delete_tasks": True}),
    ),
    (
        "delete the groceries list and move its tasks to inbox",
        ListCall("delete_list", {"list": "groceries", "move_tasks_to": "inbox"}),
    ),
    ("assign the bins to sam", ActOnTask("update", ByWords("bins"), {"assignee": "sam"})),
    ("put it on the work list", ActOnTask("update", ByContext(), {"list": "work"})),
    ("add milk to the shopping list", AddTask({"title": "Milk", "list": "shopping"})),
    ("add high priority to task 3", ActOnTask("update", ById(3), {"priority": "high"})),
    (
        "add subtask buy soil under water the plants",
        ActOnTask(
            "subtasks", ByWords("water the plants"), {"adds": (AddTask({"title": "Buy soil"}),)}
        ),
    ),
    (
        "break down the move: book van, pack books and change address",
        ActOnTask(
            "subtasks",
            ByWords("move"),
            {
                "adds": tuple(
                    AddTask({"title": t}) for t in ("Book van", "Pack books", "Change address")
                )
            },
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), LISTS_AND_SHARING)
def test_list_subtask_and_sharing_requests_read_as_these_intents(
    text: str, expected: object
) -> None:
    assert parse(text, NOW) == expected


def test_a_list_named_without_the_word_list_is_looked_up_before_anything_changes() -> None:
    moved = parse("move the dentist to personal", NOW)
    assert isinstance(moved, IfList) and moved.name == "personal"
    assert moved.then == ActOnTask("update", ByWords("dentist"), {"list": "personal"})
    assert isinstance(moved.otherwise, Clarify)  # no such list: nothing changes
    added = parse("add go to the gym", NOW)
    assert isinstance(added, IfList) and added.otherwise == AddTask({"title": "Go to the gym"})
    assert first_call("add milk to groceries") == Call("list_lists", {})
    # A date is never a list, and a list's deletion asks where its tasks go.
    assert not isinstance(parse("move the dentist to friday", NOW), IfList)
    assert isinstance(parse("delete the groceries list", NOW), Clarify)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("remove the reminder from the dentist", {"reminders": []}),
        ("don't remind me about the dentist", {"reminders": []}),
        ("remove the dentist reminder", {"reminders": []}),
        ("no reminders for the dentist", {"reminders": []}),
        ("change the dentist reminder to 1 hour before", {"reminders": [{"before": "PT1H"}]}),
        ("set the reminder for the dentist to 15 min before", {"reminders": [{"before": "PT15M"}]}),
    ],
)
def test_reminders_on_a_task_named_are_changed_or_removed(text: str, expected: object) -> None:
    assert parse(text, NOW) == ActOnTask("update", ByWords("dentist"), expected)


def test_a_field_named_after_the_task_whose_value_was_not_read_is_never_a_new_title() -> None:
    for text in ("change the dentist priority to whatever", "change the dentist list to blue"):
        intent = parse(text, NOW)
        assert not (isinstance(intent, ActOnTask) and "title" in intent.args), text


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("add gym at 7 tomorrow morning", "2026-11-27T07:00:00Z"),
        ("add gym tomorrow morning at 7", "2026-11-27T07:00:00Z"),
        ("add run tomorrow at 7 in the morning", "2026-11-27T07:00:00Z"),
        ("add call tomorrow evening at 8", "2026-11-27T20:00:00Z"),
        ("add gym at 7 tomorrow", "2026-11-27T19:00:00Z"),  # a bare 7 is in the evening
    ],
)
def test_a_bare_hour_takes_the_half_of_the_day_said_with_it(text: str, due: str) -> None:
    assert first_call(text) == Call("add_task", {"title": text.split()[1].capitalize(), "due": due})


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("add groceries sat morning", {"title": "Groceries", "due": "2026-11-28T09:00:00Z"}),
        ("add haircut sat", {"title": "Haircut", "due": "2026-11-28"}),
        ("add book haircut tues 5pm", {"title": "Book haircut", "due": "2026-12-01T17:00:00Z"}),
        ("add glasses, thursday 11:15", {"title": "Glasses", "due": "2026-12-03T11:15:00Z"}),
        ("add sun cream", {"title": "Sun cream"}),  # "sun" and "mon" are words first
    ],
)
def test_a_short_day_name_is_a_day_at_the_end_or_before_a_time(
    text: str, args: dict[str, str]
) -> None:
    assert first_call(text) == Call("add_task", args)


@pytest.mark.parametrize(
    "text",
    [
        "add renew passport by end of march",
        "add take meds every 8 hours",
        "add pick up kids at 3 with anna",
    ],
)
def test_a_date_or_time_left_unread_in_a_new_title_is_asked_about_not_added(text: str) -> None:
    intent = parse(text, NOW)
    assert isinstance(intent, Clarify) and "couldn't read" in intent.text, intent
    assert first_call("add 'meet at 7 pm'") == Call("add_task", {"title": "meet at 7 pm"})
