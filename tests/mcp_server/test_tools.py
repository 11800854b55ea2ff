"""The MCP tools in-process through the official client: shapes, filters, annotations, errors."""

from collections.abc import AsyncIterator
from typing import Any

import jsonschema
import pytest
from agents.strict_schema import ensure_strict_json_schema
from mcp import Client
from mcp_types import CallToolResult, ResourceLink, TextContent
from sqlalchemy.engine import Engine

from mcp_server.outputs import as_text
from mcp_server.server import build_server
from shared.contract import BATCH_TOOLS, ErrorCode, ToolFailure, read_result
from shared.settings import Settings
from tests.mcp_server.conftest import in_own_task

TASK_KEYS = [
    "id", "title", "description", "completed", "completed_at", "priority", "tags", "due",
    "recurrence", "created_at", "updated_at", "list", "list_id", "parent_id", "open_subtasks",
    "repeat", "repeat_from", "repeat_text", "timezone", "reminders", "owner", "assignee",
    "changed_by",
]  # fmt: skip
LIST_TOOLS = {"list_lists", "rename_list", "delete_list", "share_list", "unshare_list",
              "list_members"}  # fmt: skip

NEW = "list, parent_id, repeat, repeat_from, timezone, skip, reminders, assignee"


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[Client]:
    """An in-process client of a local-mode server (every call acts as user "local")."""
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    async with in_own_task(Client(server)) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> Any:
    """Call a tool that must succeed; check the text block is the compact form of the result."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    # The text block, then a resource link per task a write left in place.
    assert isinstance(result.content[0], TextContent)
    assert all(isinstance(block, ResourceLink) for block in result.content[1:])
    assert result.content[0].text == as_text(result.structured_content)  # type: ignore[arg-type]
    return result.structured_content


async def fail(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; return its error text."""
    result: CallToolResult = await client.call_tool(tool, arguments)
    assert result.is_error
    assert result.structured_content is None
    return result.content[0].text  # type: ignore[union-attr]


async def test_lists_eighteen_tools_with_annotations(client: Client):
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert len(listed) == 18
    hints = {
        name: (
            tool.annotations.read_only_hint,
            tool.annotations.destructive_hint,
            tool.annotations.idempotent_hint,
            tool.annotations.open_world_hint,
        )
        for name, tool in listed.items()
        if tool.annotations
    }
    assert hints == {
        "add_task": (False, False, False, False),
        "list_tasks": (True, False, True, False),
        "get_task": (True, False, True, False),
        "update_task": (False, True, True, False),
        "complete_task": (False, False, True, False),
        "delete_task": (False, True, True, False),
        "list_lists": (True, False, True, False),
        "rename_list": (False, False, True, False),
        "delete_list": (False, True, True, False),
        "share_list": (False, False, True, False),
        "unshare_list": (False, True, True, False),
        "list_members": (True, False, True, False),
        "restore_task": (False, False, False, False),
        "list_deleted_tasks": (True, False, True, False),
        "add_tasks": (False, False, False, False),
        "update_tasks": (False, True, True, False),
        "complete_tasks": (False, False, True, False),
        "delete_tasks": (False, True, True, False),
    }
    assert {name: tool.title for name, tool in listed.items()} == {
        "add_task": "Add task",
        "list_tasks": "List tasks",
        "get_task": "Get task",
        "update_task": "Update task",
        "complete_task": "Complete or reopen task",
        "delete_task": "Delete task",
        "list_lists": "List lists",
        "rename_list": "Rename list",
        "delete_list": "Delete list",
        "share_list": "Share list",
        "unshare_list": "Unshare list",
        "list_members": "List members",
        "restore_task": "Restore task",
        "list_deleted_tasks": "List deleted tasks",
        "add_tasks": "Add tasks",
        "update_tasks": "Update tasks",
        "complete_tasks": "Complete or reopen tasks",
        "delete_tasks": "Delete tasks",
    }


async def test_input_schemas_match_the_contract(client: Client):
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    properties = {name: list(tool.input_schema["properties"]) for name, tool in listed.items()}
    assert properties == {
        "add_task": ["title", "description", "due", "priority", "tags", "recurrence", "list",
                     "parent_id", "repeat", "repeat_from", "timezone", "reminders"],
        "list_tasks": ["status", "search", "tag", "priority", "due_before", "due_after",
                       "overdue", "timezone", "list", "assignee", "subtasks", "sort", "order",
                       "limit", "cursor"],
        "get_task": ["task_id"],
        "update_task": ["task_id", "title", "description", "due", "priority", "tags",
                        "recurrence", "list", "parent_id", "repeat", "repeat_from", "timezone",
                        "skip", "reminders", "assignee"],
        "complete_task": ["task_id", "completed", "subtasks"],
        "delete_task": ["task_id", "subtasks"],
        "list_lists": [],
        "rename_list": ["list", "new_name", "color", "position"],
        "delete_list": ["list", "move_tasks_to", "delete_tasks"],
        "share_list": ["list", "user_id", "role"],
        "unshare_list": ["list", "user_id"],
        "list_members": ["list"],
        "restore_task": ["task_id"],
        "list_deleted_tasks": [],
        "add_tasks": ["items"],
        "update_tasks": ["items"],
        "complete_tasks": ["task_ids", "completed", "subtasks"],
        "delete_tasks": ["task_ids", "subtasks", "confirm"],
    }  # fmt: skip
    required = {name: tool.input_schema.get("required", []) for name, tool in listed.items()}
    assert required == {
        "add_task": ["title"],
        "list_tasks": [],
        "get_task": ["task_id"],
        "update_task": ["task_id"],
        "complete_task": ["task_id"],
        "delete_task": ["task_id"],
        "list_lists": [],
        "rename_list": ["list"],
        "delete_list": ["list"],
        "share_list": ["list", "user_id", "role"],
        "unshare_list": ["list", "user_id"],
        "list_members": ["list"],
        "restore_task": ["task_id"],
        "list_deleted_tasks": [],
        "add_tasks": ["items"],
        "update_tasks": ["items"],
        "complete_tasks": ["task_ids"],
        "delete_tasks": ["task_ids"],
    }
    for tool in listed.values():
        assert tool.input_schema["additionalProperties"] is False
        assert all(p.get("description") for p in tool.input_schema["properties"].values())
        assert tool.output_schema is not None
    limit = listed["list_tasks"].input_schema["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 200, 50)
    assert listed["add_task"].input_schema["properties"]["priority"]["enum"] == [
        "low",
        "medium",
        "high",
    ]


async def test_add_task_returns_a_task_change(client: Client):
    change = await call(
        client, "add_task", title="Buy milk", due="2025-03-10", priority="high", tags=["#Shop"]
    )
    assert list(change) == ["task_id", "status", "title", "task", "next_task"]
    assert (change["task_id"], change["status"], change["title"], change["next_task"]) == (
        1,
        "created",
        "Buy milk",
        None,
    )
    task = change["task"]
    assert list(task) == TASK_KEYS
    assert {k: task[k] for k in TASK_KEYS if not k.endswith("_at")} == {
        "id": 1,
        "title": "Buy milk",
        "description": None,
        "completed": False,
        "priority": "high",
        "tags": ["shop"],
        "due": "2025-03-10",
        "recurrence": "none",
        "list": "Inbox",
        "list_id": 1,
        "parent_id": None,
        "open_subtasks": 0,
        "repeat": None,
        "repeat_from": "due",
        "repeat_text": None,
        "timezone": None,
        "reminders": [],
        "owner": "local",
        "assignee": None,
        "changed_by": "local",
    }
    assert task["completed_at"] is None
    assert task["created_at"] == task["updated_at"]
    assert task["created_at"].endswith("Z") and len(task["created_at"]) == 20


async def test_get_task_returns_the_task_with_its_subtasks(client: Client):
    added = (await call(client, "add_task", title="read"))["task"]
    assert await call(client, "get_task", task_id=added["id"]) == {**added, "subtasks": []}


async def test_update_task_leaves_omitted_and_null_fields_and_clears_empty_ones(client: Client):
    added = (
        await call(
            client,
            "add_task",
            title="t",
            description="d",
            due="2025-03-10",
            tags=["a"],
            recurrence="weekly",
        )
    )["task"]
    change = await call(client, "update_task", task_id=added["id"], priority="low")
    assert change["status"] == "updated"
    assert {**change["task"], "updated_at": None} == {
        **added,
        "priority": "low",
        "updated_at": None,
    }
    untouched = await call(
        client,
        "update_task",
        task_id=added["id"],
        description=None,
        due=None,
        tags=None,
        recurrence=None,
        title="t2",
    )
    assert {**untouched["task"], "updated_at": None} == {
        **added,
        "priority": "low",
        "title": "t2",
        "updated_at": None,
    }
    cleared = await call(
        client,
        "update_task",
        task_id=added["id"],
        description="",
        due="",
        tags=[],
        recurrence="none",
    )
    task = cleared["task"]
    assert (task["description"], task["due"], task["tags"], task["recurrence"]) == (
        None,
        None,
        [],
        "none",
    )
    assert task["title"] == "t2"


async def test_complete_task_of_a_recurring_task_returns_the_next_one(client: Client):
    added = (await call(client, "add_task", title="rent", due="2025-01-31", recurrence="monthly"))[
        "task"
    ]
    change = await call(client, "complete_task", task_id=added["id"])
    assert (change["status"], change["task"]["completed"]) == ("completed", True)
    assert change["task"]["completed_at"] is not None
    assert (change["next_task"]["due"], change["next_task"]["completed"]) == ("2025-02-28", False)
    reopened = await call(client, "complete_task", task_id=added["id"], completed=False)
    assert (reopened["status"], reopened["task"]["completed_at"], reopened["next_task"]) == (
        "reopened",
        None,
        None,
    )


async def test_delete_task_then_it_is_gone(client: Client):
    added = (await call(client, "add_task", title="bin"))["task"]
    change = await call(client, "delete_task", task_id=added["id"])
    assert (change["status"], change["task"]) == ("deleted", added)
    assert await fail(client, "get_task", task_id=added["id"]) == (
        f"Error executing tool get_task: Task {added['id']} not found"
    )


async def test_list_tasks_filters(client: Client):
    await call(client, "add_task", title="milk", tags=["shop"], priority="high", due="2025-01-01")
    await call(client, "add_task", title="bread", description="MILK bread", due="2099-01-01")
    done = await call(client, "add_task", title="old", priority="low", due="2025-01-02")
    await call(client, "complete_task", task_id=done["task_id"])

    async def titles(**query: Any) -> list[str]:
        return [t["title"] for t in (await call(client, "list_tasks", **query))["tasks"]]

    assert await titles() == ["milk", "bread", "old"]
    assert await titles(status="pending") == ["milk", "bread"]
    assert await titles(status="completed") == ["old"]
    assert await titles(search="milk") == ["milk", "bread"]
    assert await titles(tag="SHOP") == ["milk"]
    assert await titles(priority="low") == ["old"]
    assert await titles(due_before="2025-01-01") == ["milk"]
    assert await titles(due_after="2025-01-02") == ["bread", "old"]
    assert await titles(overdue=True) == ["milk"]
    assert await titles(overdue=False) == ["bread", "old"]
    assert await titles(sort="title") == ["bread", "milk", "old"]
    assert await titles(sort="due", order="desc") == ["bread", "old", "milk"]
    assert await titles(sort="priority", order="desc") == ["milk", "bread", "old"]
    assert await titles(sort="created", order="desc") == ["old", "bread", "milk"]


async def test_list_tasks_pages_with_next_cursor(client: Client):
    for i in range(5):
        await call(client, "add_task", title=f"t{i}")
    seen, cursor, pages = [], None, 0
    while True:
        arguments: dict[str, Any] = {"limit": 2, "sort": "title", "order": "desc"}
        if cursor:
            arguments["cursor"] = cursor
        page = await call(client, "list_tasks", **arguments)
        assert list(page) == ["tasks", "next_cursor"]
        seen += [t["title"] for t in page["tasks"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (["t4", "t3", "t2", "t1", "t0"], 3)


async def test_tags_sent_as_a_json_string_are_accepted(client: Client):
    change = await call(client, "add_task", title="t", tags='["A", "#b"]')
    assert change["task"]["tags"] == ["a", "b"]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("complete_task", {"task_id": 999}, "Task 999 not found"),
        ("update_task", {"task_id": 999, "title": "x"}, "Task 999 not found"),
        ("delete_task", {"task_id": 999}, "Task 999 not found"),
        ("add_task", {"title": "  "}, "title must not be empty"),
        ("add_task", {"title": "x", "due": "next blursday"},
         "due: 'next blursday' is not an ISO 8601 date or date-time"),
        ("add_task", {"title": "x", "tags": ["no spaces"]},
         "tag 'no spaces' may only contain letters a-z, digits, '_' and '-'"),
        ("add_task", {"title": "x", "user_id": "bob"}, "user_id: Extra inputs are not permitted"),
        ("add_task", {}, "title: Field required"),
        ("add_task", {"title": "x", "priority": "urgent"},
         "priority: Input should be 'low', 'medium' or 'high' (got 'urgent')"),
        ("update_task", {"task_id": 1}, "nothing to update: give at least one of title, "
         f"description, due, priority, tags, recurrence, {NEW}"),
        ("update_task", {"task_id": 1, "priority": None, "title": None},
         "nothing to update: give at least one of title, description, due, priority, tags, "
         f"recurrence, {NEW}"),
        ("update_task", {"task_id": 1, "title": ""}, "title must not be empty"),
        ("get_task", {"task_id": "one"},
         "task_id: Input should be a valid integer, unable to parse string as an integer "
         "(got 'one')"),
        ("list_tasks", {"limit": 500},
         "limit: Input should be less than or equal to 200 (got 500)"),
        ("list_tasks", {"cursor": "abc"},
         "cursor is invalid (changed or cut short?); start again without a cursor"),
        ("list_tasks", {"due_before": "friday"},
         "due_before: 'friday' is not an ISO 8601 date or date-time"),
        ("list_tasks", {"tag": "a b"}, "tag 'a b' may only contain letters a-z, digits, '_' "
         "and '-'"),
    ],
)  # fmt: skip
async def test_expected_failures_are_tool_errors_that_say_what_was_wrong(
    client: Client, tool, arguments, message
):
    await call(client, "add_task", title="existing")
    before = await call(client, "list_tasks")
    assert await fail(client, tool, **arguments) == f"Error executing tool {tool}: {message}"
    assert await call(client, "list_tasks") == before


async def test_every_tool_has_a_strict_schema_and_a_strict_update_changes_only_what_it_names(
    client: Client,
):
    strict = {
        tool.name: ensure_strict_json_schema(dict(tool.input_schema))
        for tool in (await client.list_tools()).tools
    }
    assert set(strict) == {
        "add_task", "list_tasks", "get_task", "update_task", "complete_task", "delete_task",
        "restore_task", "list_deleted_tasks", *LIST_TOOLS, *BATCH_TOOLS,
    }  # fmt: skip
    # A strict client sends every property of update_task, null for those it leaves alone.
    fields = strict["update_task"]["properties"]
    assert sorted(strict["update_task"]["required"]) == sorted(fields)
    added = (
        await call(
            client,
            "add_task",
            title="pay rent",
            description="by transfer",
            due="2025-03-01",
            priority="high",
            tags=["home"],
            recurrence="monthly",
        )
    )["task"]
    arguments = {**dict.fromkeys(fields), "task_id": added["id"], "title": "pay the rent"}
    renamed = await call(client, "update_task", **arguments)
    assert {**renamed["task"], "updated_at": None} == {
        **added, "title": "pay the rent", "updated_at": None
    }  # fmt: skip


def schema_problems(schema: Any, where: str = "") -> list[str]:
    """Everything in an output schema that makes validation slow or leaves a field unexplained."""
    if not isinstance(schema, dict):
        return []
    problems = [f"{where}: {key}" for key in ("$ref", "$defs", "anyOf", "oneOf") if key in schema]
    for name, field in schema.get("properties", {}).items():
        if not field.get("description"):
            problems.append(f"{where}.{name}: no description")
        problems += schema_problems(field, f"{where}.{name}")
    return problems + schema_problems(schema.get("items"), f"{where}[]")


async def test_output_schemas_are_inlined_with_type_lists_and_describe_every_field(
    client: Client,
):
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {name: schema_problems(tool.output_schema) for name, tool in listed.items()} == {
        name: [] for name in listed
    }
    # A page's tasks are described in one text (validating each field of 50 tasks is slow).
    in_page = listed["list_tasks"].output_schema["properties"]["tasks"]["items"]  # type: ignore[index]
    assert "properties" not in in_page and in_page["required"] == TASK_KEYS
    assert all(f"{key} (" in in_page["description"] for key in TASK_KEYS)
    due = listed["get_task"].output_schema["properties"]["due"]  # type: ignore[index]
    assert due["type"] == ["string", "null"]
    assert "2025-03-10" in due["description"] and "2025-03-10T15:00:00Z" in due["description"]
    # Real results satisfy them (the official client validates each call with jsonschema).
    added = await call(client, "add_task", title="rent", due="2025-01-31", recurrence="monthly")
    done = await call(client, "complete_task", task_id=added["task"]["id"])
    for tool, result in [
        ("add_task", added), ("complete_task", done),
        ("get_task", await call(client, "get_task", task_id=done["task"]["id"])),
        ("list_tasks", await call(client, "list_tasks", limit=1)),
    ]:  # fmt: skip
        jsonschema.validate(result, listed[tool].output_schema)  # type: ignore[arg-type]


async def test_the_text_block_shows_one_compact_line_per_task_and_the_cursor(client: Client):
    await call(
        client, "add_task", title="Buy milk", due="2025-03-10", priority="high",
        tags=["home", "errands"], description="two litres",
    )  # fmt: skip
    await call(client, "add_task", title="Call Ann", due="2025-03-11T17:00:00+02:00")
    result = await client.call_tool("list_tasks", {"limit": 1})
    page = result.content[0].text  # type: ignore[union-attr]
    cursor = result.structured_content["next_cursor"]  # type: ignore[index]
    assert page == (
        "#1 Buy milk | due 2025-03-10 | high priority | tags: home, errands | open"
        " | has notes (get_task shows them)\n"
        f"next_cursor: {cursor}"
    )
    last = await client.call_tool("list_tasks", {"cursor": cursor})
    assert last.content[0].text == (  # type: ignore[union-attr]
        "#2 Call Ann | due 2025-03-11T15:00:00Z | medium priority | no tags | open\n"
        "next_cursor: null (last page)"
    )
    shown = await client.call_tool("get_task", {"task_id": 1})
    assert shown.content[0].text == (  # type: ignore[union-attr]
        "#1 Buy milk | due 2025-03-10 | high priority | tags: home, errands | open\n"
        "notes: two litres"
    )


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("add_task", {"title": "x", "tags": ["t" * 1_000_000]},
         f"tags.0: String should have at most 100 characters (got {'t' * 100!r}… "
         "(1,000,000 characters))"),
        ("add_task", {"title": "x", "tags": ["t"] * 5000},
         "tags: List should have at most 100 items after validation, not 5000 "
         "(got a list of 5,000 items)"),
        ("add_task", {"title": "T" * 1001},
         f"title: String should have at most 1000 characters (got {'T' * 100!r}… "
         "(1,001 characters))"),
        ("update_task", {"task_id": 1, "description": "d" * 10_001},
         f"description: String should have at most 10000 characters (got {'d' * 100!r}… "
         "(10,001 characters))"),
        ("list_tasks", {"search": "s" * 100_000},
         f"search: String should have at most 200 characters (got {'s' * 100!r}… "
         "(100,000 characters))"),
        ("list_tasks", {"tag": "g" * 101},
         f"tag: String should have at most 100 characters (got {'g' * 100!r}… (101 characters))"),
        ("list_tasks", {"due_after": "2" * 65},
         f"due_after: String should have at most 64 characters (got {'2' * 65!r})"),
        ("list_tasks", {"cursor": "c" * 5000},
         f"cursor: String should have at most 4096 characters (got {'c' * 100!r}… "
         "(5,000 characters))"),
        ("add_task", {"title": "x", "k" * 1_000_000: 1},
         f"{'k' * 100}… (1,000,000 characters): Extra inputs are not permitted"),
    ],
)  # fmt: skip
async def test_an_argument_over_its_bound_is_refused_without_echoing_it(
    client: Client, tool, arguments, message
):
    await call(client, "add_task", title="existing")
    before = await call(client, "list_tasks")
    assert await fail(client, tool, **arguments) == f"Error executing tool {tool}: {message}"
    assert await call(client, "list_tasks") == before


async def test_arguments_the_rules_accept_pass_the_bounds(client: Client):
    # Trimmed, '#' dropped, duplicates merged: within the rules, though longer as sent.
    tags = [f"  #{'t' * 32}  "] * 60 + [f"tag{i}" for i in range(19)]
    title = " " * 300 + "T" * 200 + " " * 300
    change = await call(client, "add_task", title=title, tags=tags, description="d" * 2000)
    assert change["task"]["title"] == "T" * 200
    assert change["task"]["tags"] == ["t" * 32, *(f"tag{i}" for i in range(19))]


async def test_the_input_schemas_bound_every_text_and_list(client: Client):
    listed = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}

    def bound(tool: str, field: str) -> Any:
        # Optional fields are anyOf [bounded, null].
        spec = listed[tool]["properties"][field]
        return next(part for part in spec.get("anyOf", [spec]) if part.get("type") != "null")

    for tool in ("add_task", "update_task"):
        assert bound(tool, "title")["maxLength"] == 1000
        assert bound(tool, "description")["maxLength"] == 10_000
        assert bound(tool, "due")["maxLength"] == 64
        tags = bound(tool, "tags")
        assert (tags["maxItems"], tags["items"]["maxLength"]) == (100, 100)
    expected = {"search": 200, "tag": 100, "due_before": 64, "due_after": 64, "timezone": 64,
                "cursor": 4096}
    assert {field: bound("list_tasks", field)["maxLength"] for field in expected} == expected


@pytest.mark.parametrize(
    ("tool", "arguments", "body"),
    [
        ("get_task", {"task_id": 999},
         {"code": "not_found", "message": "Task 999 not found", "task_id": 999}),
        ("add_task", {"title": "   "},
         {"code": "invalid_input", "message": "title must not be empty"}),
        ("list_tasks", {"limit": 0},
         {"code": "invalid_input",
          "message": "limit: Input should be greater than or equal to 1 (got 0)"}),
    ],
)
async def test_a_refusal_carries_its_code_in_meta_beside_the_sdk_text(
    client: Client, tool: str, arguments: dict[str, Any], body: dict[str, Any]
):
    result = await client.call_tool(tool, arguments)

    assert result.is_error and result.structured_content is None
    assert result.meta is not None and result.meta["taskchat/error"] == body
    assert result.content[0].text == f"Error executing tool {tool}: {body['message']}"  # type: ignore[union-attr]


async def test_a_refusal_is_read_back_as_its_code_not_its_words(client: Client):
    result = await client.call_tool("delete_task", {"task_id": 7})

    with pytest.raises(ToolFailure) as refused:
        read_result("delete_task", result)
    assert (refused.value.code, refused.value.missing_task) == (ErrorCode.NOT_FOUND, 7)


@pytest.mark.parametrize("tool", ["complete_task", "delete_task", "get_task", "update_task"])
@pytest.mark.parametrize("task_id", [2**31, 2**63, 10**30, -(2**63), 0])
async def test_an_id_no_task_can_have_is_not_found_not_a_crash(
    client: Client, tool: str, task_id: int
) -> None:
    extra = {"title": "x"} if tool == "update_task" else {}
    result = await client.call_tool(tool, {"task_id": task_id, **extra})

    assert result.is_error and result.meta is not None
    assert result.meta["taskchat/error"]["code"] == "not_found"
