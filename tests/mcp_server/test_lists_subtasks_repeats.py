"""Lists, subtasks and repeat rules through the official client, as the tools' callers see them."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from agents.strict_schema import ensure_strict_json_schema
from mcp import Client
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import tasks
from mcp_server.server import build_server
from shared.settings import Settings
from tests.mcp_server.conftest import add, in_own_task
from tests.mcp_server.test_tools import call


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[Client]:
    """An in-process client of a local-mode server (every call acts as user "local")."""
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    async with in_own_task(Client(server)) as client:
        yield client


async def refusal(client: Client, tool: str, **arguments: Any) -> tuple[str, str]:
    result = await client.call_tool(tool, arguments)
    assert result.is_error and result.meta is not None
    body = result.meta["taskchat/error"]
    return body["code"], body["message"]


# -- lists ---------------------------------------------------------------------------------


async def test_a_new_user_has_an_inbox_and_tasks_without_a_list_go_there(client: Client):
    page = await call(client, "list_lists")
    shown = [(i["name"], i["inbox"], i["open"], i["done"]) for i in page["lists"]]
    assert shown == [("Inbox", True, 0, 0)]
    task = (await call(client, "add_task", title="t"))["task"]
    assert (task["list"], task["list_id"]) == ("Inbox", page["lists"][0]["list_id"])


async def test_a_list_is_made_on_first_use_and_found_whatever_the_case(client: Client):
    first = (await call(client, "add_task", title="milk", list="Groceries"))["task"]
    second = (await call(client, "add_task", title="eggs", list="groceries"))["task"]
    assert first["list"] == second["list"] == "Groceries"
    assert first["list_id"] == second["list_id"]
    page = await call(client, "list_tasks", list="GROCERIES")
    assert [t["title"] for t in page["tasks"]] == ["milk", "eggs"]
    await call(client, "complete_task", task_id=first["id"])
    counts = {
        i["name"]: (i["open"], i["done"]) for i in (await call(client, "list_lists"))["lists"]
    }
    assert counts == {"Inbox": (0, 0), "Groceries": (1, 1)}


async def test_rename_keeps_the_tasks_and_refuses_a_taken_name_or_the_inbox(client: Client):
    task = (await call(client, "add_task", title="milk", list="Shop"))["task"]
    await call(client, "add_task", title="x", list="Work")
    renamed = await call(client, "rename_list", list="shop", new_name="Groceries", color="#1E90FF")
    assert (renamed["status"], renamed["list"]["name"], renamed["list"]["color"]) == (
        "updated", "Groceries", "#1e90ff"
    )  # fmt: skip
    assert (await call(client, "get_task", task_id=task["id"]))["list"] == "Groceries"
    assert await refusal(client, "rename_list", list="Work", new_name="groceries") == (
        "invalid_input", "there is already a list called 'Groceries'"
    )  # fmt: skip
    assert await refusal(client, "rename_list", list="Inbox", new_name="Later") == (
        "invalid_input", "the Inbox cannot be renamed; it is where new tasks go"
    )  # fmt: skip
    assert await refusal(client, "rename_list", list="Nope", new_name="x") == (
        "not_found", "List 'Nope' not found; list_lists shows the lists there are"
    )  # fmt: skip


async def test_deleting_a_list_with_tasks_needs_a_choice(client: Client):
    kept = (await call(client, "add_task", title="keep", list="Old"))["task"]
    assert await refusal(client, "delete_list", list="Old") == (
        "conflict",
        "list 'Old' holds 1 task(s): pass move_tasks_to (a list name) to keep them, or "
        "delete_tasks: true to delete them with it",
    )
    assert await refusal(client, "delete_list", list="inbox", delete_tasks=True) == (
        "invalid_input", "the Inbox cannot be deleted; it is where new tasks go"
    )  # fmt: skip
    moved = await call(client, "delete_list", list="Old", move_tasks_to="New")
    assert (moved["status"], moved["list"]["name"], moved["moved_to"]) == ("deleted", "Old", "New")
    assert (await call(client, "get_task", task_id=kept["id"]))["list"] == "New"
    await call(client, "delete_list", list="New", delete_tasks=True)
    assert (await refusal(client, "get_task", task_id=kept["id"]))[0] == "not_found"
    await call(client, "add_task", title="t", list="Empty")
    await call(client, "delete_task", task_id=(await call(client, "list_tasks", list="Empty"))[
        "tasks"][0]["id"])  # fmt: skip
    assert (await call(client, "delete_list", list="Empty"))["status"] == "deleted"
    assert [i["name"] for i in (await call(client, "list_lists"))["lists"]] == ["Inbox"]


def test_another_users_lists_and_parents_are_not_found(session: Session):
    bobs = add(session, user_id="bob", title="bob's", list="Secret")
    with pytest.raises(tasks.TaskNotFound, match=f"^Task {bobs['id']} not found$"):
        add(session, user_id="ann", title="sneaky", parent_id=bobs["id"])
    with pytest.raises(tasks.TaskError, match="^List 'Secret' not found"):
        tasks.list_tasks(session, user_id="ann", query=tasks.TaskQuery(list="Secret"))
    mine = add(session, user_id="ann", title="mine", list="Secret")
    assert mine["list_id"] != bobs["list_id"]
    with pytest.raises(tasks.TaskNotFound):
        tasks.update_task(session, user_id="ann", task_id=mine["id"],
                          changes={"parent_id": bobs["id"]})  # fmt: skip


# -- subtasks ------------------------------------------------------------------------------


async def test_subtasks_share_the_parents_list_and_are_counted_and_shown(client: Client):
    parent = (await call(client, "add_task", title="trip", list="Travel"))["task"]
    sub = (await call(client, "add_task", title="pack", parent_id=parent["id"]))["task"]
    await call(client, "add_task", title="book", parent_id=parent["id"])
    assert (sub["list"], sub["parent_id"]) == ("Travel", parent["id"])
    top = (await call(client, "list_tasks"))["tasks"]
    assert [(t["title"], t["open_subtasks"]) for t in top] == [("trip", 2)]
    everything = (await call(client, "list_tasks", subtasks="all"))["tasks"]
    assert [t["title"] for t in everything] == ["trip", "pack", "book"]
    detail = await call(client, "get_task", task_id=parent["id"])
    assert [s["title"] for s in detail["subtasks"]] == ["pack", "book"]
    assert (await refusal(client, "add_task", title="deeper", parent_id=sub["id"]))[1] == (
        f"task {sub['id']} is itself a subtask; subtasks go one level deep, so give its parent, "
        f"task {parent['id']}"
    )
    moved = await call(client, "update_task", task_id=parent["id"], list="Holidays")
    assert moved["task"]["list"] == "Holidays"
    assert (await call(client, "get_task", task_id=sub["id"]))["list"] == "Holidays"
    detached = await call(client, "update_task", task_id=sub["id"], parent_id=0)
    assert detached["task"]["parent_id"] is None


async def test_completing_or_deleting_a_parent_needs_a_choice_about_its_subtasks(client: Client):
    parent = (await call(client, "add_task", title="p"))["task"]
    sub = (await call(client, "add_task", title="s", parent_id=parent["id"]))["task"]
    assert await refusal(client, "complete_task", task_id=parent["id"]) == (
        "conflict",
        f"task {parent['id']} has 1 open subtask(s); complete them first, or pass subtasks: "
        '"complete" to complete them with it',
    )
    done = await call(client, "complete_task", task_id=parent["id"], subtasks="complete")
    assert done["task"]["completed"] and done["task"]["open_subtasks"] == 0
    assert (await call(client, "get_task", task_id=sub["id"]))["completed"] is True
    code, message = await refusal(client, "delete_task", task_id=parent["id"])
    assert code == "conflict" and message.startswith(f"task {parent['id']} has 1 subtask(s)")
    await call(client, "delete_task", task_id=parent["id"], subtasks="keep")
    assert (await call(client, "get_task", task_id=sub["id"]))["parent_id"] is None


# -- repeats -------------------------------------------------------------------------------


async def test_a_rule_repeats_and_its_next_occurrence_has_fresh_subtasks(client: Client):
    parent = (await call(
        client, "add_task", title="review", due="2025-03-11T09:00:00+01:00", list="Work",
        tags=["team"], priority="high", repeat="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
        timezone="Europe/Berlin",
    ))["task"]  # fmt: skip
    assert (parent["repeat_text"], parent["recurrence"], parent["timezone"]) == (
        "every 2 weeks on Tue and Thu", "custom", "Europe/Berlin"
    )  # fmt: skip
    await call(client, "add_task", title="agenda", parent_id=parent["id"])
    done = await call(client, "complete_task", task_id=parent["id"], subtasks="complete")
    nxt = done["next_task"]
    assert (nxt["due"], nxt["list"], nxt["tags"], nxt["priority"], nxt["repeat"]) == (
        "2025-03-13T08:00:00Z", "Work", ["team"], "high", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH"
    )  # fmt: skip
    fresh = await call(client, "get_task", task_id=nxt["id"])
    assert [(s["title"], s["completed"]) for s in fresh["subtasks"]] == [("agenda", False)]
    # Across the change to summer time (30 March) 9:00 stays 9:00 in Berlin.
    summer = await call(client, "update_task", task_id=nxt["id"], due="2025-03-27T09:00:00+01:00")
    later = await call(client, "complete_task", task_id=summer["task_id"], subtasks="complete")
    assert later["next_task"]["due"] == "2025-04-08T07:00:00Z"


async def test_count_ends_the_series_and_skip_moves_to_the_next_occurrence(client: Client):
    task = (await call(client, "add_task", title="pill", due="2025-03-10",
                       repeat="FREQ=DAILY;COUNT=3"))["task"]  # fmt: skip
    skipped = await call(client, "update_task", task_id=task["id"], skip=True)
    assert (skipped["task"]["due"], skipped["task"]["repeat"]) == (
        "2025-03-11", "FREQ=DAILY;COUNT=2"
    )  # fmt: skip
    last = (await call(client, "complete_task", task_id=task["id"]))["next_task"]
    assert (last["due"], last["repeat"]) == ("2025-03-12", "FREQ=DAILY;COUNT=1")
    assert (await call(client, "complete_task", task_id=last["id"]))["next_task"] is None


async def test_repeat_from_completion_follows_the_day_it_was_done(session: Session):
    task = add(session, title="water", due="2025-03-01", repeat="FREQ=DAILY;INTERVAL=3",
               repeat_from="completion")  # fmt: skip
    done = tasks.set_completed(session, user_id="ann", task_id=task["id"],
                               now=datetime(2025, 3, 10, 20, tzinfo=UTC))  # fmt: skip
    assert done["next_task"] is not None and done["next_task"]["due"] == "2025-03-13"


async def test_a_bad_rule_is_refused_with_what_is_wrong(client: Client):
    assert await refusal(client, "add_task", title="x", repeat="FREQ=DAILY;BYHOUR=9") == (
        "invalid_input", "repeat: BYHOUR is not supported with FREQ=DAILY"
    )  # fmt: skip
    assert await refusal(
        client,
        "add_task",
        title="x",
        due="2025-03-01",
        repeat="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    ) == ("invalid_input", "repeat: it never gives an occurrence")
    sub_parent = (await call(client, "add_task", title="p"))["task"]
    assert (await refusal(client, "add_task", title="s", parent_id=sub_parent["id"],
                          repeat="FREQ=DAILY"))[1].startswith(
        "a subtask cannot repeat")  # fmt: skip


async def test_a_strict_update_leaves_every_null_field_and_an_empty_repeat_stops_it(client: Client):
    strict = {
        tool.name: ensure_strict_json_schema(dict(tool.input_schema))
        for tool in (await client.list_tools()).tools
    }
    fields = strict["update_task"]["properties"]
    added = (await call(client, "add_task", title="gym", due="2025-03-10", list="Health",
                        repeat="FREQ=WEEKLY;BYDAY=MO", timezone="Europe/Berlin")
             )["task"]  # fmt: skip
    renamed = await call(client, "update_task", **{**dict.fromkeys(fields), "task_id": added["id"],
                                                   "title": "gym!"})  # fmt: skip
    assert {**renamed["task"], "updated_at": None} == {**added, "title": "gym!", "updated_at": None}
    stopped = await call(client, "update_task", **{**dict.fromkeys(fields), "task_id": added["id"],
                                                   "repeat": ""})  # fmt: skip
    task = stopped["task"]
    assert (task["repeat"], task["recurrence"], task["repeat_text"], task["list"]) == (
        None, "none", None, "Health"
    )  # fmt: skip


async def test_the_old_recurrence_argument_still_works(client: Client):
    task = (await call(client, "add_task", title="rent", due="2025-01-31", recurrence="monthly"))[
        "task"
    ]
    assert (task["repeat"], task["recurrence"], task["repeat_text"]) == (
        "FREQ=MONTHLY;BYMONTHDAY=31,-1;BYSETPOS=1", "monthly",
        "every month on the 31st (or the month's last day)",
    )  # fmt: skip
    weekly = await call(client, "update_task", task_id=task["id"], recurrence="weekly")
    assert (weekly["task"]["repeat"], weekly["task"]["recurrence"]) == ("FREQ=WEEKLY", "weekly")


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati", ""])
async def test_the_old_monthly_recurrence_keeps_a_date_only_dues_own_day_in_any_zone(
    client: Client, zone: str
):
    task = (
        await call(client, "add_task", title="rent", due="2025-04-01", recurrence="monthly",
                   timezone=zone)
    )["task"]

    assert (task["repeat"], task["repeat_text"]) == ("FREQ=MONTHLY", "every month")
    changed = await call(client, "update_task", task_id=task["id"], recurrence="monthly")
    assert changed["task"]["repeat"] == "FREQ=MONTHLY"
