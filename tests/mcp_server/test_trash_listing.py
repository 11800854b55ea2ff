"""list_deleted_tasks: what restore_task can still bring back, the caller's own deletes only."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import jsonschema
import pytest
from mcp import Client
from sqlalchemy.engine import Engine
from sqlmodel import Session

from mcp_server import outputs, tasks, trash
from mcp_server.server import build_server
from mcp_server.task_rules import utc_now
from shared.contract import read_result
from shared.settings import Settings
from tests.mcp_server.conftest import add, in_own_task


def test_the_callers_deletes_are_listed_newest_first_with_their_subtasks(session: Session) -> None:
    parent = add(session, title="move house", list="Personal")
    subs = [add(session, title=f"step {n}", parent_id=parent["id"]) for n in (1, 2)]
    single = add(session, title="water plants")
    start = utc_now()
    tasks.delete_task(session, user_id="ann", task_id=parent["id"], subtasks="delete")
    tasks.delete_task(session, user_id="ann", task_id=single["id"])

    listed = trash.deleted_tasks(session, user_id="ann")["deleted"]

    assert [(d["id"], d["title"], d["list"]) for d in listed] == [
        (single["id"], "water plants", "Inbox"), (parent["id"], "move house", "Personal"),
    ]  # fmt: skip
    assert listed[1]["subtasks"] == [{"id": s["id"], "title": s["title"]} for s in subs]
    assert listed[0]["subtasks"] == []
    deleted_at = listed[0]["deleted_at"]
    assert deleted_at.endswith("Z") and deleted_at >= start.isoformat().replace("+00:00", "Z")
    until = datetime.fromisoformat(listed[0]["restorable_until"])
    assert until - datetime.fromisoformat(deleted_at) == trash.RESTORE_WINDOW


def test_a_restored_or_expired_delete_leaves_the_list_and_others_never_see_it(
    session: Session,
) -> None:
    kept, restored = add(session, title="kept"), add(session, title="restored")
    for task in (kept, restored):
        tasks.delete_task(session, user_id="ann", task_id=task["id"])
    trash.restore_task(session, user_id="ann", task_id=restored["id"])

    assert [d["id"] for d in trash.deleted_tasks(session, user_id="ann")["deleted"]] == [kept["id"]]
    assert trash.deleted_tasks(session, user_id="bob") == {"deleted": []}
    later = utc_now() + trash.RESTORE_WINDOW + timedelta(seconds=1)
    assert trash.deleted_tasks(session, user_id="ann", now=later) == {"deleted": []}


def test_a_task_deleted_restored_and_deleted_again_is_listed_once(session: Session) -> None:
    task = add(session, title="again")
    tasks.delete_task(session, user_id="ann", task_id=task["id"])
    trash.restore_task(session, user_id="ann", task_id=task["id"])
    tasks.delete_task(session, user_id="ann", task_id=task["id"])

    assert [d["id"] for d in trash.deleted_tasks(session, user_id="ann")["deleted"]] == [task["id"]]


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[Client]:
    server = build_server(Settings(_env_file=None, jwt_secret=None), engine)
    async with in_own_task(Client(server)) as client:
        yield client


async def test_the_tool_answers_in_its_schema_and_names_each_task_in_its_text(
    client: Client,
) -> None:
    added = await client.call_tool("add_task", {"title": "call mum"})
    task_id = added.structured_content["task"]["id"]
    empty = await client.call_tool("list_deleted_tasks", {})
    await client.call_tool("delete_task", {"task_id": task_id})
    result = await client.call_tool("list_deleted_tasks", {})

    assert empty.content[0].text == "Nothing deleted in the last 10 minutes."  # type: ignore[union-attr]
    assert not result.is_error
    jsonschema.validate(result.structured_content, outputs.DELETED_PAGE)
    page = read_result("list_deleted_tasks", result)
    assert [d["title"] for d in page["deleted"]] == ["call mum"]  # type: ignore[typeddict-item]
    assert result.content[0].text.startswith(f"#{task_id} call mum (deleted ")  # type: ignore[union-attr]
    refused = await client.call_tool("list_deleted_tasks", {"user_id": "someone"})
    assert refused.is_error
