"""Everyday phrasings for the offline model, grouped by family, with what each should do.

Written for issue 13 (not copied from the grammar tables): each runs as a whole turn
(lookups included) against the real task functions on an in-memory SQLite list seeded
with SEED, at a fixed "now" (Thursday 2026-11-26 10:00 UTC). An outcome is the write
calls made (add/update/complete/delete) and, for list requests, the last list_tasks call.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bench.conversation_score import Scene, Verdict, judge, load_set, seed_arguments, seed_ref
from chat_server.agent.offline import OfflineModel
from chat_server.agent.offline.steps import Call
from chat_server.agent.zones import REQUEST_ZONE
from mcp_server import lists, tasks, trash
from mcp_server.inputs import (
    AddTaskInput,
    CompleteTaskInput,
    DeleteListInput,
    DeleteTaskInput,
    GetTaskInput,
    ListListsInput,
    ListTasksInput,
    RenameListInput,
    RestoreTaskInput,
    UpdateTaskInput,
)
from shared.contract import (
    ADD_TASKS,
    BATCH_TOOLS,
    CHANGE_TOOLS,
    COMPLETE_TASKS,
    CONFIRM_DELETE_FROM,
    DELETE_TASKS,
    LIST_CHANGE_TOOLS,
    RESTORE_TASK,
    TOOL_NAMES,
    UPDATE_TASKS,
    ToolFailure,
    read_output,
    tool_error_text,
)
from shared.db import make_engine
from shared.migrate import upgrade_all

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday
USER = "u"

# (title, fields, completed); ids follow the order, from 1.
SEED: list[tuple[str, dict[str, Any], bool]] = [
    ("Buy milk", {}, False),  # 1
    ("Call the plumber", {}, False),  # 2
    ("Walk the dog", {}, False),  # 3
    ("Pay the rent", {"due": "2026-11-26"}, False),  # 4
    ("Email Sarah", {"tags": ["work"]}, False),  # 5
    ("Prepare slides", {"tags": ["work"], "due": "2026-11-27"}, False),  # 6
    ("Dentist appointment", {"due": "2026-11-27"}, False),  # 7
    ("Car wash", {}, False),  # 8
    ("Buy groceries", {}, False),  # 9
    ("Team meeting", {}, False),  # 10
    ("Meeting notes", {}, False),  # 11
    ("Pick up dry cleaning", {"tags": ["errands"]}, False),  # 12
    ("Water the plants", {"due": "2026-11-26"}, False),  # 13
    ("Renew passport", {"due": "2026-11-20"}, False),  # 14
    ("Buy bread", {}, False),  # 15
    ("Call mom", {}, False),  # 16
    ("Call mom's doctor", {}, False),  # 17
    ("Book flights", {}, True),  # 18
    ("Pay the gas bill", {}, False),  # 19
    ("Pay the phone bill", {}, False),  # 20
]
NEXT_ID = len(SEED) + 1

_INPUTS = {
    "add_task": AddTaskInput,
    "list_tasks": ListTasksInput,
    "get_task": GetTaskInput,
    "update_task": UpdateTaskInput,
    "complete_task": CompleteTaskInput,
    "delete_task": DeleteTaskInput,
    "restore_task": RestoreTaskInput,
    "list_lists": ListListsInput,
    "rename_list": RenameListInput,
    "delete_list": DeleteListInput,
}


@dataclass(frozen=True)
class Expect:
    """What a phrasing should do: these writes, this last list query, or ask a question."""

    writes: tuple[Call, ...] = ()
    lists: dict[str, Any] | None = None
    asks: bool = False
    says: str = ""
    """Words the reply must hold, changing nothing (an answer to a question)."""


def W(*calls: Call) -> Expect:  # noqa: N802 - reads as a table column
    return Expect(writes=calls)


def L(**args: Any) -> Expect:  # noqa: N802
    return Expect(lists=args)


ASK = Expect(asks=True)
NOTHING = Expect()


def SAYS(words: str) -> Expect:  # noqa: N802
    return Expect(says=words)


def add(title: str, **fields: Any) -> Call:
    return Call("add_task", {"title": title, **fields})


def upd(task_id: int, **fields: Any) -> Call:
    return Call("update_task", {"task_id": task_id, **fields})


def done(task_id: int) -> Call:
    return Call("complete_task", {"task_id": task_id})


def reopen(task_id: int) -> Call:
    return Call("complete_task", {"task_id": task_id, "completed": False})


def delete(task_id: int) -> Call:
    return Call("delete_task", {"task_id": task_id})


def restore(task_id: int) -> Call:
    """ "undo" after a delete: the same task back under its own id."""
    return Call(RESTORE_TASK, {"task_id": task_id})


@dataclass(frozen=True)
class Phrasing:
    family: str
    text: str
    expect: Expect
    before: tuple[str, ...] = ()


def _p(family: str, rows: list[tuple[Any, ...]]) -> list[Phrasing]:
    return [Phrasing(family, row[0], row[1], tuple(row[2:])) for row in rows]


PHRASINGS: list[Phrasing] = [
    *_p(
        "add",
        [
            ("can you put pick up the kids on my list", W(add("Pick up the kids"))),
            ("please put call the bank on the list", W(add("Call the bank"))),
            (
                "don't let me forget to renew the car insurance",
                W(add("Renew the car insurance")),
            ),
            ("water the garden tomorrow, please", W(add("Water the garden", due="2026-11-27"))),
            ("add taks: email sarah", W(add("Email sarah"))),
            ("ad buy stamps", W(add("Buy stamps"))),
            ("addd call grandma", W(add("Call grandma"))),
            ("craete a task to book the venue", W(add("Book the venue"))),
            ("new todo: order printer ink", W(add("Order printer ink"))),
            ("remind me to check the mail tomorrow", W(add("Check the mail", due="2026-11-27"))),
            (
                "could you add schedule the vet visit to my todo list",
                W(add("Schedule the vet visit")),
            ),
            ("i gotta remember to call the landlord", W(add("Call the landlord"))),
            ("add to my list: buy batteries", W(add("Buy batteries"))),
            ("jot down fix the bike", W(add("Fix the bike"))),
            ("task: send the invoice, please", W(add("Send the invoice"))),
            ("fix the fence, please", W(add("Fix the fence"))),
        ],
    ),
    *_p(
        "priority",
        [
            ("add an important task: file taxes", W(add("File taxes", priority="high"))),
            ("urgent: fix the roof", W(add("Fix the roof", priority="high"))),
            ("add call the bank !!!", W(add("Call the bank", priority="high"))),
            ("add buy stamps !!", W(add("Buy stamps", priority="high"))),
            ("add tidy the garage !", W(add("Tidy the garage", priority="low"))),
            ("!!! renew the parking permit", W(add("Renew the parking permit", priority="high"))),
            ("add file report p1", W(add("File report", priority="high"))),
            ("add clean the fridge p2", W(add("Clean the fridge", priority="medium"))),
            ("add sort the photos p4", W(add("Sort the photos", priority="low"))),
            (
                "add a low priority task to sort the photos",
                W(add("Sort the photos", priority="low")),
            ),
            ("add pay the fine, it's urgent", W(add("Pay the fine", priority="high"))),
            ("add high priority: call the insurer", W(add("Call the insurer", priority="high"))),
            ("make task 10 p1", W(upd(10, priority="high"))),
            ("mark task 8 as urgent", W(upd(8, priority="high"))),
        ],
    ),
    *_p(
        "tags",
        [
            ("show my work tasks", L(tag="work")),
            ("what are my errands tasks", L(tag="errands")),
            ("list work tasks", L(tag="work")),
            ("show my garden tasks", L(search="garden")),
            ("tag task 8 errands", W(upd(8, tags=["errands"]))),
            ("label task 3 home", W(upd(3, tags=["home"]))),
            ("tag it work", W(upd(NEXT_ID, tags=["work"])), "add call the accountant"),
            ("label it errands", W(upd(NEXT_ID, tags=["errands"])), "add buy stamps"),
            ("add buy a lamp tagged home", W(add("Buy a lamp", tags=["home"]))),
            ("add call the accountant with tag work", W(add("Call the accountant", tags=["work"]))),
            ("tag the car wash with errands", W(upd(8, tags=["errands"]))),
            ("remove the work tag from task 5", W(upd(5, tags=[]))),
            ("show tasks tagged work", L(tag="work")),
        ],
    ),
    *_p(
        "complete",
        [
            ("I bought the milk", W(done(1))),
            ("called the plumber", W(done(2))),
            ("walked the dog already", W(done(3))),
            ("paid the rent", W(done(4))),
            ("I emailed sarah", W(done(5))),
            ("just watered the plants", W(done(13))),
            ("I've renewed my passport", W(done(14))),
            ("bought groceries", W(done(9))),
            ("finished the slides", W(done(6))),
            # "Call mom" is the exact match; "Call mom's doctor" is another errand.
            ("I called mom", W(done(16))),
            ("I paid the bill", ASK),
            ("task 12 is done", W(done(12))),
            ("picked up the dry cleaning", W(done(12))),
            ("the meeting is done", ASK),
        ],
    ),
    *_p(
        "delete",
        [
            ("I don't need to buy milk anymore", W(delete(1))),
            ("forget about the car wash", W(delete(8))),
            ("nevermind the dentist appointment", W(delete(7))),
            ("del 3", W(delete(3))),
            ("drop task 3", W(delete(3))),
            ("never mind the car wash", W(delete(8))),
            ("i no longer need to call the plumber", W(delete(2))),
            ("scrap the team meeting", W(delete(10))),
            ("get rid of task 11", W(delete(11))),
            ("forget the meeting", ASK),
            ("delete everything", NOTHING),
            ("cancel the dentist", W(delete(7))),
            ("don't need the car wash anymore", W(delete(8))),
            ("remove 12", W(delete(12))),
        ],
    ),
    *_p(
        "several",
        [
            ("add milk, eggs and bread", W(add("Milk"), add("Eggs"), add("Bread"))),
            (
                "add call mom, email dad, book dentist",
                W(add("Call mom"), add("Email dad"), add("Book dentist")),
            ),
            ("complete 2 and 5", W(done(2), done(5))),
            ("mark 3, 4 and 13 as done", W(done(3), done(4), done(13))),
            ("delete tasks 8 and 12", W(delete(8), delete(12))),
            ("add buy salt and pepper", W(add("Buy salt and pepper"))),
            (
                "add apples, pears and plums tomorrow",
                W(
                    add("Apples", due="2026-11-27"),
                    add("Pears", due="2026-11-27"),
                    add("Plums", due="2026-11-27"),
                ),
            ),
            ("add research flights and hotels", W(add("Research flights and hotels"))),
            ("finish tasks 10 and 11", W(done(10), done(11))),
            (
                "remind me to buy stamps, call the bank and pay the gas bill",
                W(add("Buy stamps"), add("Call the bank"), add("Pay the gas bill")),
            ),
            ("add buy milk, low priority", W(add("Buy milk", priority="low"))),
            ("tasks 3 and 4 are done", W(done(3), done(4))),
            ("add bread and butter pudding", W(add("Bread and butter pudding"))),
        ],
    ),
    *_p(
        "shifts",
        [
            ("push task 7 back 2 days", W(upd(7, due="2026-11-29"))),
            ("push it back 2 days", W(upd(7, due="2026-11-29")), "show task 7"),
            ("postpone the dentist to next week", W(upd(7, due="2026-11-30"))),
            ("move everything due today to tomorrow", ASK),
            (
                "yes",
                W(upd(4, due="2026-11-27"), upd(13, due="2026-11-27")),
                "move everything due today to tomorrow",
            ),
            ("move task 4 to 12/3", W(upd(4, due="2026-12-03"))),
            ("postpone the car wash by a week", W(upd(8, due="2026-12-03"))),
            ("delay task 6 by one day", W(upd(6, due="2026-11-28"))),
            (
                "push the dentist appointment to friday at 5pm",
                W(upd(7, due="2026-11-27T17:00:00Z")),
            ),
            ("reschedule task 2 for tomorrow", W(upd(2, due="2026-11-27"))),
            ("move task 13 to 1/15", W(upd(13, due="2027-01-15"))),
            ("bump the team meeting to monday", W(upd(10, due="2026-11-30"))),
            ("push back task 4 by 3 days", W(upd(4, due="2026-11-29"))),
        ],
    ),
    *_p(
        "undo",
        [
            ("undo", W(restore(8)), "delete task 8"),
            ("undo that", W(reopen(3)), "complete task 3"),
            ("undo", W(delete(NEXT_ID)), "add buy stamps"),
            ("undo", W(upd(7, due="2026-11-27")), "postpone the dentist to next week"),
            ("undo", W(upd(8, tags=[])), "tag task 8 errands"),
            (
                "undo",
                W(delete(NEXT_ID + 2), delete(NEXT_ID + 1), delete(NEXT_ID)),
                "add milk, eggs and bread",
            ),
            ("undo that", W(reopen(1)), "I bought the milk"),
            ("undo", W(upd(8, title="Car wash")), "rename the car wash to Wash the car"),
            ("undo", NOTHING),
            ("undo", W(restore(8)), "forget about the car wash"),
            ("undo", W(restore(7)), "delete task 7"),
            ("please undo that", W(done(18)), "reopen task 18"),
        ],
    ),
    *_p(
        "typos",
        [
            ("complete the grocerys task", W(done(9))),
            ("delete the dentsit appointment", W(delete(7))),
            ("mark the plumbr one done", W(done(2))),
            ("move the dentist apointment to monday", W(upd(7, due="2026-11-30"))),
            ("finish the slieds", W(done(6))),
            ("I'm done with the car wsh", W(done(8))),
            ("delete the pasport task", W(delete(14))),
            ("complete meting", ASK),
            ("make the dry claening high priority", W(upd(12, priority="high"))),
            ("the dog walk is done", W(done(3))),
            ("remove the carwash", W(delete(8))),
            ("tick off emial sarah", W(done(5))),
            ("reopen the book flihgts task", W(reopen(18))),
        ],
    ),
]

PHRASINGS += [
    *_p(
        "unclear",
        [
            # A sentence that names one of the user's tasks changes that task.
            ("the dentist appointment is actually on the 20th", W(upd(7, due="2026-12-20"))),
            ("bump the car wash up to high priority", W(upd(8, priority="high"))),
            ("the slides are due monday not friday", W(upd(6, due="2026-11-30"))),
            ("the rent is due on the 1st", W(upd(4, due="2026-12-01"))),
            ("passport renewal needs to happen by friday", W(upd(14, due="2026-11-27"))),
            ("the car wash isn't urgent anymore", W(upd(8, priority="low"))),
            ("plants need watering saturday", W(upd(13, due="2026-11-28"))),
            ("car wash, no rush", W(upd(8, priority="low"))),
            # One that names none: asked about, or added when it plainly is a to-do.
            ("sort the attic", ASK),
            ("clean out the shed", ASK),
            ("the weather is lovely today", NOTHING),
            ("my sister's birthday is on the 14th", NOTHING),
            ("I think tomorrow will be busy", NOTHING),
            (
                "renew the library card by friday",
                W(add("Renew the library card", due="2026-11-27")),
            ),
            ("yes", W(add("Sort the attic")), "sort the attic"),
            ("dinner with sam saturday", W(add("Dinner with sam", due="2026-11-28"))),
            ("it's raining again", NOTHING),
            ("lol", NOTHING),
        ],
    ),
    *_p(
        "questions",
        [
            ("when is the dentist?", SAYS("due tomorrow")),
            ("when's the rent due?", SAYS("due today")),
            ("what's the priority on the car wash?", SAYS("medium priority")),
            ("have I done the dog walk yet?", SAYS("isn't done yet")),
            ("did I book the flights?", SAYS("is done")),
            ("did I already add bread?", SAYS("Yes")),
            ("did I add the tax return?", SAYS("No")),
            ("what's my next deadline?", SAYS("Renew passport")),
            ("how many tasks do I have?", SAYS("19 pending tasks")),
            ("high priority only", L(priority="high", status="pending")),
            ("is the car wash done?", SAYS("isn't done yet")),
            ("is the passport on my list?", SAYS("Yes")),
        ],
    ),
    *_p(
        "multi",
        [
            ("add buy eggs and call the bank", W(add("Buy eggs"), add("Call the bank"))),
            (
                "add 2 tasks: wash the car and feed the cat",
                W(add("Wash the car"), add("Feed the cat")),
            ),
            ("- buy eggs\n- call grandma", W(add("Buy eggs"), add("Call grandma"))),
            ("* oil change\n* dog food", W(add("Oil change"), add("Dog food"))),
            (
                "1) buy eggs 2) call grandma 3) feed cat",
                W(add("Buy eggs"), add("Call grandma"), add("Feed cat")),
            ),
            ("add buy eggs; call grandma", W(add("Buy eggs"), add("Call grandma"))),
            (
                "add pick up the parcel and also book a haircut",
                W(add("Pick up the parcel"), add("Book a haircut")),
            ),
            ("add 'fix tap' and 'oil hinges'", W(add("Fix tap"), add("Oil hinges"))),
            (
                "todo:\nwater the lawn\ncall the vet friday",
                W(add("Water the lawn"), add("Call the vet", due="2026-11-27")),
            ),
            ("mark the car wash and the milk as done", W(done(8), done(1))),
            ("remove the bread and the car wash", W(delete(15), delete(8))),
            ("done: car wash, milk", W(done(8), done(1))),
            ("add rice and beans", W(add("Rice and beans"))),
        ],
    ),
    *_p(
        "followups",
        [
            (
                "wait no, 7am",
                W(upd(NEXT_ID, due="2026-11-27T07:00:00Z")),
                "add call grandma tomorrow at 9am",
            ),
            (
                "no wait, sunday",
                W(upd(NEXT_ID, due="2026-11-29T09:00:00Z")),
                "add call grandma tomorrow at 9am",
            ),
            ("oh and it's for saturday", W(upd(NEXT_ID, due="2026-11-28")), "add call grandma"),
            ("oops, I meant oat milk", W(upd(NEXT_ID, title="Buy oat milk")), "add buy milk"),
            ("and the plumber too", W(done(2)), "mark the car wash done"),
            ("and the vet too", W(add("Call the vet")), "add call grandma"),
            (
                "actually make that high priority",
                W(upd(NEXT_ID, priority="high")),
                "add call grandma",
            ),
            (
                "make it 4 instead",
                W(upd(NEXT_ID, due="2026-11-27T16:00:00Z")),
                "add call grandma tomorrow at 3pm",
            ),
            ("sorry, friday", W(upd(NEXT_ID, due="2026-11-27")), "add call grandma monday"),
            ("wait no, 7am", ASK),
        ],
    ),
    *_p(
        "everyday",
        [
            ("add call grandma in a fortnight", W(add("Call grandma", due="2026-12-10"))),
            ("add pay fees 24/12", W(add("Pay fees", due="2026-12-24"))),
            ("add call grandma 28 feb", W(add("Call grandma", due="2027-02-28"))),
            ("move the dentist to sat", W(upd(7, due="2026-11-28"))),
            ("add renew visa end of the month", W(add("Renew visa", due="2026-11-30"))),
            (
                "add dentist checkup next tues 5pm",
                W(add("Dentist checkup", due="2026-12-01T17:00:00Z")),
            ),
            ("add pay the nanny the 14th", W(add("Pay the nanny", due="2026-12-14"))),
            ("remnd me to call grandma tmrw", W(add("Call grandma", due="2026-11-27"))),
            ("can u shwo my tasks", L()),
            ("pls add call the bank", W(add("Call the bank"))),
            ("add call grandma super important", W(add("Call grandma", priority="high"))),
            ("add call grandma, no rush", W(add("Call grandma", priority="low"))),
            ("add clean the gutters whenever", W(add("Clean the gutters", priority="low"))),
            ("add fix the bike low prio", W(add("Fix the bike", priority="low"))),
            ("add call the bank urgent!!", W(add("Call the bank", priority="high"))),
            ("add tidy the shelf, not important", W(add("Tidy the shelf", priority="low"))),
            ("ticked off the car wash", W(done(8))),
            ("un-tick book flights", W(reopen(18))),
            ("uncheck book flights", W(reopen(18))),
            ("got the groceries", W(done(9))),
            ("car wash done ✅", W(done(8))),
            ("car wash ✔", W(done(8))),
            ("rent paid!", W(done(4))),
            ("put book flights back on my list", W(reopen(18))),
            ("book flights isn't done yet", W(reopen(18))),
            ("mark book flights incomplete", W(reopen(18))),
            ("I didn't actually do it", W(reopen(8)), "complete the car wash"),
            (
                "move the dentist to wednesday",
                W(upd(7, due="2026-12-02T09:00:00Z")),
                "move the dentist to friday at 9am",
            ),
            ("add x in 9999999 days", NOTHING),
            (
                "today's tasks",
                L(status="pending", due_after="2026-11-26", due_before="2026-11-26", sort="due"),
            ),
            ("flag the car wash as important", W(upd(8, priority="high"))),
            ("the dentist is at 3pm now", W(upd(7, due="2026-11-27T15:00:00Z"))),
            ("the team meeting got cancelled", W(delete(10))),
            ("no need to buy bread anymore", W(delete(15))),
            ("take the car wash off my list", W(delete(8))),
            ("it's not done", W(reopen(8)), "complete the car wash"),
            (
                "note for the dentist: bring the insurance card",
                W(upd(7, description="bring the insurance card")),
            ),
            ("the car wash should be called wash the van", W(upd(8, title="wash the van"))),
            ("call it buy oat milk instead", W(upd(NEXT_ID, title="buy oat milk")), "add buy milk"),
            ("oops I meant the team meeting", W(reopen(8), done(10)), "complete the car wash"),
            ("the plants need watering every day", W(upd(13, repeat="FREQ=DAILY"))),
            ("groceries tomorrow", ASK),  # "Buy groceries" is on the list: move it, or a new one?
            (
                "set a reminder for the car service next month",
                W(add("The car service", due="2026-12-01")),
            ),
            ("I didn't walk the dog", W(reopen(3)), "complete walk the dog"),
            ("the rent isn't paid yet", W(reopen(4)), "complete pay the rent"),
            ("oops, undo that", W(reopen(8)), "complete the car wash"),
            ("actually friday", W(upd(NEXT_ID, due="2026-11-27")), "add call mom"),
            ("and the bread", W(delete(15)), "delete the car wash"),
            ("and bread", W(add("Buy bread")), "add buy milk"),
            (
                "make that 2 litres of milk",
                W(upd(NEXT_ID, title="Buy 2 litres of milk")),
                "add buy milk",
            ),
            (
                "add a note: bring insurance card",
                W(upd(7, description="bring insurance card")),
                "show task 7",
            ),
            ("the dentist note should say bring the card", W(upd(7, description="bring the card"))),
            ("friday", ASK),
            ("what's the dentist about?", SAYS("due tomorrow")),
            ("is anything overdue?", L(status="pending", overdue=True, sort="due")),
            ("is the dentist tomorrow?", SAYS("due tomorrow")),
            ("oops, the car wash isn't finished", W(reopen(8)), "complete the car wash"),
            ("I still need to book flights", W(reopen(18))),
            ("not done: book flights", W(reopen(18))),
            ("bring back book flights", W(reopen(18))),
            ("kill the car wash", W(delete(8))),
            ("the car wash isn't happening", W(delete(8))),
            ("i'm not doing the car wash", W(delete(8))),
            ("tag the car wash as errands and home", W(upd(8, tags=["errands", "home"]))),
            ("untag email sarah", W(upd(5, tags=[]))),
            ("oops, 7am", W(upd(NEXT_ID, due="2026-11-27T07:00:00Z")), "add call mom"),
            ("call mom every sunday", ASK),
            ("high priority", W(upd(NEXT_ID, priority="high")), "add call mom"),
            ("no rush", W(upd(NEXT_ID, priority="low")), "add call mom"),
            ("high priority", L(priority="high", status="pending")),
            ("wait, no, undo that", W(restore(8)), "delete the car wash"),
        ],
    ),
]

FAMILIES = list(dict.fromkeys(p.family for p in PHRASINGS))


# ---------------------------------------------------------------- running a turn


class TaskList:
    """The real task functions on an in-memory SQLite list, answering as the tools do."""

    def __init__(
        self, seed: list[tuple[str, dict[str, Any], bool]] | None = None, now: datetime = NOW
    ) -> None:
        self.now = now
        self.engine = make_engine("sqlite://")
        upgrade_all(self.engine)
        for title, fields, completed in SEED if seed is None else seed:
            change = self.call("add_task", {"title": title, **fields})
            if completed:
                self.call("complete_task", {"task_id": json.loads(change)["task_id"]})

    def call(self, name: str, args: dict[str, Any]) -> str:
        """The tool's output text, or its error text, as a model is shown it."""
        if name in _BATCHES:
            return self._batch(name, args)
        try:
            parsed = _INPUTS[name].model_validate(args)
            given = {k: getattr(parsed, k) for k in parsed.model_fields_set}
            with Session(self.engine, expire_on_commit=False) as session:
                result = _run(session, name, given, self.now)
                session.commit()
        except (tasks.TaskError, ValueError) as exc:
            return tool_error_text(name, str(exc))
        return json.dumps(result)

    def _batch(self, name: str, args: dict[str, Any]) -> str:
        """A batch tool as the task server answers it: each item applied on its own, in order
        (mcp_server/batches.py), a large delete refused unless confirmed."""
        single, items = _BATCHES[name], args.get("items")
        if items is None:
            extra = {"completed": args["completed"]} if "completed" in args else {}
            items = [{"task_id": task_id, **extra} for task_id in args["task_ids"]]
        large = name == DELETE_TASKS and len(set(args["task_ids"])) >= CONFIRM_DELETE_FROM
        if large and args.get("confirm") is not True:
            return tool_error_text(name, "deleting needs the user's agreement: confirm")
        results: list[dict[str, Any]] = []
        for item in items:
            try:
                change: Any = read_output(single, self.call(single, item))
            except ToolFailure as failure:
                results.append({"ok": False, "error": failure.reason, "code": failure.code})
                continue
            done = {"ok": True, "status": change["status"], "task": change["task"]}
            results.append(done | ({"next_task": n} if (n := change["next_task"]) else {}))
        succeeded = sum(1 for one in results if one["ok"])
        return json.dumps(
            {"results": results, "succeeded": succeeded, "failed": len(results) - succeeded}
        )

    def all_tasks(self) -> dict[int, dict[str, Any]]:
        """Every task, done ones and subtasks too, by id."""
        page = json.loads(
            self.call("list_tasks", {"status": "all", "subtasks": "all", "limit": 200})
        )
        return {task["id"]: task for task in page["tasks"]}


def _update(session: Session, args: dict[str, Any], now: datetime) -> Any:
    task_id = args.pop("task_id")
    return tasks.update_task(session, user_id=USER, task_id=task_id, changes=args, now=now)


# Each tool as the MCP server runs it, for USER.
_RUNS: dict[str, Callable[[Session, dict[str, Any], datetime], Any]] = {
    "add_task": lambda s, a, now: tasks.add_task(
        s, user_id=USER, data=tasks.NewTask(**a), now=now
    ),
    "list_tasks": lambda s, a, now: tasks.list_tasks(
        s, user_id=USER, query=tasks.TaskQuery(**a), now=now
    ),
    "get_task": lambda s, a, now: tasks.get_task(s, user_id=USER, **a),
    "update_task": _update,
    "complete_task": lambda s, a, now: tasks.set_completed(s, user_id=USER, now=now, **a),
    "delete_task": lambda s, a, now: tasks.delete_task(s, user_id=USER, **a),
    "restore_task": lambda s, a, now: trash.restore_task(s, user_id=USER, now=now, **a),
    "list_lists": lambda s, a, now: lists.list_lists(s, user_id=USER, now=now),
    "rename_list": lambda s, a, now: lists.rename_list(
        s, user_id=USER, name=a.pop("list"), **a
    ),
    "delete_list": lambda s, a, now: lists.delete_list(
        s, user_id=USER, name=a.pop("list"), now=now, **a
    ),
}


def _run(session: Session, name: str, args: dict[str, Any], now: datetime) -> Any:
    return _RUNS[name](session, args, now)


_TOOLS: list[Any] = [
    SimpleNamespace(name=name) for name in (*TOOL_NAMES, RESTORE_TASK, *BATCH_TOOLS)
]
# Each batch tool and the one-task write it applies per item.
_BATCHES = {
    ADD_TASKS: "add_task",
    UPDATE_TASKS: "update_task",
    COMPLETE_TASKS: "complete_task",
    DELETE_TASKS: "delete_task",
}


@dataclass
class Chat:
    """One chat with the offline model: the items so far and every call made."""

    task_list: TaskList = field(default_factory=TaskList)
    items: list[Any] = field(default_factory=list)
    model: OfflineModel = field(default_factory=lambda: OfflineModel(clock=lambda: NOW))
    tools: list[Any] = field(default_factory=lambda: list(_TOOLS))
    """The tools offered to the model (all of them, batch tools too, unless a test says)."""

    def turn(self, text: str) -> tuple[list[Call], str]:
        """The calls one user message leads to, and the reply."""
        self.items.append({"role": "user", "content": text})
        calls: list[Call] = []
        for number in range(12):
            step = self.model.decide(self.items, self.tools)
            if not isinstance(step, Call):
                self.items.append({"role": "assistant", "content": step.text})
                return calls, step.text
            calls.append(step)
            call_id = f"call_{len(self.items)}_{number}"
            output = self.task_list.call(step.name, dict(step.args))
            self.items += [
                {"type": "function_call", "call_id": call_id, "name": step.name,
                 "arguments": json.dumps(step.args)},
                {"type": "function_call_output", "call_id": call_id, "output": output},
            ]  # fmt: skip
        return calls, "(no reply after 12 calls)"


def as_singles(calls: list[Call]) -> list[Call]:
    """The calls with each batch call read as the one-task writes it stands for, in order."""
    singles: list[Call] = []
    for call in calls:
        if call.name not in _BATCHES:
            singles.append(call)
            continue
        single = _BATCHES[call.name]
        if "items" in call.args:
            singles += [Call(single, dict(item)) for item in call.args["items"]]
            continue
        extra = {"completed": call.args["completed"]} if "completed" in call.args else {}
        singles += [Call(single, {"task_id": n, **extra}) for n in call.args["task_ids"]]
    return singles


@dataclass(frozen=True)
class Result:
    phrasing: Phrasing
    calls: list[Call]
    reply: str
    passed: bool
    dangerous: bool


def evaluate(phrasing: Phrasing) -> Result:
    """Run the phrasing (after its earlier messages) and judge what it did."""
    chat = Chat()
    for earlier in phrasing.before:
        chat.turn(earlier)
    calls, reply = chat.turn(phrasing.text)
    changes = CHANGE_TOOLS | LIST_CHANGE_TOOLS | {RESTORE_TASK}
    writes = [c for c in as_singles(calls) if c.name in changes]
    lists = [c.args for c in calls if c.name == "list_tasks"]
    expect = phrasing.expect
    if expect.writes:
        passed = writes == list(expect.writes)
    elif expect.lists is not None:
        passed = not writes and bool(lists) and lists[-1] == expect.lists
    elif expect.says:
        passed = not writes and expect.says.lower() in reply.lower()
    elif expect.asks:
        passed = not writes and "?" in reply
    else:
        passed = not writes
    # Dangerous: a change to an existing task that was not asked for.
    risky = [c for c in writes if c.name != "add_task" and c not in expect.writes]
    return Result(phrasing, calls, reply, passed, dangerous=bool(risky))


def score() -> tuple[dict[str, tuple[int, int]], list[Result]]:
    """(passed, total) per family, and every result."""
    results = [evaluate(p) for p in PHRASINGS]
    by_family = {
        family: (
            sum(r.passed for r in results if r.phrasing.family == family),
            sum(r.phrasing.family == family for r in results),
        )
        for family in FAMILIES
    }
    return by_family, results


def report(by_family: dict[str, tuple[int, int]]) -> str:
    """The score as a small table."""
    lines = [f"{family:<10} {ok:>3}/{total:<3}" for family, (ok, total) in by_family.items()]
    ok = sum(v[0] for v in by_family.values())
    total = sum(v[1] for v in by_family.values())
    lines.append(f"{'overall':<10} {ok:>3}/{total:<3} {100 * ok / total:.1f}%")
    return "\n".join(lines)


def _main() -> None:
    by_family, results = score()
    for result in results:
        if not result.passed or result.dangerous:
            mark = "DANGER" if result.dangerous else "miss"
            print(f"{mark}: [{result.phrasing.family}] {result.phrasing.text!r}")
            print(f"    calls: {[(c.name, c.args) for c in result.calls]}")
            print(f"    reply: {result.reply[:160]!r}")
    print(report(by_family))
    data, cases = dev_cases()
    print(conversation_report([run_case(case, data) for case in cases]))


# ---------------------------------------------------------------- whole conversations

DEV_SET = Path(__file__).with_name("conversations_dev.json")
"""Conversations in the held-out sets' check language (tests/heldout/README.md), run
in-process against the real task functions: the retired held-out sets, and new families."""
CONVERSATIONS_NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
"""The day the first conversations were written (a Monday): their dates read as meant."""


@dataclass(frozen=True)
class CaseResult:
    case: dict[str, Any]
    verdict: Verdict
    reply: str


def run_case(case: dict[str, Any], data: dict[str, Any]) -> CaseResult:
    """One case of a conversation set, judged as bench.conversation_score judges it."""
    seed = case.get("seed", "empty")
    seed_tasks = data["seeds"][seed] if isinstance(seed, str) else seed
    zone = ZoneInfo(case.get("tz", data.get("default_tz", "UTC")))
    today = CONVERSATIONS_NOW.astimezone(zone).date()
    task_list = TaskList([], now=CONVERSATIONS_NOW)
    seed_ids: list[int] = []
    for task in seed_tasks:
        args = seed_arguments(task, today, zone) | {"timezone": zone.key}
        if "parent" in task:
            earlier = [t["title"] for t in seed_tasks[: len(seed_ids)]]
            args["parent_id"] = seed_ids[seed_ref(earlier, task["parent"])]
        seed_ids.append(json.loads(task_list.call("add_task", args))["task_id"])
        if task.get("completed"):
            task_list.call("complete_task", {"task_id": seed_ids[-1]})
    titles = [task["title"] for task in seed_tasks]
    before = task_list.all_tasks()
    chat = Chat(task_list, model=OfflineModel(clock=lambda: CONVERSATIONS_NOW))
    reply = ""
    token = REQUEST_ZONE.set(zone)
    try:
        for text in [*case.get("previous", []), case["message"]]:
            said = re.sub(r"\{id:([^}]+)\}", lambda m: str(seed_ids[seed_ref(titles, m[1])]), text)
            _, reply = chat.turn(said)
    finally:
        REQUEST_ZONE.reset(token)
    scene = Scene(seed_ids, titles, before, task_list.all_tasks(), reply, today, zone)
    return CaseResult(case, judge(case["expect"], scene), reply)


def dev_cases() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = load_set(str(DEV_SET))
    return data, data["cases"]


def conversation_report(results: list[CaseResult]) -> str:
    """Misses, one per line, and the totals."""
    lines = [
        f"{r.case['id']}: {r.case['message']!r} wrong {r.verdict.wrong} missed "
        f"{r.verdict.missed} reply {r.reply[:120]!r}"
        for r in results
        if not r.verdict.passed
    ]
    passed = sum(r.verdict.passed for r in results)
    wrong = sum(len(r.verdict.wrong) for r in results)
    lines.append(f"conversations: {passed}/{len(results)} passed, {wrong} wrong changes")
    return "\n".join(lines)


if __name__ == "__main__":
    _main()
