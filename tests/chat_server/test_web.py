"""The browser routes in-process: the app page and its UI choice, static files, /api/tasks."""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from agents.testing import ScriptedModel
from mcp.types import CallToolResult, TextContent

from chat_server.agent.pool import MCPUnavailable
from chat_server.app import create_app
from shared.auth import Principal, mint_jwt
from shared.contract import ErrorCode, ToolFailure, error_result
from shared.settings import Settings
from tests.chat_server.fakes import TaskMCP, make_task

SECRET = "web-test-secret-that-is-long-enough-for-hs256"
SERVICE_TOKEN = "web-test-service-token-of-32-characters"


@asynccontextmanager
async def client_for(tmp_path: Path, mcp: TaskMCP | None = None, **overrides: Any
                     ) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'web.db'}",
                        **overrides)
    app = create_app(settings, model=ScriptedModel([]), mcp_server=mcp or TaskMCP())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            yield client


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="taskchat-config" type="application/json">(.*?)</script>', html)
    assert match, "the page embeds its config"
    return json.loads(match.group(1))


class ListingMCP(TaskMCP):
    """Answers list_tasks with the caller's tasks; fails as told."""

    def __init__(self, error: str | ToolFailure | None = None, down: bool = False) -> None:
        super().__init__()
        self.error = error
        self.is_down = down

    async def call_tool(self, tool_name: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None) -> CallToolResult:
        self.calls.append((tool_name, dict(arguments or {}), meta))
        if self.is_down:
            raise MCPUnavailable("The task server at http://127.0.0.1:1/mcp is not reachable.")
        if isinstance(self.error, ToolFailure):
            return error_result(self.error)
        if self.error:
            return CallToolResult(content=[TextContent(type="text", text=self.error)],
                                  is_error=True)
        user = (meta or {}).get("taskchat/user_id")
        mine = [t for i, t in self.tasks.items() if self.owners[i] == user]
        data = {"tasks": mine, "next_cursor": None}
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(data))],
                              structured_content=data)


async def test_page_uses_the_configured_ui_and_embeds_the_chatkit_settings(tmp_path: Path
                                                                             ) -> None:
    async with client_for(tmp_path, chatkit_domain_key="domain_pk_test") as client:
        response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert page_config(response.text) == {
        "ui": "auto", "apiUrl": "/chatkit", "domainKey": "domain_pk_test",
        "chatkitScript": "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js",
        "auth": "local", "signIn": None,
    }
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' https://cdn.platform.openai.com;" in policy
    assert "frame-ancestors 'none'" in policy


async def test_ui_query_asks_for_the_built_in_ui_which_loads_nothing_from_elsewhere(
    tmp_path: Path
) -> None:
    async with client_for(tmp_path, chat_ui="chatkit") as client:
        response = await client.get("/?ui=builtin")

    config = page_config(response.text)
    assert (config["ui"], config["chatkitScript"]) == ("builtin", None)
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "https://" not in response.text


async def test_chat_ui_setting_chooses_the_built_in_ui(tmp_path: Path) -> None:
    async with client_for(tmp_path, chat_ui="builtin") as client:
        response = await client.get("/")

    assert page_config(response.text)["ui"] == "builtin"


async def test_unknown_ui_is_refused_with_the_choices(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        response = await client.get("/?ui=fancy")

    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_request", "message": "ui must be one of auto, builtin, chatkit; got 'fancy'"}


async def test_page_config_cannot_close_its_script_tag(tmp_path: Path) -> None:
    async with client_for(tmp_path, chatkit_domain_key="</script><script>alert(1)") as client:
        response = await client.get("/")

    assert "</script><script>alert(1)" not in response.text
    assert page_config(response.text)["domainKey"] == "</script><script>alert(1)"


async def test_static_files_are_served_and_nothing_else(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        script = await client.get("/static/main.js")
        style = await client.get("/static/app.css")
        missing = await client.get("/static/secret.py")
        template = await client.get("/static/index.html")
        escape = await client.get("/static/..%2Fpage.py")

    assert (script.status_code, script.headers["content-type"]) == (
        200, "text/javascript; charset=utf-8")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "Not Found"}
    assert template.status_code == 404
    assert escape.status_code == 404


async def test_tasks_panel_lists_the_callers_tasks_through_the_mcp_client(tmp_path: Path
                                                                         ) -> None:
    mcp = ListingMCP()
    mcp.own(Principal("local"), make_task(1, "buy milk"))
    mcp.own(Principal("someone"), make_task(2, "not mine"))
    async with client_for(tmp_path, mcp) as client:
        response = await client.get("/api/tasks")

    assert response.status_code == 200
    assert response.json() == {"tasks": [make_task(1, "buy milk")], "next_cursor": None}
    # Subtasks too: the panel shows them under their parents.
    assert mcp.calls == [("list_tasks", {"status": "all", "sort": "due", "order": "asc",
                                         "limit": 200, "subtasks": "all"},
                          {"taskchat/user_id": "local"})]


async def test_tasks_panel_uses_the_user_from_the_token(tmp_path: Path) -> None:
    mcp = ListingMCP()
    settings = Settings(_env_file=None, jwt_secret=SECRET)
    jwt_mode = {"jwt_secret": SECRET, "mcp_service_token": SERVICE_TOKEN}
    async with client_for(tmp_path, mcp, **jwt_mode) as client:
        anonymous = await client.get("/api/tasks")
        response = await client.get(
            "/api/tasks?status=pending",
            headers={"Authorization": f"Bearer {mint_jwt('alice', settings)}"})
        client.cookies.set("taskchat_session", mint_jwt("bob", settings))
        me = await client.get("/api/me")

    assert anonymous.status_code == 401
    assert response.status_code == 200
    assert mcp.calls == [("list_tasks", {"status": "pending", "sort": "due", "order": "asc",
                                         "limit": 200, "subtasks": "all"},
                          {"taskchat/user_id": "alice"})]
    assert me.json() == {"user_id": "bob", "auth": "jwt"}


async def test_tasks_panel_reports_a_refusal_and_an_outage_in_plain_words(tmp_path: Path
                                                                         ) -> None:
    refusing = ListingMCP(error="Error executing tool list_tasks: limit must be at most 200")
    async with client_for(tmp_path, refusing) as client:
        refused = await client.get("/api/tasks")
    async with client_for(tmp_path, ListingMCP(down=True)) as client:
        down = await client.get("/api/tasks")
        bad_status = await client.get("/api/tasks?status=someday")

    assert refused.status_code == 502
    assert refused.json() == {"error": "task_server_error",
                              "message": "the task server refused: limit must be at most 200"}
    assert down.status_code == 503
    # The page is no place for the task server's address.
    assert down.json() == {"error": "task_server_unavailable", "message":
                           "The task server isn't answering right now, so nothing was changed."}
    assert bad_status.status_code == 422


async def test_a_task_body_over_max_body_bytes_is_refused_before_it_is_read(tmp_path: Path
                                                                           ) -> None:
    mcp = ListingMCP()
    async with client_for(tmp_path, mcp) as client:
        declared = await client.post("/api/tasks", json={"title": "x" * 70_000})

        async def tags() -> AsyncIterator[bytes]:  # chunked: no Content-Length to go by
            yield b'{"title": "x", "tags": ['
            for _ in range(2000):
                yield b'"' + b"t" * 98 + b'",'
            yield b'"t"]}'

        streamed = await client.post("/api/tasks", content=tags(),
                                     headers={"Content-Type": "application/json"})

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json() == {"error": "body_too_large",
                                   "message": "request body is over 64000 bytes"}
    assert mcp.calls == []


async def test_a_task_field_over_its_bound_is_a_422_naming_it_without_echoing_it(
    tmp_path: Path
) -> None:
    mcp = ListingMCP()
    async with client_for(tmp_path, mcp) as client:
        long_tag = await client.post("/api/tasks", json={"title": "x", "tags": ["t" * 5000]})
        many_tags = await client.post("/api/tasks", json={"title": "x", "tags": ["t"] * 101})
        long_title = await client.post("/api/tasks", json={"title": "T" * 1001})
        long_due = await client.post("/api/tasks", json={"title": "x", "due": "2" * 65})
        unknown = await client.post("/api/tasks", json={"title": "x", "k" * 5000: 1})

    answers = {
        long_tag: "body.tags.0: String should have at most 100 characters",
        many_tags: "body.tags: List should have at most 100 items after validation, not 101",
        long_title: "body.title: String should have at most 1000 characters",
        long_due: "body.due: String should have at most 64 characters",
        unknown: f"body.{'k' * 95}… (5,005 characters): Extra inputs are not permitted",
    }
    for response, message in answers.items():
        assert response.status_code == 422
        assert response.json() == {"error": "invalid_request", "message": message}
        assert response.headers["cache-control"] == "no-store"
    assert mcp.calls == []


async def test_a_bad_query_value_is_a_422_in_the_apps_error_shape(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        response = await client.get("/api/tasks", params={"status": "s" * 10_000})

    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_request",
        "message": "query.status: Input should be 'all', 'pending' or 'completed'",
    }


async def test_every_api_and_chatkit_json_answer_is_sent_no_store(tmp_path: Path) -> None:
    mcp = ListingMCP()
    settings = Settings(_env_file=None, jwt_secret=SECRET)
    jwt_mode = {"jwt_secret": SECRET, "mcp_service_token": SERVICE_TOKEN}
    bearer = {"Authorization": f"Bearer {mint_jwt('alice', settings)}"}
    async with client_for(tmp_path, mcp, **jwt_mode) as client:
        answers = [
            await client.get("/api/tasks", headers=bearer),
            await client.get("/api/me", headers=bearer),
            await client.get("/api/tasks"),  # 401
            await client.get("/api/nothing-here", headers=bearer),  # 404
            await client.post("/chatkit", headers=bearer,
                              json={"type": "threads.list", "params": {}}),
            await client.post("/chatkit", headers=bearer, json={"type": "nope"}),  # 400
        ]
        page = await client.get("/")
        health = await client.get("/healthz")

    assert [r.status_code for r in answers] == [200, 200, 401, 404, 200, 400]
    for response in answers:
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["cache-control"] == "no-store", response.request.url
    assert page.headers["cache-control"] == "no-cache"  # the page sets its own
    assert "cache-control" not in health.headers


async def test_an_unknown_chatkit_request_type_is_quoted_only_in_part(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        response = await client.post("/chatkit", json={"type": "q" * 50_000, "params": {}})

    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_request",
        "message": f"unknown request type '{'q' * 100}… (50,000 characters)'",
    }


async def test_an_unknown_ui_is_quoted_only_in_part(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        response = await client.get("/", params={"ui": "u" * 20_000})

    assert response.status_code == 400
    assert response.json()["message"] == (
        f"ui must be one of auto, builtin, chatkit; got '{'u' * 100}… (20,000 characters)'"
    )


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        (ErrorCode.RATE_LIMITED, 429, "rate_limited"),
        (ErrorCode.UNAVAILABLE, 503, "task_server_unavailable"),
        (ErrorCode.INVALID_INPUT, 400, "invalid_task"),
    ],
)
async def test_tasks_panel_answers_a_refusal_by_its_code(
    tmp_path: Path, code: ErrorCode, status: int, error: str
) -> None:
    refusing = ListingMCP(error=ToolFailure("list_tasks", "try later", code))
    async with client_for(tmp_path, refusing) as client:
        response = await client.get("/api/tasks")

    assert response.status_code == status
    assert response.json() == {"error": error, "message": "try later"}


class PagingMCP(TaskMCP):
    """Answers list_tasks with `count` tasks, `limit` at a time, through opaque cursors."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.all = [make_task(i, f"task {i}", due=None if i % 3 else "2030-01-01")
                    for i in range(1, count + 1)]

    async def call_tool(self, tool_name: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None) -> CallToolResult:
        args = dict(arguments or {})
        self.calls.append((tool_name, args, meta))
        start = int(args.get("cursor") or 0)
        end = start + args["limit"]
        data = {"tasks": self.all[start:end],
                "next_cursor": str(end) if end < len(self.all) else None}
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(data))],
                              structured_content=data)


async def test_tasks_panel_reads_a_thousand_tasks_a_call_and_a_cursor_reads_on(
    tmp_path: Path
) -> None:
    mcp = PagingMCP(1001)
    async with client_for(tmp_path, mcp) as client:
        first = (await client.get("/api/tasks")).json()
        rest = (await client.get("/api/tasks", params={"cursor": first["next_cursor"]})).json()
        flood = await client.get("/api/tasks", params={"cursor": "c" * 1001})

    assert [t["id"] for t in first["tasks"]] == list(range(1, 1001))
    assert first["next_cursor"] == "1000"
    assert [t["id"] for t in rest["tasks"]] == [1001]
    assert rest["next_cursor"] is None
    assert [args.get("cursor") for _, args, _ in mcp.calls] == [None, "200", "400", "600",
                                                                "800", "1000"]
    assert all(args["limit"] == 200 for _, args, _ in mcp.calls)
    assert flood.status_code == 422


async def test_panel_actions_have_their_own_limit_beside_the_chats(tmp_path: Path) -> None:
    async with client_for(tmp_path, ListingMCP(), rate_limit="3/minute") as client:
        panel = [await client.get("/api/tasks") for _ in range(30)]
        chat = [await client.post("/chatkit", json={"type": "threads.list", "params": {}})
                for _ in range(4)]
        over = [await client.get("/api/tasks") for _ in range(1)]

    assert [r.status_code for r in panel] == [200] * 30
    # The chat's three requests were not used up by the panel's thirty.
    assert [r.status_code for r in chat] == [200, 200, 200, 429]
    assert over[0].status_code == 429
    assert over[0].headers["Retry-After"]


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("water plants tomorrow 8am !high #home", "Pacific/Auckland",
         [{"title": "Water plants", "tags": ["home"], "priority": "high", "due": "8am"}]),
        ("pay rent every month", "UTC", [{"title": "Pay rent", "repeat": "FREQ=MONTHLY"}]),
        ("milk, eggs and bread", "UTC",
         [{"title": "Milk"}, {"title": "Eggs"}, {"title": "Bread"}]),
        ("show my tasks", "UTC", [{"title": "Show my tasks"}]),
        ("   ", "UTC", []),
    ],
)
async def test_quick_add_text_is_read_like_a_chat_message_in_the_users_zone(
    tmp_path: Path, text: str, zone: str, expected: list[dict[str, Any]]
) -> None:
    async with client_for(tmp_path) as client:
        response = await client.post("/api/tasks/parse", json={"text": text},
                                     headers={"X-Timezone": zone})

    assert response.status_code == 200
    tasks = response.json()["tasks"]
    for task in tasks:
        if "due" in task:
            # 8 am tomorrow in Auckland, as an instant.
            due = datetime.fromisoformat(task["due"].replace("Z", "+00:00"))
            local = due.astimezone(ZoneInfo(zone))
            assert (local.hour, local.minute) == (8, 0)
            assert local.date() == datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
            task["due"] = "8am"
    assert tasks == expected


class EditingMCP(ListingMCP):
    """Answers update_task with the task as the arguments leave it."""

    async def call_tool(self, tool_name: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None) -> CallToolResult:
        if tool_name != "update_task":
            return await super().call_tool(tool_name, arguments, meta)
        args = dict(arguments or {})
        self.calls.append((tool_name, dict(args), meta))
        task = self.tasks[args.pop("task_id")]
        task.update(args)
        data = {"task_id": task["id"], "status": "updated", "title": task["title"],
                "task": task, "next_task": None}
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(data))],
                              structured_content=data)


async def test_an_edit_in_place_changes_only_the_fields_sent(tmp_path: Path) -> None:
    mcp = EditingMCP()
    mcp.own(Principal("local"), make_task(7, "old title"))
    async with client_for(tmp_path, mcp) as client:
        response = await client.patch("/api/tasks/7", json={
            "title": "New title", "due": "", "priority": "high"})
        unknown = await client.patch("/api/tasks/7", json={"colour": "red"})

    assert response.status_code == 200
    assert mcp.calls[-1][:2] == ("update_task", {"task_id": 7, "title": "New title", "due": "",
                                                 "priority": "high"})
    assert unknown.status_code == 422


async def test_a_checkbox_ticks_a_parent_with_its_subtasks_and_a_delete_takes_them_along(
    tmp_path: Path
) -> None:
    mcp = TaskMCP()
    mcp.own(Principal("local"), make_task(3, "move house"))
    async with client_for(tmp_path, mcp) as client:
        ticked = await client.post("/api/tasks/3/complete", json={})
        reopened = await client.post("/api/tasks/3/complete", json={"completed": False})
        deleted = await client.request("DELETE", "/api/tasks/3", json={})
        again = await client.request("DELETE", "/api/tasks/3", json={})

    assert [r.status_code for r in (ticked, reopened, deleted)] == [200, 200, 200]
    assert [call[:2] for call in mcp.calls[:3]] == [
        ("complete_task", {"task_id": 3, "completed": True, "subtasks": "complete"}),
        ("complete_task", {"task_id": 3, "completed": False}),
        ("delete_task", {"task_id": 3, "subtasks": "delete"}),
    ]
    assert again.status_code == 404
    assert again.json()["error"] == "not_found"


class ListsMCP(ListingMCP):
    """Answers list_lists with one Inbox."""

    async def call_tool(self, tool_name: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None) -> CallToolResult:
        if tool_name != "list_lists":
            return await super().call_tool(tool_name, arguments, meta)
        self.calls.append((tool_name, dict(arguments or {}), meta))
        data = {"lists": [{"name": "Inbox", "list_id": 1, "color": None, "position": 0,
                           "inbox": True, "open": 2, "done": 1}]}
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(data))],
                              structured_content=data)


async def test_the_list_picker_reads_the_users_lists(tmp_path: Path) -> None:
    mcp = ListsMCP()
    async with client_for(tmp_path, mcp) as client:
        response = await client.get("/api/lists")

    assert response.status_code == 200
    assert [item["name"] for item in response.json()["lists"]] == ["Inbox"]
    assert mcp.calls == [("list_lists", {}, {"taskchat/user_id": "local"})]


async def test_the_page_takes_its_files_from_hashed_urls_kept_for_a_year_and_gzipped(
    tmp_path: Path
) -> None:
    async with client_for(tmp_path) as client:
        page = await client.get("/?ui=builtin")
        urls = re.findall(r'(?:href|src)="(/assets/[0-9a-f]{16}/[^"]+)"', page.text)
        answers = {url: await client.get(url) for url in urls}
        plain = await client.get(urls[0], headers={"Accept-Encoding": "identity"})
        other_version = await client.get(re.sub(r"/assets/\w+/", "/assets/0123456789abcdef/",
                                                urls[0]))
        not_a_file = await client.get(urls[0].rsplit("/", 1)[0] + "/page.py")

    assert page.headers["content-encoding"] == "gzip"  # the page itself, by GZipMiddleware
    assert "/static/" not in page.text
    names = {url.split("/", 3)[3] for url in urls}
    # main.js and every module it imports as one script, the stylesheet and the icon.
    assert names == {"bundle.js", "app.css", "favicon.svg"}
    assert "modulepreload" not in page.text
    for url, answer in answers.items():
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert answer.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in answer.headers["vary"]
    assert "content-encoding" not in plain.headers
    assert plain.content == answers[urls[0]].content  # httpx undid the gzip
    assert other_version.status_code == not_a_file.status_code == 404
    # Minified (comments gone, local names shortened), yet a template string inside
    # another keeps its spaces (rjsmin once made "try again in 5 s" read "try againin5 s").
    script = next(a.text for u, a in answers.items() if u.endswith("/bundle.js"))
    assert "// The built-in chat UI" not in script
    assert "class BuiltinChat" not in script
    assert re.search(r"try again\$\{(\w+)\?` in \$\{\1\} s`:\" shortly\"\}", script)
    # Each module is still served on its own under the same version.
    async with client_for(tmp_path) as client:
        module = await client.get(urls[0].rsplit("/", 1)[0] + "/builtin.js")
    assert module.status_code == 200
    assert "export class BuiltinChat" in module.text


async def test_json_answers_are_gzipped_and_event_streams_are_not(tmp_path: Path) -> None:
    async with client_for(tmp_path) as client:
        turn = await client.post("/chatkit", json={
            "type": "threads.create",
            "params": {"input": {"content": [{"type": "input_text", "text": "x" * 2000}],
                                 "attachments": [], "inference_options": {}}}})
        thread_id = re.search(r'"thread":\{"id":"(thr_\w+)"', turn.text)
        assert thread_id
        listed = await client.post("/chatkit", json={
            "type": "items.list", "params": {"thread_id": thread_id.group(1)}})

    assert turn.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in turn.headers
    assert listed.headers["content-encoding"] == "gzip"
    assert "x" * 2000 in listed.text



class RestoringMCP(TaskMCP):
    """TaskMCP whose deleted tasks restore_task brings back under their own ids."""

    def __init__(self) -> None:
        super().__init__()
        self.deleted: dict[int, tuple[str | None, dict[str, Any]]] = {}

    async def call_tool(self, tool_name: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None) -> CallToolResult:
        args = dict(arguments or {})
        user = (meta or {}).get("taskchat/user_id")
        if tool_name == "delete_task" and self.owners.get(args["task_id"]) == user:
            self.deleted[args["task_id"]] = (user, dict(self.tasks[args["task_id"]]))
        if tool_name != "restore_task":
            return await super().call_tool(tool_name, arguments, meta)
        self.calls.append((tool_name, args, meta))
        owner, task = self.deleted.get(args["task_id"], (None, {}))
        if owner != user:
            return error_result(ToolFailure(tool_name, f"Task {args['task_id']} cannot be "
                                            "restored", ErrorCode.NOT_FOUND))
        del self.deleted[task["id"]]
        self.own(Principal(owner), task)
        data = {"task_id": task["id"], "status": "created", "title": task["title"],
                "task": task, "next_task": None}
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(data))],
                              structured_content=data)


async def test_undo_after_a_delete_restores_the_same_task_once(tmp_path: Path) -> None:
    mcp = RestoringMCP()
    mcp.own(Principal("local"), make_task(12, "call the plumber", priority="high"))
    async with client_for(tmp_path, mcp) as client:
        await client.request("DELETE", "/api/tasks/12", json={})
        restored = await client.post("/api/tasks/12/restore", json={})
        twice = await client.post("/api/tasks/12/restore", json={})

    assert restored.status_code == 200
    assert restored.json()["task"] == make_task(12, "call the plumber", priority="high")
    assert mcp.calls[1][:2] == ("restore_task", {"task_id": 12})
    assert twice.status_code == 404
    assert twice.json() == {"error": "not_found", "message": "Task 12 cannot be restored"}
    assert list(mcp.tasks) == [12]


async def test_a_timed_or_repeating_add_carries_the_users_zone_and_a_title_edit_does_not(
    tmp_path: Path
) -> None:
    mcp = EditingMCP()
    mcp.own(Principal("local"), make_task(7, "standup"))
    paris = {"X-Timezone": "Europe/Paris"}
    async with client_for(tmp_path, mcp) as client:
        await client.post("/api/tasks", headers=paris, json={
            "title": "standup", "due": "2030-03-29T08:00:00Z", "repeat": "FREQ=DAILY"})
        await client.post("/api/tasks", headers=paris, json={"title": "someday"})
        await client.patch("/api/tasks/7", headers=paris, json={"title": "Standup"})
        await client.patch("/api/tasks/7", headers=paris, json={"repeat": "FREQ=WEEKLY"})

    assert [args for _, args, _ in mcp.calls] == [
        {"title": "standup", "due": "2030-03-29T08:00:00Z", "repeat": "FREQ=DAILY",
         "timezone": "Europe/Paris"},
        {"title": "someday"},
        {"task_id": 7, "title": "Standup"},
        {"task_id": 7, "repeat": "FREQ=WEEKLY", "timezone": "Europe/Paris"},
    ]


class SharingMCP(TaskMCP):
    """Lists 5 (alice's) and its members; a viewer's share is refused as the server would."""

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[str, str] = {}

    async def call_tool(self, tool_name: str, arguments: dict[str, Any] | None,
                        meta: dict[str, Any] | None = None) -> CallToolResult:
        args = dict(arguments or {})
        self.calls.append((tool_name, args, meta))
        if (meta or {}).get("taskchat/user_id") != "alice":
            return error_result(ToolFailure(tool_name, "Only the list's owner can share it",
                                            ErrorCode.FORBIDDEN))
        status = {"share_list": "shared", "unshare_list": "unshared",
                  "list_members": "members"}[tool_name]
        if tool_name == "share_list":
            self.members[args["user_id"]] = args["role"]
        elif tool_name == "unshare_list":
            self.members.pop(args["user_id"], None)
        data = {"status": status,
                "list": {"name": "Groceries", "list_id": args["list"], "color": None,
                         "position": 1, "inbox": False, "open": 0, "done": 0},
                "members": [{"user_id": "alice", "role": "owner"},
                            *({"user_id": u, "role": r} for u, r in self.members.items())]}
        return CallToolResult(content=[TextContent(type="text", text=json.dumps(data))],
                              structured_content=data)


async def test_the_share_dialog_shares_lists_members_and_removes_through_the_tools(
    tmp_path: Path
) -> None:
    mcp = SharingMCP()
    settings = Settings(_env_file=None, jwt_secret=SECRET)
    alice = {"Authorization": f"Bearer {mint_jwt('alice', settings)}"}
    bob = {"Authorization": f"Bearer {mint_jwt('bob', settings)}"}
    async with client_for(tmp_path, mcp, jwt_secret=SECRET,
                          mcp_service_token=SERVICE_TOKEN) as client:
        shared = await client.post("/api/lists/5/members", headers=alice,
                                   json={"user_id": "sam", "role": "editor"})
        members = await client.get("/api/lists/5/members", headers=alice)
        removed = await client.request("DELETE", "/api/lists/5/members/sam", headers=alice,
                                       json={})
        refused = await client.post("/api/lists/5/members", headers=bob,
                                    json={"user_id": "eve", "role": "viewer"})
        bad_role = await client.post("/api/lists/5/members", headers=alice,
                                     json={"user_id": "sam", "role": "owner"})

    assert shared.status_code == 200
    assert members.json()["members"] == [{"user_id": "alice", "role": "owner"},
                                         {"user_id": "sam", "role": "editor"}]
    assert removed.json()["members"] == [{"user_id": "alice", "role": "owner"}]
    assert [call[:2] for call in mcp.calls[:3]] == [
        ("share_list", {"list": 5, "user_id": "sam", "role": "editor"}),
        ("list_members", {"list": 5}),
        ("unshare_list", {"list": 5, "user_id": "sam"}),
    ]
    assert refused.status_code == 403
    assert refused.json() == {"error": "forbidden",
                              "message": "Only the list's owner can share it"}
    assert bad_role.status_code == 422
    assert len(mcp.calls) == 4  # the refused role never reached the task server
