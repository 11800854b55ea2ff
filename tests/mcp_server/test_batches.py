"""The batch tools in-process through the official client: per-item results in order, one
bad item never failing the others, a resent batch applied once per item, the limit, and
delete_tasks asking before a large delete."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from agents.strict_schema import ensure_strict_json_schema
from mcp import Client
from mcp.client.context import ClientRequestContext
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import tasks
from mcp_server.outputs import as_text
from mcp_server.server import build_server
from shared.contract import (
    BATCH_TOOLS,
    CALL_ID_META_KEY,
    ERROR_META_KEY,
    MAX_BATCH_ITEMS,
    BatchResult,
    read_result,
)
from shared.settings import Settings
from tests.mcp_server.conftest import add, in_own_task

LOCAL = Settings(_env_file=None, jwt_secret=None)


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[Client]:
    """An in-process client of a local-mode server (every call acts as user "local")."""
    async with in_own_task(Client(build_server(LOCAL, engine))) as client:
        yield client


async def batch(client: Client, tool: str, call_id: str | None = None, **arguments: Any) -> Any:
    """Call a batch tool that must answer (whatever its items did); check its text block."""
    meta = None if call_id is None else {CALL_ID_META_KEY: call_id}
    result = await client.call_tool(tool, arguments, meta=meta)  # type: ignore[arg-type]
    assert not result.is_error, result.content
    assert result.content[0].text == as_text(result.structured_content)  # type: ignore[union-attr, arg-type]
    assert read_result(tool, result) == result.structured_content
    return result.structured_content


async def refusal(client: Client, tool: str, **arguments: Any) -> tuple[str, str]:
    """Call a tool that must be refused whole: its code and its text."""
    result: CallToolResult = await client.call_tool(tool, arguments)
    assert result.is_error
    return (result.meta or {})[ERROR_META_KEY]["code"], result.content[0].text  # type: ignore[union-attr]


async def titles(client: Client) -> list[str]:
    page = (await client.call_tool("list_tasks", {"status": "all"})).structured_content
    return [task["title"] for task in page["tasks"]]  # type: ignore[index]


async def test_add_tasks_answers_each_item_in_input_order(client: Client):
    items = [{"title": "a"}, {"title": "b", "priority": "high"}]
    done = await batch(client, "add_tasks", items=items)
    assert (done["succeeded"], done["failed"]) == (2, 0)
    assert [(item["ok"], item["status"], item["task"]["title"]) for item in done["results"]] == [
        (True, "created", "a"), (True, "created", "b")
    ]  # fmt: skip
    assert done["results"][1]["task"]["priority"] == "high"
    assert await titles(client) == ["a", "b"]


async def test_one_bad_item_never_fails_the_others(client: Client):
    first = (await batch(client, "add_tasks", items=[{"title": "keep"}]))["results"][0]["task"]
    done = await batch(
        client, "update_tasks",
        items=[{"task_id": first["id"], "title": "kept"}, {"task_id": 999, "title": "x"},
               {"task_id": first["id"], "due": "not a date"}],
    )  # fmt: skip
    assert (done["succeeded"], done["failed"]) == (1, 2)
    ok, missing, bad = done["results"]
    assert ok["ok"] and ok["task"]["title"] == "kept"
    assert missing == {
        "ok": False, "error": "Task 999 not found", "code": "not_found", "task_id": 999
    }  # fmt: skip
    assert (bad["ok"], bad["code"]) == (False, "invalid_input")
    added = await batch(client, "add_tasks", items=[{"title": "  "}, {"title": "fine"}])
    assert [item["ok"] for item in added["results"]] == [False, True]
    assert await titles(client) == ["kept", "fine"]


async def test_complete_and_delete_tasks_answer_per_id(client: Client):
    added = await batch(client, "add_tasks", items=[{"title": "a"}, {"title": "b"}])
    ids = [item["task"]["id"] for item in added["results"]]
    done = await batch(client, "complete_tasks", task_ids=[ids[0], 404, ids[1]])
    assert [(item["ok"], item.get("status")) for item in done["results"]] == [
        (True, "completed"), (False, None), (True, "completed")
    ]  # fmt: skip
    reopened = await batch(client, "complete_tasks", task_ids=ids, completed=False)
    assert [item["status"] for item in reopened["results"]] == ["reopened", "reopened"]
    deleted = await batch(client, "delete_tasks", task_ids=[*ids, 404])
    assert [item["ok"] for item in deleted["results"]] == [True, True, False]
    assert deleted["results"][0]["task"]["title"] == "a"
    assert await titles(client) == []


async def test_a_resent_batch_is_applied_once_per_item(client: Client):
    items = [{"title": "a"}, {"title": "  "}, {"title": "b"}]
    first = await batch(client, "add_tasks", "batch-1", items=items)
    again = await batch(client, "add_tasks", "batch-1", items=items)
    assert again == first
    assert await titles(client) == ["a", "b"]
    ids = [item["task"]["id"] for item in first["results"] if item["ok"]]
    deleted = await batch(client, "delete_tasks", "batch-2", task_ids=ids)
    # The repeat gets the first results back, not "not found" for what the first deleted.
    assert await batch(client, "delete_tasks", "batch-2", task_ids=ids) == deleted
    assert deleted["succeeded"] == 2
    # The same id with another item in a place refuses that item alone; a refused item
    # stored nothing, so its place takes a new one.
    items = [{"title": "a"}, {"title": "new"}, {"title": "c"}]
    changed = await batch(client, "add_tasks", "batch-1", items=items)
    assert [item.get("code") for item in changed["results"]] == [None, None, "call_id_reused"]
    assert await titles(client) == ["new"]


async def test_a_batch_over_the_limit_is_refused_whole(client: Client):
    items = [{"title": f"t{n}"} for n in range(MAX_BATCH_ITEMS + 1)]
    code, text = await refusal(client, "add_tasks", items=items)
    assert code == "invalid_input"
    assert f"at most {MAX_BATCH_ITEMS} items per call (got {MAX_BATCH_ITEMS + 1})" in text
    code, _ = await refusal(client, "delete_tasks", task_ids=list(range(1000)), confirm=True)
    assert code == "invalid_input"
    assert (await refusal(client, "complete_tasks", task_ids=[]))[0] == "invalid_input"
    assert await titles(client) == []


async def test_another_users_ids_fail_per_item_as_not_found(client: Client, engine: Engine):
    with Session(engine) as session:
        theirs = add(session, user_id="bob", title="bob's")["id"]
        session.commit()
    mine = (await batch(client, "add_tasks", items=[{"title": "mine"}]))["results"][0]["task"]
    done = await batch(client, "complete_tasks", task_ids=[theirs, mine["id"]])
    assert [item.get("code") for item in done["results"]] == ["not_found", None]
    gone = await batch(client, "delete_tasks", task_ids=[theirs])
    assert gone["results"] == [
        {"ok": False, "error": f"Task {theirs} not found", "code": "not_found", "task_id": theirs}
    ]
    with Session(engine) as session:
        assert tasks.get_task(session, user_id="bob", task_id=theirs)["completed"] is False


async def five_tasks(client: Client) -> list[int]:
    added = await batch(client, "add_tasks", items=[{"title": f"t{n}"} for n in range(5)])
    return [item["task"]["id"] for item in added["results"]]


async def test_deleting_five_tasks_without_elicitation_needs_confirm(client: Client):
    ids = await five_tasks(client)
    code, text = await refusal(client, "delete_tasks", task_ids=ids)
    assert code == "confirmation_required"
    assert "send the same call again with confirm: true" in text
    assert len(await titles(client)) == 5
    done = await batch(client, "delete_tasks", task_ids=ids, confirm=True)
    assert done["succeeded"] == 5
    assert await titles(client) == []


@pytest.mark.parametrize(("action", "deleted"), [("accept", True), ("decline", False)])
async def test_deleting_five_tasks_asks_a_client_that_can_elicit(
    engine: Engine, action: str, deleted: bool
):
    asked: list[str] = []

    async def answer(_context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        content = {"confirm": True} if action == "accept" else None
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    server = build_server(LOCAL, engine)
    async with in_own_task(Client(server, elicitation_callback=answer)) as client:
        ids = await five_tasks(client)
        result = await client.call_tool("delete_tasks", {"task_ids": ids})
        assert result.is_error is not deleted
        assert len(await titles(client)) == (0 if deleted else 5)
    assert asked == [f"Delete 5 tasks ({', '.join(f'#{n}' for n in ids)}) for good?"]


async def test_batch_tools_are_listed_with_annotations_and_strict_schemas(client: Client):
    listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    hints = {
        name: (listed[name].annotations.read_only_hint, listed[name].annotations.destructive_hint)  # type: ignore[union-attr]
        for name in BATCH_TOOLS
    }
    assert hints == {
        "add_tasks": (False, False),
        "update_tasks": (False, True),
        "complete_tasks": (False, False),
        "delete_tasks": (False, True),
    }
    strict = {
        name: ensure_strict_json_schema(dict(listed[name].input_schema)) for name in BATCH_TOOLS
    }
    assert strict["delete_tasks"]["properties"]["task_ids"]["maxItems"] == MAX_BATCH_ITEMS
    # A strict client sends every field of every item, null for those it leaves alone.
    update_fields = strict["update_tasks"]["$defs"]["UpdateTaskInput"]["properties"]
    added = (await batch(client, "add_tasks", items=[
        {**dict.fromkeys(strict["add_tasks"]["$defs"]["AddTaskInput"]["properties"]),
         "title": "strict", "priority": "low", "recurrence": "none", "repeat_from": "due"}
    ]))["results"][0]  # fmt: skip
    assert added["ok"], added
    item = {**dict.fromkeys(update_fields), "task_id": added["task"]["id"], "title": "stricter"}
    updated = (await batch(client, "update_tasks", items=[item]))["results"][0]
    assert {**updated["task"], "updated_at": None} == {
        **added["task"], "title": "stricter", "updated_at": None
    }  # fmt: skip
    done = await batch(client, "delete_tasks", task_ids=[added["task"]["id"]], subtasks=None,
                       confirm=False)  # fmt: skip
    assert done["succeeded"] == 1


def test_a_batch_result_reads_as_one_line_per_item():
    result = BatchResult(
        results=[{"ok": False, "error": "Task 9 not found", "code": "not_found", "task_id": 9}],
        succeeded=0, failed=1,
    )  # fmt: skip
    assert as_text(result) == "1. refused (not_found): Task 9 not found\n0 succeeded, 1 failed"
