"""MCP_RATE_LIMIT against real MCP server processes: counted per acting user, refused calls
change nothing, and instances sharing Redis share the count."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_server import tasks
from shared.db import make_engine, run_db
from testbed.servers import Server, free_port, running
from tests.reliability.harness import JWT_ENV, call, fresh_user, mcp_client, token, tool_text

pytestmark = pytest.mark.timeout(120)

SERVICE_TOKEN = JWT_ENV["MCP_SERVICE_TOKEN"]
LIMITED = re.compile(
    r"Error executing tool (\w+): rate limit exceeded \(5 tool calls per 1 minute\); "
    r"retry in (\d+) s"
)


def mcp_env(database_url: str, **extra: str) -> dict[str, str]:
    return {**JWT_ENV, "DATABASE_URL": database_url, "MCP_RATE_LIMIT": "5/minute", **extra}


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('ratelimit') / 'tasks.db'}"


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    """One MCP server allowing 5 tool calls a minute per user, counted in memory."""
    port = free_port()
    with running("mcp_server", {**mcp_env(database_url), "MCP_PORT": str(port)}, port) as server:
        yield server


async def titles_in_database(database_url: str, user: str) -> list[str]:
    """The user's tasks as the database holds them (no tool call, so nothing is counted)."""
    engine = make_engine(database_url)
    try:
        page = await run_db(engine, tasks.list_tasks, user_id=user)
    finally:
        engine.dispose()
    return sorted(task["title"] for task in page["tasks"])


def assert_limited(result, tool: str) -> None:
    assert result.is_error
    match = LIMITED.fullmatch(tool_text(result))
    assert match, tool_text(result)
    assert match[1] == tool and 1 <= int(match[2]) <= 60


async def test_a_users_sixth_call_is_refused_clearly_changes_nothing_and_spares_others(
    server: Server, database_url: str
) -> None:
    ann, bob = fresh_user("ann"), fresh_user("bob")
    url = f"{server.base_url}/mcp"
    async with mcp_client(url, token(ann)) as as_ann, mcp_client(url, token(bob)) as as_bob:
        for i in range(5):
            assert not (await call(as_ann, "add_task", {"title": f"t{i}"})).is_error
        assert_limited(await call(as_ann, "add_task", {"title": "one too many"}), "add_task")
        assert_limited(await call(as_ann, "delete_task", {"task_id": 1}), "delete_task")
        bobs = await call(as_bob, "add_task", {"title": "bob's"})
        assert not bobs.is_error, tool_text(bobs)
    assert await titles_in_database(database_url, ann) == [f"t{i}" for i in range(5)]


async def test_the_service_token_is_limited_per_meta_user_not_as_one_caller(server: Server) -> None:
    ann, bob = fresh_user("ann"), fresh_user("bob")
    url = f"{server.base_url}/mcp"
    async with mcp_client(url, SERVICE_TOKEN) as service:
        for _ in range(5):
            assert not (await call(service, "list_tasks", {}, as_user=ann)).is_error
        assert_limited(await call(service, "list_tasks", {}, as_user=ann), "list_tasks")
        for _ in range(5):
            assert not (await call(service, "list_tasks", {}, as_user=bob)).is_error
    # The count belongs to the acting user: ann's own token finds her budget spent too.
    async with mcp_client(url, token(ann)) as as_ann:
        assert_limited(await call(as_ann, "list_tasks", {}), "list_tasks")


async def test_local_mode_counts_the_local_user(tmp_path: Path) -> None:
    port = free_port()
    env = {**mcp_env(f"sqlite:///{tmp_path / 'local.db'}"), "JWT_SECRET": "", "MCP_PORT": str(port)}
    with running("mcp_server", env, port) as local:
        # Local mode reads no token: every call acts for the local user.
        async with mcp_client(f"{local.base_url}/mcp", "ignored") as client:
            for _ in range(5):
                assert not (await call(client, "list_tasks", {})).is_error
            assert_limited(await call(client, "list_tasks", {}), "list_tasks")


async def test_two_instances_sharing_redis_share_each_users_count(
    redis_url: str, database_url: str
) -> None:
    ann, bob = fresh_user("ann"), fresh_user("bob")
    first_port, second_port = free_port(), free_port()
    env = mcp_env(database_url, RATE_LIMIT_STORAGE_URL=redis_url)
    with (
        running("mcp_server", {**env, "MCP_PORT": str(first_port)}, first_port) as first,
        running("mcp_server", {**env, "MCP_PORT": str(second_port)}, second_port) as second,
    ):
        async with (
            mcp_client(f"{first.base_url}/mcp", token(ann)) as on_first,
            mcp_client(f"{second.base_url}/mcp", token(ann)) as on_second,
        ):
            for client in (on_first, on_second, on_first, on_second, on_first):
                assert not (await call(client, "list_tasks", {})).is_error
            assert_limited(await call(on_second, "list_tasks", {}), "list_tasks")
            assert_limited(await call(on_first, "list_tasks", {}), "list_tasks")
        async with mcp_client(f"{second.base_url}/mcp", token(bob)) as as_bob:
            assert not (await call(as_bob, "list_tasks", {})).is_error


async def test_an_unreachable_rate_limit_storage_gives_a_clear_tool_error_and_changes_nothing(
    database_url: str,
) -> None:
    ann, port = fresh_user("ann"), free_port()
    env = mcp_env(
        database_url, RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{free_port()}", MCP_PORT=str(port)
    )
    with running("mcp_server", env, port) as server:
        async with mcp_client(f"{server.base_url}/mcp", token(ann)) as client:
            result = await call(client, "add_task", {"title": "not while blind"})
    assert result.is_error
    assert tool_text(result) == (
        "Error executing tool add_task: the rate limit storage is unavailable right now; "
        "try again in a moment"
    )
    assert await titles_in_database(database_url, ann) == []
