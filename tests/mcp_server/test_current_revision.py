"""End-to-end: what the task server offers beyond tools, at both revisions, through a real
server process over HTTP: honest capabilities, caching, resources, links, completions,
prompts, change subscriptions and progress."""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import (
    CompleteRequest,
    CompleteRequestParams,
    CompleteResult,
    CompletionArgument,
    PromptReference,
    ResourceLink,
    ResourceTemplateReference,
    TextResourceContents,
)

from mcp_server.apps import APP_URI
from shared.auth import mint_jwt
from shared.settings import Settings
from testbed.servers import Server, free_port, running

pytestmark = pytest.mark.e2e

SECRET = "revision-secret-" + "x" * 32
SETTINGS = Settings(_env_file=None, jwt_secret=SECRET)
MODERN = "2026-07-28"
# How long a test waits for a change to arrive on a stream before it fails (a deadline for
# a broken feed, not a measure of speed).
DELIVERY_DEADLINE = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('rev') / 'tasks.db'}",
        "MCP_HOST": "127.0.0.1",
        "MCP_PORT": str(port),
        "MCP_ALLOWED_HOSTS": "",
        "JWT_SECRET": SECRET,
    }
    with running("mcp_server", env, port) as server:
        yield server


def user(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def connect(server: Server, user_id: str, mode: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {mint_jwt(user_id, SETTINGS)}"}
    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(f"{server.base_url}/mcp", http_client=http)
        async with Client(transport, mode=mode) as client:
            yield client


async def ok(client: Client, tool: str, **args: Any) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    return result.structured_content


async def test_initialize_and_discover_advertise_the_same_capabilities(server: Server) -> None:
    async with (
        connect(server, user("ann"), "legacy") as legacy,
        connect(server, user("ann"), "auto") as modern,
    ):
        assert (legacy.protocol_version, modern.protocol_version) == ("2025-11-25", MODERN)
        old = legacy.server_capabilities.model_dump(by_alias=True, exclude_none=True)
        new = modern.server_capabilities.model_dump(by_alias=True, exclude_none=True)
        info = legacy.server_info
    # Resource subscriptions differ: a stream carries them only at 2026-07-28. And the
    # 2025-11-25 schema has no `extensions` (the SDK leaves the field out on that wire).
    assert old["resources"] == {"subscribe": False, "listChanged": False}
    assert new["resources"] == {"subscribe": True, "listChanged": False}
    assert new.pop("extensions") == {"io.modelcontextprotocol/ui": {}}
    assert {**old, "resources": None} == {**new, "resources": None}
    assert old["tools"] == {"listChanged": False}
    assert old["prompts"] == {"listChanged": False}
    assert old["completions"] == {}
    assert "logging" not in old
    assert info is not None
    assert info.version == version("taskchat") != ""
    assert info.icons and info.icons[0].src.startswith("data:image/svg+xml;base64,")


async def test_the_tool_list_says_how_long_it_may_be_cached(server: Server) -> None:
    async with connect(server, user("ann"), MODERN) as client:
        listed = await client.session.list_tools()
    assert listed.ttl_ms is not None and listed.ttl_ms > 0
    assert listed.cache_scope == "private"  # it depends on the token's scopes
    tools = {tool.name: tool for tool in listed.tools}
    assert all(tool.icons for tool in tools.values())
    assert tools["list_tasks"].meta == {"ui": {"resourceUri": APP_URI}}


@pytest.mark.parametrize("headers", [{}, {"MCP-Protocol-Version": MODERN}])
def test_get_on_mcp_is_405_since_no_stream_is_offered_there(
    server: Server, headers: dict[str, str]
) -> None:
    token = mint_jwt(user("ann"), SETTINGS)
    response = httpx.get(
        f"{server.base_url}/mcp",
        headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream", **headers},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_a_task_is_a_resource_only_its_owner_reads(server: Server, mode: str) -> None:
    async with (
        connect(server, user("ann"), mode) as ann,
        connect(server, user("bob"), mode) as bob,
    ):
        templates = await ann.list_resource_templates()
        assert {t.uri_template for t in templates.resource_templates} == {
            "task://{task_id}", "list://{list_id}"
        }
        task = (await ok(ann, "add_task", title="rent", tags=["home"]))["task"]
        read = await ann.read_resource(f"task://{task['id']}")
        [contents] = read.contents
        assert isinstance(contents, TextResourceContents)
        assert contents.mime_type == "application/json"
        assert json.loads(contents.text) == {**task, "subtasks": []}
        everything = json.loads(_text(await ann.read_resource("list://all")))
        assert [t["title"] for t in everything["tasks"]] == ["rent"]

        with pytest.raises(MCPError) as foreign:
            await bob.read_resource(f"task://{task['id']}")
        with pytest.raises(MCPError) as missing:
            await bob.read_resource("task://2147483000")
        assert foreign.value.error.code == missing.value.error.code
        assert foreign.value.error.message == f"Unknown resource: task://{task['id']}"
        assert json.loads(_text(await bob.read_resource("list://all")))["tasks"] == []


def _text(result: Any) -> str:
    [contents] = result.contents
    assert isinstance(contents, TextResourceContents)
    return contents.text


async def test_writes_link_the_tasks_they_wrote_beside_structured_content(server: Server) -> None:
    async with connect(server, user("ann"), MODERN) as client:
        result = await client.call_tool("add_tasks", {"items": [{"title": "a"}, {"title": "b"}]})
        assert result.structured_content is not None
        ids = [item["task"]["id"] for item in result.structured_content["results"]]
        links = [block for block in result.content if isinstance(block, ResourceLink)]
        assert [link.uri for link in links] == [f"task://{n}" for n in ids]
        deleted = await client.call_tool("delete_task", {"task_id": ids[0]})
        assert not [block for block in deleted.content if isinstance(block, ResourceLink)]


async def test_completions_offer_only_the_callers_tags_and_lists(server: Server) -> None:
    async with (
        connect(server, user("ann"), "legacy") as ann,
        connect(server, user("bob"), "legacy") as bob,
    ):
        await ok(ann, "add_task", title="a", tags=["home", "hobby"], list="Holidays")
        await ok(bob, "add_task", title="b", tags=["health"], list="Hospital")
        prompt = PromptReference(type="ref/prompt", name="weekly_review")
        assert await complete(ann, prompt, "tag", "h") == ["hobby", "home"]
        assert await complete(bob, prompt, "tag", "h") == ["health"]
        plan = PromptReference(type="ref/prompt", name="plan_my_day")
        assert await complete(ann, plan, "list_name", "ho") == ["Holidays"]
        template = ResourceTemplateReference(type="ref/resource", uri="list://{list_id}")
        assert (await complete(ann, template, "list_id", "a")) == ["all"]


async def complete(client: Client, ref: Any, name: str, value: str) -> list[str]:
    request = CompleteRequest(
        params=CompleteRequestParams(
            ref=ref, argument=CompletionArgument(name=name, value=value)
        )
    )
    result = await client.session.send_request(request, CompleteResult)
    return result.completion.values


async def test_prompts_for_common_workflows(server: Server) -> None:
    async with connect(server, user("ann"), MODERN) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert set(prompts) == {"plan_my_day", "weekly_review"}
        got = await client.get_prompt("plan_my_day", {"list_name": "Work"})
        assert "list_tasks" in got.messages[0].content.text  # type: ignore[union-attr]
        assert '"Work"' in got.messages[0].content.text  # type: ignore[union-attr]


async def test_a_subscriber_hears_its_own_changes_and_no_one_elses(server: Server) -> None:
    async with (
        connect(server, user("ann"), MODERN) as ann,
        connect(server, user("bob"), MODERN) as bob,
    ):
        task_id = (await ok(ann, "add_task", title="watched"))["task_id"]
        async with ann.listen(resource_subscriptions=[f"task://{task_id}", "list://all"]) as sub:
            # Bob's change first: were it leaked, Ann's stream would show it first.
            await ok(bob, "add_task", title="bob's")
            await ok(ann, "complete_task", task_id=task_id)
            heard = []
            with anyio.fail_after(DELIVERY_DEADLINE):
                async for event in sub:
                    heard.append(event.uri)  # type: ignore[union-attr]
                    if len(heard) == 2:
                        break
    assert sorted(heard) == sorted([f"task://{task_id}", "list://all"])


async def test_a_long_batch_reports_progress_at_the_current_revision(server: Server) -> None:
    seen: list[tuple[float, float | None]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with connect(server, user("ann"), MODERN) as client:
        items = [{"title": f"t{n}"} for n in range(6)]
        result = await client.call_tool("add_tasks", {"items": items}, progress_callback=progress)
    assert not result.is_error
    assert seen == [(n, 6) for n in range(1, 7)]


@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_the_python_client_calls_every_tool_at_both_revisions(
    server: Server, mode: str
) -> None:
    async with connect(server, user("ann"), mode) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        called: set[str] = set()

        async def call(tool: str, **args: Any) -> Any:
            called.add(tool)
            return await ok(client, tool, **args)

        task_id = (await call("add_task", title="rent", list="Py"))["task_id"]
        await call("get_task", task_id=task_id)
        await call("list_tasks", status="all")
        await call("update_task", task_id=task_id, priority="high")
        await call("complete_task", task_id=task_id)
        batch = await call("add_tasks", items=[{"title": "a"}, {"title": "b"}])
        ids = [item["task"]["id"] for item in batch["results"]]
        await call("update_tasks", items=[{"task_id": n, "priority": "low"} for n in ids])
        done = await call("complete_tasks", task_ids=[*ids, 2147483000])
        assert (done["succeeded"], done["failed"]) == (2, 1)
        assert (await call("delete_tasks", task_ids=ids))["succeeded"] == 2
        await call("list_lists")
        await call("rename_list", list="Py", new_name="Py2")
        if "share_list" in listed:  # shared lists, where this server has them
            friend = user("friend")
            await call("share_list", list="Py2", user_id=friend, role="viewer")
            await call("list_members", list="Py2")
            await call("unshare_list", list="Py2", user_id=friend)
        await call("delete_task", task_id=task_id)
        if "restore_task" in listed:
            trash = await call("list_deleted_tasks")
            assert task_id in [item["id"] for item in trash["deleted"]]
            await call("restore_task", task_id=task_id)
            await call("delete_task", task_id=task_id)
        await call("delete_list", list="Py2")
    assert called == listed
