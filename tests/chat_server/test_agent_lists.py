"""The agent with lists, subtasks and repeat rules: the user's zone on the calls that need
it, what the instructions say, and the workflow summaries of list calls."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from agents import Runner
from agents.testing import ScriptedModel, assistant_message, function_call

from chat_server.agent.agent import build_agent, instructions_for, user_meta
from chat_server.agent.task_tools import summary, with_zone
from chat_server.agent.zones import REQUEST_ZONE
from shared.auth import Principal
from tests.chat_server.fakes import FakeTaskServer, make_task

BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(
    ("name", "arguments", "sent"),
    [
        ("add_task", {"title": "rent", "due": "2025-07-01T09:00:00+02:00"}, BERLIN),
        ("add_task", {"title": "gym", "repeat": "FREQ=WEEKLY;BYDAY=MO"}, BERLIN),
        ("update_task", {"task_id": 3, "due": "2025-07-01T09:00:00Z", "recurrence": "daily"},
         BERLIN),
        # Nothing read in a zone: a title, a date-only due, the old recurrence (which the
        # task server would read a date-only due for in the zone, a day early west of UTC),
        # or values that clear the due or the rule.
        ("add_task", {"title": "milk"}, None),
        ("add_task", {"title": "rent", "due": "2025-07-01"}, None),
        ("update_task", {"task_id": 3, "recurrence": "monthly"}, None),
        ("add_task", {"title": "milk", "due": None, "repeat": None, "timezone": None}, None),
        ("update_task", {"task_id": 3, "title": "rent!"}, None),
        ("update_task", {"task_id": 3, "repeat": "", "due": ""}, None),
        ("update_task", {"task_id": 3, "recurrence": "none"}, None),
        # Calls that take no zone.
        ("complete_task", {"task_id": 3, "due": "2025-07-01"}, None),
    ],
)
def test_calls_that_set_a_due_or_a_rule_get_the_users_zone(
    name: str, arguments: dict[str, Any], sent: str | None
) -> None:
    assert with_zone(name, arguments, BERLIN).get("timezone") == sent


def test_a_zone_the_caller_chose_stays_even_an_empty_one() -> None:
    for given in ("Asia/Tokyo", ""):
        arguments = {"title": "rent", "due": "2025-07-01T09:00:00Z", "timezone": given}
        assert with_zone("add_task", arguments, BERLIN) == arguments
    assert with_zone("add_task", {"title": "rent", "repeat": "FREQ=DAILY"}, None) == {
        "title": "rent", "repeat": "FREQ=DAILY"
    }


@pytest.fixture
def in_berlin() -> Iterator[None]:
    token = REQUEST_ZONE.set(ZoneInfo(BERLIN))
    yield
    REQUEST_ZONE.reset(token)


async def run_adds(server: FakeTaskServer, *calls: dict[str, Any]) -> None:
    server.tool_meta_resolver = user_meta
    steps: list[list[Any]] = [
        [function_call("add_task", arguments, call_id=f"call_{i}")]
        for i, arguments in enumerate(calls)
    ]
    model = ScriptedModel([*steps, [assistant_message("Done.", item_id="msg_1")]])
    agent = build_agent(model, server, ZoneInfo("America/New_York"))
    context: Any = SimpleNamespace(request_context=Principal("al"))
    await Runner.run(agent, "add them", context=context)


@pytest.mark.usefixtures("in_berlin")
async def test_the_agents_add_task_calls_carry_the_request_zone_when_they_need_one() -> None:
    server = FakeTaskServer()

    await run_adds(
        server,
        {"title": "rent", "due": "2025-07-01T09:00:00+02:00", "repeat": "FREQ=MONTHLY"},
        {"title": "milk"},
        {"title": "call Aiko", "due": "2025-07-01T09:00:00+09:00", "timezone": "Asia/Tokyo"},
    )

    assert [arguments.get("timezone") for _, arguments, _ in server.calls] == [
        BERLIN, None, "Asia/Tokyo"
    ]


async def test_without_an_x_timezone_header_the_servers_zone_is_sent() -> None:
    server = FakeTaskServer()

    await run_adds(server, {"title": "rent", "due": "2025-07-01T09:00:00-04:00"})

    assert server.calls[0][1] == {
        "title": "rent", "due": "2025-07-01T09:00:00-04:00", "timezone": "America/New_York"
    }


def test_instructions_explain_lists_subtasks_and_repeat_rules() -> None:
    text = instructions_for(datetime(2025, 6, 2, 9, 0, tzinfo=UTC))

    for words in ('list="Groceries"', "parent_id", "RRULE", 'repeat ""', "repeat_text",
                  "recurrence", "list_lists", "delete_list", 'subtasks "complete"'):
        assert words in text, words


def change(task: dict[str, Any], status: str = "created") -> str:
    return json.dumps({"task_id": task["id"], "status": status, "title": task["title"],
                       "task": task, "next_task": None})


def test_summaries_name_the_list_a_task_was_added_to_unless_the_inbox() -> None:
    milk = dict(make_task(1, "Milk", list="Groceries"))

    assert summary("add_task", change(milk)) == "Added “Milk” to Groceries"
    assert summary("add_task", change(milk | {"list": "Inbox"})) == "Added “Milk”"
    assert summary("add_task", change(dict(make_task(1, "Milk")))) == "Added “Milk”"
    assert summary("update_task", change(milk, "updated")) == "Updated “Milk”"
    gym = dict(make_task(2, "Gym", repeat="FREQ=WEEKLY", repeat_text="every week"))
    assert summary("add_task", change(gym)) == "Added “Gym”, repeating every week"


def test_summaries_of_the_list_tools() -> None:
    lists = {"lists": [{"name": "Inbox", "list_id": 1, "color": None, "position": 0,
                        "inbox": True, "open": 2, "done": 0}]}
    trip = {"name": "Trip", "list_id": 2, "color": None, "position": 1, "inbox": False,
            "open": 0, "done": 0}

    assert summary("list_lists", json.dumps(lists)) == "Found 1 list"
    assert summary("list_lists", json.dumps({"lists": []})) == "Found no lists"
    assert summary("rename_list", json.dumps(
        {"status": "updated", "list": trip, "moved_to": None})) == "Updated list “Trip”"
    assert summary("delete_list", json.dumps(
        {"status": "deleted", "list": trip, "moved_to": "Inbox"}
    )) == "Deleted list “Trip”, its tasks moved to Inbox"
    assert summary("delete_list", '{"error": {"code": "conflict", "message": "has tasks"}}') == (
        "Couldn't delete the list: has tasks"
    )


def test_summaries_of_the_sharing_tools() -> None:
    # These raised KeyError('title'), failing every chat turn that shared a list.
    trip = {"name": "Trip", "list_id": 2, "color": None, "position": 1, "inbox": False,
            "open": 0, "done": 0}
    members = [{"user_id": "ann", "role": "owner"}, {"user_id": "sam", "role": "editor"}]

    def result(status: str) -> str:
        return json.dumps({"status": status, "list": trip, "members": members})

    assert summary("share_list", result("shared")) == "Shared list “Trip”"
    assert summary("unshare_list", result("unshared")) == "Stopped sharing list “Trip”"
    assert summary("unshare_list", result("left")) == "Left list “Trip”"
    assert summary("list_members", result("members")) == "Looked up who can see list “Trip”"
