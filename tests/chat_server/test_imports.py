"""Import files read into items (pure), Todoist's repeat strings as rules (a row each), and an
import run against an in-process fake of the task tools (idempotence, subtasks, reports)."""

import json
from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chat_server.transfer.formats import Context, FormatError, Item, detect, read
from chat_server.transfer.importer import run_import
from chat_server.transfer.repeats import Repeat, read_repeat

BERLIN = ZoneInfo("Europe/Berlin")
# A Wednesday.
CONTEXT = Context("Home.csv", BERLIN, date(2026, 3, 11))

TODOIST_CSV = """TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE
task,Water plants @home @weekly,,1,1,Ann,,every monday at 9am,en,Europe/Berlin
task,Fill the can,,4,2,Ann,,,en,
task,Find the big can,,4,3,Ann,,,en,
section,Errands,,,,,,,,
task,Pay rent,Bank transfer,2,1,Ann,,2026-04-01,en,
task,Call mum,,3,1,Ann,,every full moon,en,
task,,,4,1,Ann,,,en,
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every day", Repeat("FREQ=DAILY")),
        ("daily", Repeat("FREQ=DAILY")),
        ("every 3 days", Repeat("FREQ=DAILY;INTERVAL=3")),
        ("every! 3 days", Repeat("FREQ=DAILY;INTERVAL=3", "completion")),
        ("every other week", Repeat("FREQ=WEEKLY;INTERVAL=2")),
        ("every 2 months", Repeat("FREQ=MONTHLY;INTERVAL=2")),
        ("every year", Repeat("FREQ=YEARLY")),
        ("every weekday", Repeat("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")),
        ("every workday", Repeat("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")),
        ("every monday", Repeat("FREQ=WEEKLY;BYDAY=MO")),
        ("every mon, wed and fri", Repeat("FREQ=WEEKLY;BYDAY=MO,WE,FR")),
        ("every other tuesday", Repeat("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")),
        ("every 15th", Repeat("FREQ=MONTHLY;BYMONTHDAY=15")),
        ("every 1st", Repeat("FREQ=MONTHLY;BYMONTHDAY=1")),
        ("every last day", Repeat("FREQ=MONTHLY;BYMONTHDAY=-1")),
        ("Every Monday at 9am", Repeat("FREQ=WEEKLY;BYDAY=MO", at=time(9))),
        ("every day at 17:30", Repeat("FREQ=DAILY", at=time(17, 30))),
        ("every day at 12am", Repeat("FREQ=DAILY", at=time(0))),
    ],
)
def test_todoist_repeat_strings_read_as_rules(text: str, expected: Repeat) -> None:
    assert read_repeat(text) == expected


@pytest.mark.parametrize("text", ["tomorrow", "Mar 10", "2026-03-10", ""])
def test_a_due_string_that_is_not_a_repeat_reads_as_none(text: str) -> None:
    assert read_repeat(text) is None


@pytest.mark.parametrize("text", ["every full moon", "every 32nd", "every day at 25:00"])
def test_a_repeat_no_row_reads_is_an_error_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match=rf"the repeat '{text}' cannot be read as a rule \("):
        read_repeat(text)


@pytest.mark.parametrize("text", ["every " + "monday, " * 15 + "x", "every " + "mon and " * 14])
def test_a_long_run_of_weekdays_is_refused_not_backtracked(text: str) -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        read_repeat(text)


def test_todoist_csv_keeps_sections_labels_priorities_dates_repeats_and_subtasks() -> None:
    reading = read(TODOIST_CSV.encode(), "todoist-csv", CONTEXT)
    water, fill, find, rent, mum, blank = reading.items
    assert water.title == "Water plants"
    assert water.args == {
        "list": "Home", "tags": ["home", "weekly"], "priority": "high",
        # The next Monday from Wednesday March 11, at 9:00 in Berlin.
        "due": "2026-03-16T08:00:00Z", "timezone": "Europe/Berlin",
        "repeat": "FREQ=WEEKLY;BYDAY=MO", "repeat_from": "due",
    }  # fmt: skip
    assert fill.parent_key == water.key and find.parent_key == water.key
    assert rent.args == {
        "list": "Home / Errands", "description": "Bank transfer", "priority": "medium",
        "due": "2026-04-01",
    }  # fmt: skip
    assert rent.parent_key is None
    assert mum.args["priority"] == "low" and "due" not in mum.args
    assert blank.title == ""
    reasons = {(p.where, p.imported): p.reason for p in reading.problems}
    assert reasons == {
        ("row 4", True): "nested 2 levels deep: imported as a subtask of 'Water plants' "
        "(taskchat nests one level)",
        ("row 7", True): "due left out: the repeat 'every full moon' cannot be read as a rule "
        "(no rule reads 'full moon')",
    }


def test_todoist_json_backup_maps_projects_sections_labels_and_p1_as_high() -> None:
    backup = {
        "projects": [{"id": "1", "name": "Inbox"}, {"id": "2", "name": "Work"}],
        "sections": [{"id": "7", "name": "Q3", "project_id": "2"}],
        "items": [
            {"id": "11", "content": "Ship it", "project_id": "2", "section_id": "7",
             "priority": 4, "labels": ["Urgent"], "checked": False,
             "due": {"date": "2026-03-12T09:00:00", "timezone": "Europe/Berlin",
                     "string": "every thursday at 9am", "is_recurring": True}},
            {"id": "12", "content": "Write notes", "project_id": "2", "parent_id": "11",
             "priority": 1, "checked": True, "due": None},
            {"id": "13", "content": "Moon", "project_id": "1", "priority": 2,
             "due": {"date": "2026-03-20", "string": "every full moon", "is_recurring": True}},
            {"id": "14", "content": "Gone", "project_id": "1", "is_deleted": True},
        ],
    }  # fmt: skip
    reading = read(json.dumps(backup).encode(), "todoist-json", CONTEXT)
    ship, notes, moon = reading.items
    assert ship.key == "todoist:11" and notes.parent_key == "todoist:11" and notes.completed
    assert ship.args == {
        "list": "Work / Q3", "tags": ["urgent"], "priority": "high",
        "due": "2026-03-12T08:00:00Z", "timezone": "Europe/Berlin",
        "repeat": "FREQ=WEEKLY;BYDAY=TH", "repeat_from": "due",
    }  # fmt: skip
    assert moon.args == {"list": "Inbox", "priority": "low", "due": "2026-03-20"}
    [problem] = reading.problems
    assert (problem.where, problem.imported) == ("item 13", True)
    assert "every full moon" in problem.reason


TICKTICK_CSV = '''"Date: 2026-03-10+0000"
"Version: 7.1"
"Status: 
0 Normal
1 Completed
2 Archived"
"Folder Name","List Name","Title","Kind","Tags","Content","Is Check list","Start Date","Due Date","Reminder","Repeat","Priority","Status","Created Time","Completed Time","Order","Timezone","Is All Day","Is Floating","Column Name","Column Order","View Mode","taskId","parentId"
"","Work","Standup","TEXT","team, daily","","N","2026-03-12T08:00:00+0000","2026-03-12T08:00:00+0000","","RRULE:FREQ=DAILY;INTERVAL=1","5","0","2026-03-01T10:00:00+0000","","0","Europe/Berlin","false","false","","","list","101",""
"","Work","Prep","TEXT","","","N","","2026-03-12T00:00:00+0000","","","0","2","2026-03-01T10:00:00+0000","","0","Europe/Berlin","true","false","","","list","102","101"
'''  # noqa: E501


def test_ticktick_backup_skips_its_preamble_and_reads_lists_tags_rules_and_status() -> None:
    assert detect("backup.csv", TICKTICK_CSV.encode()) == "ticktick-csv"
    standup, prep = read(TICKTICK_CSV.encode(), "ticktick-csv", CONTEXT).items
    assert standup.args == {
        "list": "Work", "tags": ["team", "daily"], "priority": "high",
        "due": "2026-03-12T08:00:00Z", "timezone": "Europe/Berlin",
        "repeat": "FREQ=DAILY;INTERVAL=1",
    }  # fmt: skip
    assert (standup.key, standup.completed) == ("ticktick:101", False)
    assert (prep.parent_key, prep.completed) == ("ticktick:101", True)
    assert prep.args["due"] == "2026-03-12" and "timezone" not in prep.args


def test_formats_are_detected_from_the_name_and_first_line() -> None:
    assert detect("x.csv", TODOIST_CSV.encode()) == "todoist-csv"
    assert detect("x.json", b'{"items": [], "projects": []}') == "todoist-json"
    assert detect("x.json", b'{"tasks": []}') == "json"
    assert detect("x.txt", b"title,due\nMilk,2026-01-01\n") == "csv"


@pytest.mark.parametrize(
    ("data", "fmt", "message"),
    [
        (b"\xff\xfe\x00bad", "csv", "not UTF-8"),
        (b"name,when\nx,y\n", "csv", "no title column"),
        (b"{not json", "json", "not JSON"),
        (b'{"items": 3}', "todoist-json", "'items' list"),
        (b"a,b\n", "todoist-csv", "no TYPE, CONTENT column"),
        (b"nothing here\n", "ticktick-csv", "Title column"),
    ],
)
def test_a_file_in_another_format_is_refused_with_why(data: bytes, fmt: Any, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read(data, fmt, CONTEXT)


class FakeTools:
    """add_tasks and complete_tasks over a dict, as the task server answers them."""

    def __init__(self) -> None:
        self.tasks: dict[int, dict[str, Any]] = {}

    async def __call__(self, tool: str, arguments: dict[str, Any]) -> Any:
        results = []
        if tool == "add_tasks":
            for args in arguments["items"]:
                if args.get("repeat") == "FREQ=NEVER":
                    results.append({"ok": False, "error": "repeat: FREQ must be one of ..."})
                    continue
                task = {**args, "id": len(self.tasks) + 1, "completed": False}
                self.tasks[task["id"]] = task
                results.append({"ok": True, "task": task})
        else:
            for task_id in arguments["task_ids"]:
                self.tasks[task_id]["completed"] = True
                results.append({"ok": True, "task": self.tasks[task_id]})
        return {"results": results}


class DictKeys:
    def __init__(self) -> None:
        self.keys: dict[str, int] = {}

    async def known(self, keys: Any) -> dict[str, int]:
        return {key: self.keys[key] for key in keys if key in self.keys}

    async def remember(self, items: dict[str, int]) -> None:
        self.keys.update(items)


async def test_an_import_twice_adds_nothing_the_second_time() -> None:
    tools, keys = FakeTools(), DictKeys()
    reading = read(TODOIST_CSV.encode(), "todoist-csv", CONTEXT)
    first = await run_import(reading, fmt="todoist-csv", call=tools, keys=keys)
    assert (first.imported, first.already_imported, first.not_imported) == (5, 0, 1)
    assert [p.reason for p in first.problems if not p.imported] == ["it has no title"]
    water = next(t for t in tools.tasks.values() if t["title"] == "Water plants")
    assert [t["parent_id"] for t in tools.tasks.values() if "parent_id" in t] == [water["id"]] * 2

    again = read(TODOIST_CSV.encode(), "todoist-csv", CONTEXT)
    second = await run_import(again, fmt="todoist-csv", call=tools, keys=keys)
    assert (second.imported, second.already_imported, second.not_imported) == (0, 5, 1)
    assert len(tools.tasks) == 5


async def test_refused_items_are_reported_and_done_ones_completed_without_their_rule() -> None:
    tools, keys = FakeTools(), DictKeys()
    rows = [
        {"id": 1, "title": "Bad rule", "repeat": "FREQ=NEVER"},
        {"id": 2, "title": "Done weekly", "repeat": "FREQ=WEEKLY", "due": "2026-01-05",
         "completed": True},
        {"id": 3, "title": "Child of bad", "parent_id": 1},
        {"id": 2, "title": "Done weekly again"},
        {"id": 4, "title": "Done, skipped", "completed": True},
    ]  # fmt: skip
    reading = read(json.dumps({"tasks": rows[:4]}).encode(), "json", CONTEXT)
    report = await run_import(reading, fmt="json", call=tools, keys=keys)
    body = report.as_json()
    assert (body["imported"], body["not_imported"]) == (2, 2)
    assert body["problems"] == [
        {"item": "task 4", "title": "Done weekly again",
         "reason": "the same task is in the file twice (same id)", "imported": False},
        {"item": "task 1", "title": "Bad rule", "reason": "repeat: FREQ must be one of ...",
         "imported": False},
        {"item": "task 3", "title": "Child of bad",
         "reason": "its parent task is not imported: imported as a top-level task",
         "imported": True},
    ]  # fmt: skip
    done = next(t for t in tools.tasks.values() if t["title"] == "Done weekly")
    assert done["completed"] and "repeat" not in done

    skipped = read(json.dumps([rows[4]]).encode(), "json", CONTEXT)
    without_done = await run_import(skipped, fmt="json", call=tools, keys=keys, completed=False)
    assert without_done.problems[0].reason == "it is done, and done tasks were not asked for"


def test_a_file_of_too_many_tasks_is_refused() -> None:
    rows = "title\n" + "x\n" * 10_001
    with pytest.raises(FormatError, match="at most 10,000"):
        read(rows.encode(), "csv", CONTEXT)


def test_each_item_of_a_plain_file_without_ids_has_its_own_key() -> None:
    items = read(b"title\nMilk\nMilk\n", "csv", CONTEXT).items
    assert [item.key for item in items] == ["row 2:Milk", "row 3:Milk"]
    assert all(isinstance(item, Item) for item in items)
