"""Shared lists end to end: `python -m mcp_server` in JWT mode, two and three users each
with their own token, the official client over HTTP, on SQLite and on PostgreSQL.

The isolation promises of sharing, checked on every path a client has: a viewer's write
through every write tool is refused with code `forbidden` and changes nothing; a removed
member loses access on their very next call; the acting user is always the token's (a
`_meta` user or a `user_id` argument changes nothing); and every change in a shared list is
heard by every member, and no longer by a removed one.
"""

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client
from mcp_types import CallToolResult
from psycopg import AsyncConnection, sql
from sqlalchemy import select
from sqlmodel import Session

from shared.auth import mint_jwt
from shared.contract import ERROR_META_KEY, USER_META_KEY
from shared.db import make_engine
from shared.events import CHANNEL_SQL, TaskEventRow, last_event_id, libpq_url
from testbed.servers import Server, free_port, running
from tests.conftest import postgres_schema
from tests.mcp_server.test_e2e import SECRET, SETTINGS, connect, server_env, user

pytestmark = pytest.mark.e2e

_events: Any = TaskEventRow.__table__  # type: ignore[attr-defined]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sharing') / 'tasks.db'}"
        return
    with postgres_schema("share") as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[Server]:
    port = free_port()
    with running("mcp_server", server_env(database, port, JWT_SECRET=SECRET), port) as server:
        yield server


@asynccontextmanager
async def as_user(server: Server, user_id: str) -> AsyncIterator[Client]:
    async with connect(server, mint_jwt(user_id, SETTINGS)) as client:
        yield client


async def ok(client: Client, tool: str, **args: Any) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    return result.structured_content


def refusal(result: CallToolResult) -> tuple[str, str]:
    """The code and message of a refused call."""
    assert result.is_error and result.meta is not None, result
    body = result.meta[ERROR_META_KEY]
    return body["code"], body["message"]


async def everything(client: Client) -> Any:
    """All a user sees: their lists and every task (subtasks too)."""
    page = await ok(client, "list_tasks", limit=200, subtasks="all", status="all")
    return await ok(client, "list_lists"), page


async def test_a_viewers_write_through_every_write_tool_is_refused_and_changes_nothing(
    server: Server,
) -> None:
    ann, cat = user("ann"), user("cat")
    async with as_user(server, ann) as as_ann, as_user(server, cat) as as_cat:
        milk = (await ok(as_ann, "add_task", title="milk", list="groceries"))["task"]
        list_id = milk["list_id"]
        await ok(as_ann, "share_list", list="groceries", user_id=cat, role="viewer")
        await ok(as_ann, "delete_task", task_id=(await ok(
            as_ann, "add_task", title="gone", list=list_id))["task_id"])  # fmt: skip
        before = await everything(as_ann)
        task = milk["id"]
        writes: list[tuple[str, dict[str, Any]]] = [
            ("update_task", {"task_id": task, "title": "oat milk"}),
            ("update_task", {"task_id": task, "list": "mine"}),
            ("complete_task", {"task_id": task}),
            ("delete_task", {"task_id": task}),
            ("add_task", {"title": "x", "list": list_id}),
            ("add_task", {"title": "x", "parent_id": task}),
            ("update_tasks", {"items": [{"task_id": task, "title": "y"}]}),
            ("complete_tasks", {"task_ids": [task]}),
            ("delete_tasks", {"task_ids": [task]}),
            ("add_tasks", {"items": [{"title": "z", "list": list_id}]}),
        ]
        for tool, args in writes:
            result = await as_cat.call_tool(tool, args)
            if "items" in args or "task_ids" in args:  # a batch refuses each item on its own
                assert not result.is_error and result.structured_content is not None, result
                item = result.structured_content["results"][0]
                code, message = item["code"], item["error"]
            else:
                code, message = refusal(result)
            assert code == "forbidden", (tool, message)
            assert "shared with you as a viewer" in message and "nothing was changed" in message
        for tool, args in [
            ("rename_list", {"list": list_id, "new_name": "food"}),
            ("delete_list", {"list": list_id, "delete_tasks": True}),
            ("share_list", {"list": list_id, "user_id": cat, "role": "editor"}),
            ("unshare_list", {"list": list_id, "user_id": ann}),
        ]:
            code, message = refusal(await as_cat.call_tool(tool, args))
            assert (code, message.startswith("only the owner")) == ("forbidden", True), message
        # cat deleted nothing, so there is nothing of ann's for cat to restore.
        assert refusal(await as_cat.call_tool("restore_task", {"task_id": task}))[0] == "not_found"
        assert await everything(as_ann) == before
        assert (await ok(as_cat, "get_task", task_id=task))["title"] == "milk"


async def test_identity_is_the_tokens_whatever_the_meta_or_the_arguments_say(
    server: Server,
) -> None:
    ann, cat = user("ann"), user("cat")
    async with as_user(server, ann) as as_ann, as_user(server, cat) as as_cat:
        milk = (await ok(as_ann, "add_task", title="milk", list="groceries"))["task"]
        await ok(as_ann, "share_list", list="groceries", user_id=cat, role="viewer")
        # "as ann": a user JWT's calls act for its subject, whatever _meta names.
        naming_ann: Any = {USER_META_KEY: ann}
        result = await as_cat.call_tool(
            "complete_task", {"task_id": milk["id"]}, meta=naming_ann
        )
        assert refusal(result)[0] == "forbidden"
        result = await as_cat.call_tool("share_list", {"list": milk["list_id"], "user_id": cat,
                                                       "role": "editor"},
                                        meta=naming_ann)  # fmt: skip
        assert refusal(result)[0] == "forbidden"
        for tool, args in [
            ("complete_task", {"task_id": milk["id"], "user_id": ann}),
            ("list_tasks", {"owner": ann}),
        ]:
            result = await as_cat.call_tool(tool, args)
            assert result.is_error and "Extra inputs are not permitted" in str(result.content)
        assert (await ok(as_ann, "get_task", task_id=milk["id"]))["completed"] is False


async def test_a_removed_member_loses_access_on_their_next_call(server: Server) -> None:
    ann, bob = user("ann"), user("bob")
    async with as_user(server, ann) as as_ann, as_user(server, bob) as as_bob:
        milk = (await ok(as_ann, "add_task", title="milk", list="groceries"))["task"]
        await ok(as_ann, "share_list", list="groceries", user_id=bob, role="editor")
        await ok(as_bob, "update_task", task_id=milk["id"], assignee=bob)
        assert [t["title"] for t in (await ok(as_bob, "list_tasks", assignee="me"))["tasks"]] == [
            "milk"
        ]
        await ok(as_ann, "unshare_list", list="groceries", user_id=bob)

        result = await as_bob.call_tool("complete_task", {"task_id": milk["id"]})
        assert refusal(result) == ("not_found", f"Task {milk['id']} not found")
        assert (await ok(as_bob, "list_tasks"))["tasks"] == []
        assert [item["owner"] for item in (await ok(as_bob, "list_lists"))["lists"]] == [bob]
        code, _ = refusal(await as_bob.call_tool("list_members", {"list": milk["list_id"]}))
        assert code == "not_found"
        task = await ok(as_ann, "get_task", task_id=milk["id"])
        assert (task["completed"], task["assignee"], task["changed_by"]) == (False, None, bob)


async def heard_after(database: str, write: Any) -> set[tuple[str, int, str]]:
    """(user, task id, status) of every event published while `write()` runs."""
    if database.startswith("sqlite"):
        engine = make_engine(database)
        try:
            with Session(engine) as session:
                mark = last_event_id(session)
            await write()
            with engine.connect() as conn:
                rows = conn.execute(select(_events).where(_events.c.id > mark)).all()
            return {(row.user_id, row.task_id, row.status) for row in rows}
        finally:
            engine.dispose()
    # As a chat server listens (shared.events.listen), LISTENing before the write.
    async with await AsyncConnection.connect(libpq_url(database), autocommit=True) as conn:
        row = await (await conn.execute(CHANNEL_SQL)).fetchone()
        assert row is not None
        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(row[0])))
        await write()
        heard = set()
        async for note in conn.notifies(timeout=2.0):
            data = json.loads(note.payload)
            heard.add((data["user_id"], data["task_id"], data["status"]))
        return heard


async def test_every_member_hears_each_change_and_a_removed_one_stops_hearing(
    server: Server, database: str
) -> None:
    ann, bob, cat = user("ann"), user("bob"), user("cat")
    async with as_user(server, ann) as as_ann, as_user(server, bob) as as_bob:
        milk = (await ok(as_ann, "add_task", title="milk", list="groceries"))["task"]
        for member, role in ((bob, "editor"), (cat, "viewer")):
            await ok(as_ann, "share_list", list="groceries", user_id=member, role=role)

        async def bob_completes() -> None:
            done = await ok(as_bob, "complete_task", task_id=milk["id"])
            assert done["task"]["changed_by"] == bob

        assert await heard_after(database, bob_completes) == {
            (who, milk["id"], "completed") for who in (ann, bob, cat)
        }
        await ok(as_ann, "unshare_list", list="groceries", user_id=cat)

        async def bob_reopens() -> None:
            await ok(as_bob, "complete_task", task_id=milk["id"], completed=False)

        assert await heard_after(database, bob_reopens) == {
            (who, milk["id"], "reopened") for who in (ann, bob)
        }
