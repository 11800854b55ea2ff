"""Repeat rules, subtasks of repeating tasks, strict-schema updates and the list tools
through the real task server: `python -m mcp_server` as a process, the official client
over HTTP, on SQLite and PostgreSQL (the server and database fixtures are test_e2e.py's,
one per module)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from agents.strict_schema import ensure_strict_json_schema

from shared.auth import mint_jwt
from testbed.servers import Server
from tests.mcp_server.test_e2e import SETTINGS, connect, database, ok, server, user

__all__ = ["database", "server"]  # the module's fixtures

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("rule", "due", "words", "nexts"),
    [
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "2025-03-07T09:00:00Z", "every weekday",
         ["2025-03-10T09:00:00Z", "2025-03-11T09:00:00Z"]),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "2025-03-11", "every 2 weeks on Tue and Thu",
         ["2025-03-13", "2025-03-25", "2025-03-27"]),
        ("FREQ=MONTHLY;BYDAY=-1FR", "2025-01-31", "every month on the last Fri",
         ["2025-02-28", "2025-03-28", "2025-04-25"]),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1", "2025-01-01", "every 3 months on the 1st",
         ["2025-04-01", "2025-07-01"]),
        ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24", "2025-12-24", "every year on Dec 24",
         ["2026-12-24"]),
        ("FREQ=WEEKLY;UNTIL=20250315", "2025-03-01", "every week, until 2025-03-15",
         ["2025-03-08", "2025-03-15"]),
        ("FREQ=DAILY;COUNT=3", "2025-03-01", "every day, 3 times including this one",
         ["2025-03-02", "2025-03-03"]),
    ],
)  # fmt: skip
async def test_each_rule_family_repeats_over_http(
    server: Server, rule: str, due: str, words: str, nexts: list[str]
) -> None:
    async with connect(server, mint_jwt(user("ann"), SETTINGS)) as client:
        task = (await ok(client, "add_task", title="t", due=due, repeat=rule))["task"]
        assert (task["repeat"], task["repeat_text"], task["repeat_from"]) == (rule, words, "due")
        # A series with an end (UNTIL, COUNT) stops after its last occurrence: one more
        # completion than it has occurrences left returns no next task.
        ends = "UNTIL" in rule or "COUNT" in rule
        seen: list[str] = []
        for _ in range(len(nexts) + ends):
            nxt = (await ok(client, "complete_task", task_id=task["id"]))["next_task"]
            if nxt is None:
                break
            seen.append(nxt["due"])
            task = nxt
        assert seen == nexts
        assert nxt is None if ends else nxt["repeat_text"] == words


async def test_nine_oclock_in_berlin_stays_nine_across_the_march_change(server: Server) -> None:
    async with connect(server, mint_jwt(user("ann"), SETTINGS)) as client:
        task = (await ok(client, "add_task", title="standup", due="2025-03-28T09:00:00+01:00",
                         repeat="FREQ=DAILY", timezone="Europe/Berlin"))["task"]  # fmt: skip
        assert (task["due"], task["timezone"]) == ("2025-03-28T08:00:00Z", "Europe/Berlin")
        dues = []
        for _ in range(3):
            task = (await ok(client, "complete_task", task_id=task["id"]))["next_task"]
            dues.append(task["due"])
        # 30 March: clocks go from 2:00 to 3:00, so 9:00 in Berlin is 07:00Z from then on.
        assert dues == ["2025-03-29T08:00:00Z", "2025-03-30T07:00:00Z", "2025-03-31T07:00:00Z"]


async def test_a_repeating_checklist_moved_once_and_skipped_keeps_its_rule(server: Server) -> None:
    rule = "FREQ=WEEKLY;BYDAY=TU,TH"
    async with connect(server, mint_jwt(user("ann"), SETTINGS)) as client:
        parent = (await ok(client, "add_task", title="gym", due="2025-03-11", repeat=rule,
                           list="Health"))["task"]  # fmt: skip
        for title in ("shoes", "towel"):
            await ok(client, "add_task", title=title, parent_id=parent["id"])
        # Moving this occurrence (Tue to Wed) changes neither the rule nor the next one (Thu).
        moved = (await ok(client, "update_task", task_id=parent["id"], due="2025-03-12"))["task"]
        assert (moved["due"], moved["repeat"]) == ("2025-03-12", rule)
        done = await ok(client, "complete_task", task_id=parent["id"], subtasks="complete")
        nxt = done["next_task"]
        assert (nxt["due"], nxt["repeat"], nxt["list"]) == ("2025-03-13", rule, "Health")
        fresh = await ok(client, "get_task", task_id=nxt["id"])
        assert [(s["title"], s["completed"], s["parent_id"]) for s in fresh["subtasks"]] == [
            ("shoes", False, nxt["id"]), ("towel", False, nxt["id"])
        ]  # fmt: skip
        # "Skip this week's": the same task moves to the next occurrence, its subtasks open.
        first = fresh["subtasks"][0]["id"]
        await ok(client, "complete_task", task_id=first)
        skipped = (await ok(client, "update_task", task_id=nxt["id"], skip=True))["task"]
        assert (skipped["id"], skipped["due"], skipped["repeat"]) == (nxt["id"], "2025-03-18", rule)
        after = await ok(client, "get_task", task_id=nxt["id"])
        assert [s["completed"] for s in after["subtasks"]] == [False, False]


async def test_repeat_from_completion_counts_from_the_day_it_was_done(server: Server) -> None:
    async with connect(server, mint_jwt(user("ann"), SETTINGS)) as client:
        task = (await ok(client, "add_task", title="water", due="2025-03-01",
                         repeat="FREQ=DAILY;INTERVAL=3", repeat_from="completion",
                         timezone="UTC"))["task"]  # fmt: skip
        assert task["repeat_from"] == "completion"
        before = datetime.now(UTC).date()
        nxt = (await ok(client, "complete_task", task_id=task["id"]))["next_task"]
        after = datetime.now(UTC).date()
        assert nxt["repeat_from"] == "completion"
        assert nxt["due"] in {str(day + timedelta(days=3)) for day in (before, after)}
        assert date.fromisoformat(nxt["due"]) > date(2025, 3, 4)


async def test_a_strict_schema_client_sets_keeps_and_clears_a_rule(server: Server) -> None:
    async with connect(server, mint_jwt(user("ann"), SETTINGS)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        fields = ensure_strict_json_schema(dict(tools["update_task"].input_schema))["properties"]
        every_null = dict.fromkeys(fields)
        added = (await ok(client, "add_task", title="gym", due="2025-03-10", list="Health",
                          timezone="Europe/Berlin"))["task"]  # fmt: skip
        rule = "FREQ=WEEKLY;BYDAY=MO"
        repeating = {"repeat": rule, "repeat_from": "completion"}
        set_ = await ok(client, "update_task", **{**every_null, "task_id": added["id"],
                                                  **repeating})  # fmt: skip
        assert (set_["task"]["repeat"], set_["task"]["repeat_from"]) == (rule, "completion")
        kept = await ok(client, "update_task", **{**every_null, "task_id": added["id"],
                                                  "title": "gym!"})  # fmt: skip
        assert {**kept["task"], "updated_at": None} == {
            **set_["task"], "title": "gym!", "updated_at": None
        }  # fmt: skip
        cleared = await ok(client, "update_task", **{**every_null, "task_id": added["id"],
                                                     "repeat": ""})  # fmt: skip
        task = cleared["task"]
        assert (task["repeat"], task["repeat_text"], task["list"], task["timezone"]) == (
            None, None, "Health", "Europe/Berlin"
        )  # fmt: skip
        old = await ok(client, "update_task", task_id=added["id"], recurrence="weekly")
        assert old["task"]["repeat"] == "FREQ=WEEKLY"


async def test_list_tools_over_http(server: Server) -> None:
    async with connect(server, mint_jwt(user("ann"), SETTINGS)) as client:
        milk = (await ok(client, "add_task", title="milk", list="shop"))["task"]
        await ok(client, "add_task", title="done one", list="Shop")
        await ok(client, "complete_task", task_id=milk["id"] + 1)
        lists = {i["name"]: i for i in (await ok(client, "list_lists"))["lists"]}
        assert (lists["shop"]["list_id"], lists["shop"]["open"], lists["shop"]["done"]) == (
            milk["list_id"], 1, 1
        )  # fmt: skip
        await ok(client, "rename_list", list="SHOP", new_name="Groceries")
        page = await ok(client, "list_tasks", list="groceries", status="pending")
        assert [(t["title"], t["list"]) for t in page["tasks"]] == [("milk", "Groceries")]
        moved = await ok(client, "delete_list", list="Groceries", move_tasks_to="Later")
        assert moved["moved_to"] == "Later"
        assert (await ok(client, "get_task", task_id=milk["id"]))["list"] == "Later"
        await ok(client, "delete_list", list="Later", delete_tasks=True)
        assert [i["name"] for i in (await ok(client, "list_lists"))["lists"]] == ["Inbox"]
