"""End-to-end: `python -m mcp_server` as a real process, the official MCP client over HTTP,
on SQLite and on PostgreSQL. One server per database for the whole module."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from shared.auth import mint_jwt
from shared.settings import Settings
from testbed.servers import Server, free_port, running
from tests.conftest import postgres_schema

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret-" + "x" * 32
SERVICE_TOKEN = "e2e-service-token-of-32-characters-or-more"
SETTINGS = Settings(_env_file=None, jwt_secret=SECRET)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One empty database per module and engine (the shared fixtures are per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'tasks.db'}"
        return
    with postgres_schema("e2e") as url:
        yield url


def server_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "MCP_ALLOWED_HOSTS": "",
        **extra,
    }


@pytest.fixture(scope="module")
def server(database: str) -> Iterator[Server]:
    """The server in JWT mode, with a service token."""
    port = free_port()
    env = server_env(database, port, JWT_SECRET=SECRET, MCP_SERVICE_TOKEN=SERVICE_TOKEN)
    with running("mcp_server", env, port) as server:
        yield server


@asynccontextmanager
async def connect(server: Server, token: str | None, mode: str = "auto") -> AsyncIterator[Client]:
    """The official client over streamable HTTP, with a bearer token."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(f"{server.base_url}/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:  # type: ignore[arg-type]
            yield client


def user(name: str) -> str:
    """A user id unique to this test run, so tests sharing a server never see each other."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def ok(client: Client, tool: str, meta: dict[str, Any] | None = None, **args: Any) -> Any:
    result = await client.call_tool(tool, args, meta=meta)
    assert not result.is_error, result.content
    return result.structured_content


async def error(client: Client, tool: str, meta: dict[str, Any] | None = None, **args: Any) -> str:
    result = await client.call_tool(tool, args, meta=meta)
    assert result.is_error
    return result.content[0].text  # type: ignore[union-attr]


async def titles(client: Client, meta: dict[str, Any] | None = None, **query: Any) -> list[str]:
    page = await ok(client, "list_tasks", meta=meta, limit=200, **query)
    assert page["next_cursor"] is None
    return [task["title"] for task in page["tasks"]]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_every_tool_over_http(server: Server, mode: str):
    async with connect(server, mint_jwt(user("ann"), SETTINGS), mode) as client:
        added = await ok(
            client, "add_task", title="rent", due="2025-01-31", tags=["home"], recurrence="monthly"
        )
        task_id = added["task_id"]
        assert (added["status"], added["task"]["due"]) == ("created", "2025-01-31")
        assert await ok(client, "get_task", task_id=task_id) == {**added["task"], "subtasks": []}
        updated = await ok(client, "update_task", task_id=task_id, priority="high", tags=[])
        assert (updated["task"]["priority"], updated["task"]["tags"]) == ("high", [])
        done = await ok(client, "complete_task", task_id=task_id)
        assert (done["status"], done["task"]["completed"]) == ("completed", True)
        assert (done["next_task"]["due"], done["next_task"]["priority"]) == ("2025-02-28", "high")
        assert await titles(client, status="pending") == ["rent"]
        reopened = await ok(client, "complete_task", task_id=task_id, completed=False)
        assert (reopened["status"], reopened["task"]["completed_at"]) == ("reopened", None)
        deleted = await ok(client, "delete_task", task_id=task_id)
        assert deleted["status"] == "deleted"
        assert await error(client, "get_task", task_id=task_id) == (
            f"Error executing tool get_task: Task {task_id} not found"
        )


async def test_list_pages_over_http(server: Server):
    async with connect(server, mint_jwt(user("ann"), SETTINGS)) as client:
        for i in range(7):
            await ok(client, "add_task", title=f"t{i}")
        seen, cursor, pages = [], None, 0
        while True:
            query: dict[str, Any] = {"limit": 3, "sort": "title", "order": "desc"}
            page = await ok(client, "list_tasks", **query, **({"cursor": cursor} if cursor else {}))
            seen += [t["title"] for t in page["tasks"]]
            pages += 1
            if not (cursor := page["next_cursor"]):
                break
        assert (seen, pages) == ([f"t{i}" for i in reversed(range(7))], 3)


async def test_two_jwt_users_never_see_each_others_tasks(server: Server):
    ann, bob = user("ann"), user("bob")
    async with (
        connect(server, mint_jwt(ann, SETTINGS)) as as_ann,
        connect(server, mint_jwt(bob, SETTINGS)) as as_bob,
    ):
        task_id = (await ok(as_ann, "add_task", title="ann's"))["task_id"]
        await ok(as_bob, "add_task", title="bob's")
        assert await titles(as_ann) == ["ann's"]
        assert await titles(as_bob) == ["bob's"]
        not_found = f"Task {task_id} not found"
        for tool, args in [
            ("get_task", {}),
            ("update_task", {"title": "bob was here"}),
            ("complete_task", {}),
            ("delete_task", {}),
        ]:
            assert await error(as_bob, tool, task_id=task_id, **args) == (
                f"Error executing tool {tool}: {not_found}"
            )
        assert (await ok(as_ann, "get_task", task_id=task_id))["title"] == "ann's"
        assert (await ok(as_ann, "get_task", task_id=task_id))["completed"] is False


async def test_service_token_acts_for_the_meta_user(server: Server):
    ann, bob = user("ann"), user("bob")
    async with connect(server, SERVICE_TOKEN) as service:
        await ok(service, "add_task", meta={"taskchat/user_id": ann}, title="for ann")
        bobs = await ok(service, "add_task", meta={"taskchat/user_id": bob}, title="for bob")
        assert await titles(service, meta={"taskchat/user_id": ann}) == ["for ann"]
        assert await titles(service, meta={"taskchat/user_id": bob}) == ["for bob"]
        assert (
            await error(
                service, "get_task", meta={"taskchat/user_id": ann}, task_id=bobs["task_id"]
            )
            == f"Error executing tool get_task: Task {bobs['task_id']} not found"
        )
        assert await error(service, "list_tasks") == (
            "Error executing tool list_tasks: the service token acts for a user: "
            "name them in _meta['taskchat/user_id']"
        )
    async with connect(server, mint_jwt(ann, SETTINGS)) as as_ann:
        assert await titles(as_ann) == ["for ann"]


async def test_a_user_jwt_with_someone_elses_meta_still_acts_as_itself(server: Server):
    ann, mallory = user("ann"), user("mallory")
    async with connect(server, mint_jwt(ann, SETTINGS)) as as_ann:
        await ok(as_ann, "add_task", title="ann's secret")
    async with connect(server, mint_jwt(mallory, SETTINGS)) as as_mallory:
        meta = {"taskchat/user_id": ann}
        assert await titles(as_mallory, meta=meta) == []
        await ok(as_mallory, "add_task", meta=meta, title="planted")
        assert await titles(as_mallory) == ["planted"]
    async with connect(server, mint_jwt(ann, SETTINGS)) as as_ann:
        assert await titles(as_ann) == ["ann's secret"]


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, "Bearer"),
        (f"Bearer {mint_jwt('ann', SETTINGS, ttl_seconds=-60)}",
         'Bearer error="invalid_token", error_description="token expired"'),
        (f"Bearer {mint_jwt('ann', Settings(_env_file=None, jwt_secret='wrong-' + 'y' * 32))}",
         'Bearer error="invalid_token", error_description="invalid token: bad signature"'),
        ("Bearer not-a-token",
         'Bearer error="invalid_token", error_description="invalid token: Not enough segments"'),
        (f"Bearer {SERVICE_TOKEN}x",
         'Bearer error="invalid_token", error_description="invalid token: Not enough segments"'),
    ],
    ids=["missing", "expired", "wrong-secret", "garbage", "wrong-service-token"],
)  # fmt: skip
async def test_bad_credentials_get_401_saying_what_was_wrong(
    server: Server, authorization: str | None, challenge: str
):
    headers = {"Accept": "application/json, text/event-stream"}
    if authorization:
        headers["Authorization"] = authorization
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "list_tasks", "arguments": {}}}  # fmt: skip
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{server.base_url}/mcp", json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge


async def test_the_official_client_cannot_connect_without_a_token(server: Server):
    with pytest.raises(Exception):  # noqa: B017 (the SDK's error type is not part of the test)
        async with connect(server, None):
            pass


async def test_bad_inputs_leave_the_data_unchanged(server: Server):
    async with connect(server, mint_jwt(user("ann"), SETTINGS)) as client:
        task_id = (await ok(client, "add_task", title="keep", tags=["a"], due="2025-03-10"))[
            "task_id"
        ]
        before = await ok(client, "list_tasks")
        bad_calls = [
            ("add_task", {"title": ""}),
            ("add_task", {"title": "x", "due": "next blursday"}),
            ("add_task", {"title": "x", "tags": ["bad tag"]}),
            ("add_task", {"title": "x" * 201}),
            ("add_task", {"title": "x", "priority": "urgent"}),
            ("update_task", {"task_id": task_id, "title": ""}),
            ("update_task", {"task_id": task_id, "due": "2025-03-10T10:00"}),
            ("update_task", {"task_id": task_id, "tags": ["ok", "#"]}),
            ("update_task", {"task_id": task_id}),
            ("update_task", {"task_id": task_id, "user_id": "bob"}),
            ("complete_task", {"task_id": task_id + 10_000}),
            ("delete_task", {"task_id": task_id + 10_000}),
            ("list_tasks", {"cursor": "tampered"}),
        ]
        for tool, args in bad_calls:
            assert (await error(client, tool, **args)).startswith(f"Error executing tool {tool}: ")
        assert await ok(client, "list_tasks") == before


async def test_two_clients_adding_concurrently_lose_nothing(server: Server):
    ann = user("ann")

    async def add_hundred(name: str) -> None:
        async with connect(server, mint_jwt(ann, SETTINGS)) as client:
            await asyncio.gather(*(ok(client, "add_task", title=f"{name}-{i}") for i in range(100)))

    await asyncio.gather(add_hundred("a"), add_hundred("b"))
    async with connect(server, mint_jwt(ann, SETTINGS)) as client:
        page = await ok(client, "list_tasks", limit=200)
    added = sorted(task["title"] for task in page["tasks"])
    assert added == sorted([f"a-{i}" for i in range(100)] + [f"b-{i}" for i in range(100)])
    assert len({task["id"] for task in page["tasks"]}) == 200


async def test_healthz_answers_ok(server: Server):
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base_url}/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_local_mode_needs_no_token_and_acts_as_local(tmp_path):
    port = free_port()
    env = server_env(f"sqlite:///{tmp_path / 'local.db'}", port, JWT_SECRET="")
    with running("mcp_server", env, port) as local:
        async with connect(local, None) as client:
            await ok(client, "add_task", meta={"taskchat/user_id": "bob"}, title="mine")
    from mcp_server import tasks
    from shared.db import make_engine, run_db

    engine = make_engine(f"sqlite:///{tmp_path / 'local.db'}")
    page = await run_db(engine, tasks.list_tasks, user_id="local")
    assert [t["title"] for t in page["tasks"]] == ["mine"]
    engine.dispose()
