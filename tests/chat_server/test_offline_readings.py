"""How the offline grammar reads a few phrasing families (issue 19): questions about what a
task carries, lists said as headers, several tasks named for one change, and negation."""

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chat_server.agent.offline.grammar import parse
from chat_server.agent.offline.intents import (
    ActOnTask,
    AddSeveral,
    AddTask,
    AskAbout,
    ById,
    ByNames,
    Clarify,
    IfList,
    IfNamed,
    ListTasks,
)
from chat_server.agent.offline.last_change import last_change_intent, them_as_it
from chat_server.agent.offline.turns import Conversation, ToolRun
from tests.chat_server.fakes import make_task

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("what tags does the tap have", "tags"),
        ("is the tax return tagged?", "tags"),
        ("does the dentist have a reminder?", "reminders"),
        ("what are the subtasks of move house?", "subtasks"),
        ("what's left for the demo", "subtasks"),
        ("which list is the berlin flights task in?", "list"),
    ],
)
def test_questions_about_what_a_task_carries(text: str, aspect: str) -> None:
    read = parse(text, NOW)
    assert isinstance(read, AskAbout) and read.aspect == aspect


def test_a_due_question_keeps_the_day_asked_for_a_yes_or_no() -> None:
    read = parse("is the prescription due tomorrow?", NOW)
    assert isinstance(read, AskAbout) and read.day == date(2026, 12, 8)


def test_whats_left_for_a_time_is_a_list_query() -> None:
    assert not isinstance(parse("what's left for this afternoon?", NOW), AskAbout)


@pytest.mark.parametrize(
    "text", ["is anything due tomorrow?", "is anything due tomorrow", "gimme everything due tmrw"]
)
def test_anything_due_is_a_list_query(text: str) -> None:
    assert isinstance(parse(text, NOW), ListTasks)


def test_is_everything_due_names_no_task() -> None:
    assert not isinstance(parse("is everything due friday", NOW), ActOnTask)


def test_a_list_said_as_a_header_adds_to_it() -> None:
    read = parse("add to the work list: prepare budget by friday", NOW)
    assert isinstance(read, AddTask)
    assert read.args["list"] == "work" and read.args["title"] == "Prepare budget"


def test_a_question_after_a_list_header_adds_nothing() -> None:
    assert not isinstance(parse("the shopping list: is it empty?", NOW), AddTask)


def test_a_list_named_in_a_count() -> None:
    read = parse("how many things are in my work list?", NOW)
    assert isinstance(read, ListTasks) and read.args["list"] == "work"


def test_one_change_to_several_tasks_led_by_the() -> None:
    read = parse("make the tax return and the insurance renewal both high priority", NOW)
    assert isinstance(read, ActOnTask) and isinstance(read.target, ByNames)
    assert [n.words for n in read.target.names] == ["tax return", "insurance renewal"]


def test_and_inside_a_title_stays_one_task() -> None:
    read = parse("make buy salt and pepper high priority", NOW)
    assert isinstance(read, ActOnTask) and not isinstance(read.target, ByNames)


@pytest.mark.parametrize("text", ["the gym session isn't weekly", "the gym isn't daily anymore"])
def test_a_denied_repeat_is_never_set(text: str) -> None:
    read = parse(text, NOW)
    fields = getattr(read, "fields", None) or getattr(read, "args", None) or {}
    assert "repeat" not in fields


def test_what_is_said_after_a_denied_repeat_is_the_rule() -> None:
    read = parse("the gym isn't every day, it's every 2 days", NOW)
    fields = getattr(read, "fields", None) or getattr(read, "args", None) or {}
    assert fields.get("repeat") == "FREQ=DAILY;INTERVAL=2"


def test_moving_a_subtask_out_said_as_its_own_task() -> None:
    read = parse("make pack books its own task, not part of the move", NOW)
    assert isinstance(read, ActOnTask) and read.args == {"parent_id": 0}


def test_a_participle_completes() -> None:
    read = parse("the demo script is written", NOW)
    assert isinstance(read, ActOnTask) and read.action == "complete"


def test_a_short_day_before_a_clock_time_is_a_day() -> None:
    read = parse("haircut sat 11:30", NOW)
    assert not isinstance(read, AddTask) or read.args["title"] == "Haircut"
    fields = getattr(read, "fields", None) or getattr(read, "args", None) or {}
    assert fields["due"].startswith("2026-12-12")


@pytest.mark.parametrize(
    "text",
    [
        "weekly review sundays 6pm, repeating",
        "add descale the kettle every 2 weeks, counting from when I actually do it",
        "remind me about booking the pediatrician a day early",
        "the latch is not high priority",
        "add 'buy bark chips' under redo the front border",
    ],
)
def test_words_left_unread_are_never_a_new_task(text: str) -> None:
    read = parse(text, NOW)
    assert not isinstance(read, AddTask)
    assert not getattr(read, "todo", False)


def test_typed_day_names_tags_and_take_backs() -> None:
    oil = parse("ad task chnge oil in car on thursdy", NOW)
    oil = getattr(oil, "otherwise", oil)  # "in car" may be a list: without one, the task
    assert isinstance(oil, AddTask) and oil.args["due"] == "2026-12-10"
    mot = parse("new task book the MOT, high priority, tags car and admin", NOW)
    assert isinstance(mot, AddTask) and mot.args["tags"] == ["car", "admin"]
    gone = parse("no wait, delete that", NOW)
    assert isinstance(gone, ActOnTask) and gone.action == "delete"
    assert not (isinstance(r := parse("make it 30 min instead", NOW), ActOnTask) and r.retitle)


def _after(user_text: str, name: str, args: dict[str, Any], task: Any) -> Conversation:
    change = {"task_id": task["id"], "status": "updated", "title": task["title"], "task": task,
              "next_task": None}  # fmt: skip
    run = ToolRun(name, args, json.dumps(change))
    return Conversation(user_text=user_text, last_turn=[run])


def test_a_new_interval_keeps_the_repeat_just_set() -> None:
    plants = make_task(1, "Water plants", repeat="FREQ=DAILY;INTERVAL=3")
    told = _after("actually every 4", "add_task", {"repeat": plants["repeat"]}, plants)
    assert last_change_intent(told) == ActOnTask(
        "update", ById(1), {"repeat": "FREQ=DAILY;INTERVAL=4"}
    )
    # No repeat set by the last turn: nothing is guessed.
    untold = _after("actually every 4", "update_task", {"task_id": 1}, plants)
    assert last_change_intent(untold) is None


def test_a_new_span_moves_the_reminder_just_set() -> None:
    call = make_task(8, "Call the print lab", reminders=[{"before": "PT1H"}])
    told = _after(
        "make it 30 min instead", "update_task", {"reminders": [{"before": "PT1H"}]}, call
    )
    assert last_change_intent(told) == ActOnTask(
        "update", ById(8), {"reminders": [{"before": "PT30M"}]}
    )
    untold = _after("make it 30 min instead", "update_task", {"priority": "high"}, call)
    assert last_change_intent(untold) is None


def test_them_is_the_one_task_just_changed_else_asked() -> None:
    photos = make_task(2, "Edit wedding photos")
    one = _after("", "update_task", {"task_id": 2, "due": "2026-12-11"}, photos)
    read = them_as_it("make them high priority", one, parse, NOW)
    assert isinstance(read, ActOnTask) and read.target == ById(2)
    assert read.args == {"priority": "high"}
    other = _after("", "update_task", {"task_id": 3}, make_task(3, "Edit the album"))
    two = Conversation(last_turn=[*one.last_turn, *other.last_turn])
    assert isinstance(them_as_it("make them high priority", two, parse, NOW), Clarify)


def test_adding_to_a_task_named_with_no_such_list_adds_subtasks() -> None:
    read = parse("add beef stew to the freezer meals", NOW)
    assert isinstance(read, IfList) and isinstance(read.otherwise, IfNamed)
    assert read.otherwise.change.action == "subtasks"
    assert isinstance(read.otherwise.otherwise, AddTask)  # no such task: as before
    # A to-do led by a verb is never put under a task.
    gym = parse("add go to the gym", NOW)
    assert not isinstance(getattr(gym, "otherwise", None), IfNamed)


def test_a_reminder_for_a_task_named_goes_on_that_task() -> None:
    read = parse("set a reminder for the visa documents tomorrow at 9am", NOW)
    assert isinstance(read, IfNamed) and read.words == "the visa documents"
    assert read.change.args["reminders"][0]["at"].startswith("2026-12-")
    assert isinstance(read.otherwise, AddTask)  # no such task: a new one, as before


@pytest.mark.parametrize(
    "text",
    [
        "add gp appt 2morrow 0745",  # a 24-hour clock
        "add mock exam invigilation on the 2nd at 8.45",  # ".45" left by "at 8"
        "Please add Lunch with Dorothy this coming Saturday at half past twelve.",
        "Please make a task: call the tax advisor, Monday 9 o'clock",
        "add get the kids' passport photos done two weeks from today",
        "can you add get the snow tires put on, end of the month-ish",
        "add: gutter cleaning sat, change smoke detector battery sun, call the roofer mon",
        "add gym every mon wed fri 6am",  # "wed" left over
        "add staff payroll on the final friday of each month",
        "Kindly add one task: file the GST return before 20th",
    ],
)
def test_unread_clock_and_day_words_are_asked_about_never_titled(text: str) -> None:
    read = parse(text, NOW)
    assert isinstance(read, Clarify), read


def test_a_slashed_date_is_day_first_in_a_day_first_zone() -> None:
    london = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    chicago = datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("America/Chicago"))
    uk = parse("remind me to ring the boiler man on 3/4", london)
    us = parse("remind me to ring the boiler man on 3/4", chicago)
    assert isinstance(uk, AddTask) and uk.args["due"] == "2027-04-03"
    assert isinstance(us, AddTask) and us.args["due"] == "2027-03-04"


def test_lead_ins_lists_and_spoken_commas() -> None:
    one = parse("Help me add task: renew passport next friday", NOW)
    assert isinstance(one, AddTask) and one.args["title"] == "Renew passport"
    listed = parse("add to classroom list:\n- glue sticks\n- blu tack", NOW)
    assert isinstance(listed, AddSeveral)
    assert [a.args["list"] for a in listed.adds] == ["classroom", "classroom"]
    moved = parse("move the instagram post to a Marketing list", NOW)
    assert isinstance(moved, ActOnTask) and moved.args == {"list": "Marketing"}
    said = parse("add buy a present for mum comma pick up the parcel comma and renew gym", NOW)
    assert isinstance(said, AddSeveral)
    assert not any("comma" in a.args["title"].lower() for a in said.adds)


def test_a_list_asked_for_or_news_is_never_a_new_task() -> None:
    assert not isinstance(parse("classroom list pls", NOW), AddTask)
    news = parse("Margaret's card went in the post today", NOW)
    assert not isinstance(news, AddTask) and not getattr(news, "todo", False)
