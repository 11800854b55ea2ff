"""The chat backend in-process: ASGI client, real SQLite store, scripted model, fake MCP server."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from agents.testing import ModelStep, assistant_message, function_call

from chat_server.agent.pool import MCPUnavailable
from chat_server.app import create_app
from shared.auth import mint_jwt
from shared.settings import Settings
from shared.startup import StartupError
from tests.chat_server.app_client import (
    assistant_texts,
    create_thread,
    done_items,
    harness,
    items_of,
    post,
    sse_events,
    user_input,
)

SECRET = "test-secret-that-is-long-enough-for-hs256"
SERVICE_TOKEN = "test-service-token-of-32-characters-or-more"


async def test_a_reply_streams_and_is_saved_with_a_title(tmp_path: Path) -> None:
    steps = [[assistant_message("Hello! I manage your tasks.", item_id="msg_a1")]]
    async with harness(tmp_path, steps) as h:
        events = await create_thread(h.client, "hi there")
        thread_id = events[0]["thread"]["id"]
        assert assistant_texts(events) == ["Hello! I manage your tasks."]
        assert [e for e in events if e["type"] == "thread.updated"][0]["thread"][
            "title"
        ] == "hi there"
        saved = await items_of(h.client, thread_id)
        assert [i["type"] for i in saved] == ["user_message", "assistant_message"]
        assert saved[1]["content"][0]["text"] == "Hello! I manage your tasks."


async def test_tool_calls_act_for_the_authenticated_user_and_show_as_workflow(
    tmp_path: Path,
) -> None:
    steps = [
        [function_call("add_task", {"title": "Buy milk"}, call_id="call_1")],
        [assistant_message("Added task 1: Buy milk.", item_id="msg_b1")],
    ]
    async with harness(tmp_path, steps) as h:
        events = await create_thread(h.client, "add buy milk")
        assert h.mcp.calls == [("add_task", {"title": "Buy milk"}, {"taskchat/user_id": "local"})]
        workflow = [i for i in done_items(events) if i["type"] == "workflow"][0]
        assert workflow["workflow"]["tasks"] == [
            {
                "type": "custom",
                "status_indicator": "complete",
                "title": "add_task",
                "content": "Added “Buy milk”",
            }
        ]
        assert assistant_texts(events) == ["Added task 1: Buy milk."]


async def test_the_next_turn_sees_earlier_tool_calls_as_function_calls(tmp_path: Path) -> None:
    steps = [
        [function_call("add_task", {"title": "Buy milk"}, call_id="call_1")],
        [assistant_message("Added.", item_id="msg_c1")],
        [assistant_message("Done.", item_id="msg_c2")],
    ]
    async with harness(tmp_path, steps) as h:
        events = await create_thread(h.client, "add buy milk")
        thread_id = events[0]["thread"]["id"]
        response = await post(
            h.client,
            {
                "type": "threads.add_user_message",
                "params": {"thread_id": thread_id, "input": user_input("thanks")},
            },
        )
        assert assistant_texts(sse_events(response)) == ["Done."]
        second_turn_input = h.model.calls[2].input
        kinds = [item.get("type", "message") for item in second_turn_input]
        assert kinds == ["message", "function_call", "function_call_output", "message", "message"]
        assert second_turn_input[1]["name"] == "add_task"
        assert json.loads(second_turn_input[2]["output"])["task_id"] == 1


async def test_a_tool_error_reaches_the_model_as_output(tmp_path: Path) -> None:
    steps = [
        [function_call("get_task", {"task_id": 99}, call_id="call_1")],
        ModelStep.respond(
            lambda call: [
                assistant_message(
                    "Sorry: " + json.loads(call.input[-1]["output"][0]["text"])["error"]["message"],
                    item_id="msg_d1",
                )
            ]
        ),
    ]
    async with harness(tmp_path, steps) as h:
        events = await create_thread(h.client, "show task 99")
        assert assistant_texts(events) == ["Sorry: Task 99 not found"]


async def test_task_server_down_becomes_a_saved_assistant_message(tmp_path: Path) -> None:
    steps = [[function_call("list_tasks", {}, call_id="call_1")]]
    async with harness(tmp_path, steps) as h:
        h.mcp.fail_with = MCPUnavailable(
            "The task server at http://127.0.0.1:1/mcp is not reachable."
        )
        events = await create_thread(h.client, "show my tasks")
        thread_id = events[0]["thread"]["id"]
        # Once, in the reply, without the task server's address; the activity line only
        # says the call stopped.
        expected = (
            "I couldn't reach the task server, so nothing was changed. "
            "Please try again in a moment."
        )
        assert assistant_texts(events) == [expected]
        assert not [e for e in events if e["type"] == "error"]
        saved = await items_of(h.client, thread_id)
        assert saved[-1]["content"][0]["text"] == expected
        workflow = [i for i in saved if i["type"] == "workflow"][0]
        assert workflow["workflow"]["tasks"][0]["content"] == "Did not finish"


async def test_a_model_error_becomes_an_assistant_message(tmp_path: Path) -> None:
    async with harness(tmp_path, [RuntimeError("boom")]) as h:
        events = await create_thread(h.client, "hello")
        assert assistant_texts(events) == [
            "Something went wrong while answering (RuntimeError). Please retry."
        ]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{oops", 400, "request body is not valid JSON"),
        (b'{"type": "threads.nope", "params": {}}', 400, "unknown request type 'threads.nope'"),
        (
            json.dumps({"type": "threads.create", "params": {"input": user_input(" ")}}).encode(),
            400,
            "message is empty",
        ),
        (
            json.dumps(
                {"type": "threads.create", "params": {"input": user_input("x" * 4001)}}
            ).encode(),
            413,
            "message is 4001 characters; the limit is 4000",
        ),
        (
            json.dumps({"type": "items.list", "params": {"thread_id": "thr_missing"}}).encode(),
            404,
            "thread thr_missing not found",
        ),
        (b"x" * 70_000, 413, "request body is over 64000 bytes"),
    ],
)
async def test_bad_requests_get_a_json_error_and_change_nothing(
    tmp_path: Path, body, status, message
) -> None:
    async with harness(tmp_path) as h:
        response = await h.client.post(
            "/chatkit", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == status
        assert response.json()["message"] == message
        threads = await post(h.client, {"type": "threads.list", "params": {}})
        assert threads.json()["data"] == []


def jwt_settings() -> dict[str, Any]:
    return {"jwt_secret": SECRET, "mcp_service_token": SERVICE_TOKEN}


async def test_jwt_mode_requires_a_valid_token(tmp_path: Path) -> None:
    async with harness(tmp_path, **jwt_settings()) as h:
        listing = {"type": "threads.list", "params": {}}
        missing = await post(h.client, listing)
        assert missing.status_code == 401
        assert missing.json()["message"] == (
            "authentication required: send a bearer token or session cookie"
        )
        bad = await post(h.client, listing, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        assert bad.json()["message"].startswith("invalid token")
        expired = mint_jwt("alice", h.settings, ttl_seconds=-10)
        response = await post(h.client, listing, headers={"Authorization": f"Bearer {expired}"})
        assert response.json()["message"] == "token expired"
        token = mint_jwt("alice", h.settings)
        assert (
            await post(h.client, listing, headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200
        h.client.cookies.set("taskchat_session", token)
        # As the page sends it: browsers add Origin to every POST.
        own_page = {"Origin": "http://127.0.0.1"}
        assert (await post(h.client, listing, headers=own_page)).status_code == 200


async def test_users_cannot_reach_each_others_threads_or_items(tmp_path: Path) -> None:
    steps = [[assistant_message("Hi Alice.", item_id="msg_e1")]]
    async with harness(tmp_path, steps, **jwt_settings()) as h:
        alice = {"Authorization": f"Bearer {mint_jwt('alice', h.settings)}"}
        bob = {"Authorization": f"Bearer {mint_jwt('bob', h.settings)}"}
        events = await create_thread(h.client, "hello", headers=alice)
        thread_id = events[0]["thread"]["id"]
        item_id = done_items(events)[0]["id"]
        attempts = [
            {"type": "threads.get_by_id", "params": {"thread_id": thread_id}},
            {"type": "items.list", "params": {"thread_id": thread_id}},
            {"type": "threads.update", "params": {"thread_id": thread_id, "title": "mine"}},
            {"type": "threads.delete", "params": {"thread_id": thread_id}},
            {
                "type": "threads.add_user_message",
                "params": {"thread_id": thread_id, "input": user_input("hi")},
            },
            {
                "type": "threads.retry_after_item",
                "params": {"thread_id": thread_id, "item_id": item_id},
            },
            {
                "type": "items.feedback",
                "params": {"thread_id": thread_id, "item_ids": [item_id], "kind": "positive"},
            },
            {
                "type": "threads.custom_action",
                "params": {
                    "thread_id": thread_id,
                    "item_id": item_id,
                    "action": {"type": "x", "payload": {}},
                },
            },
        ]
        for request in attempts:
            response = await post(h.client, request, headers=bob)
            assert response.status_code == 404, request["type"]
            assert response.json() == {
                "error": "not_found",
                "message": f"thread {thread_id} not found",
            }
        bob_threads = await post(h.client, {"type": "threads.list", "params": {}}, headers=bob)
        assert bob_threads.json()["data"] == []
        alice_items = await items_of(h.client, thread_id, headers=alice)
        assert len(alice_items) == 2
        thread = await post(
            h.client,
            {"type": "threads.get_by_id", "params": {"thread_id": thread_id}},
            headers=alice,
        )
        assert thread.json()["title"] == "hello"


async def test_a_foreign_item_id_in_an_owned_thread_is_a_404(tmp_path: Path) -> None:
    async with harness(tmp_path, [[assistant_message("Hi.", item_id="msg_f1")]]) as h:
        events = await create_thread(h.client, "hello")
        thread_id = events[0]["thread"]["id"]
        response = await post(
            h.client,
            {
                "type": "items.feedback",
                "params": {"thread_id": thread_id, "item_ids": ["msg_unknown"], "kind": "negative"},
            },
        )
        assert (response.status_code, response.json()["message"]) == (
            404,
            "item msg_unknown not found",
        )


async def test_the_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    async with harness(tmp_path, rate_limit="3/minute") as h:
        listing = {"type": "threads.list", "params": {}}
        statuses = [(await post(h.client, listing)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await post(h.client, listing)
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["error"] == "too_many_requests"


async def test_cors_preflight_allows_only_configured_origins(tmp_path: Path) -> None:
    async with harness(
        tmp_path,
        cors_origins="https://app.example.com",
        cors_origin_regex=r"https://.*\.preview\.example\.com",
    ) as h:

        async def preflight(origin: str) -> httpx.Response:
            return await h.client.options(
                "/chatkit",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type",
                },
            )

        allowed = await preflight("https://app.example.com")
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        preview = await preflight("https://pr-7.preview.example.com")
        assert preview.headers["access-control-allow-origin"] == "https://pr-7.preview.example.com"
        denied = await preflight("https://evil.example.net")
        assert denied.status_code == 400
        assert "access-control-allow-origin" not in denied.headers


def test_jwt_mode_without_a_service_token_is_refused() -> None:
    with pytest.raises(StartupError, match="^MCP_SERVICE_TOKEN: is needed when JWT_SECRET is set"):
        create_app(Settings(_env_file=None, jwt_secret=SECRET))


async def test_readyz_reports_the_mcp_server(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        assert (await h.client.get("/readyz")).json() == {"database": "ok", "mcp": "ok"}
        h.mcp.up = False
        response = await h.client.get("/readyz")
        assert (response.status_code, response.json()) == (
            503,
            {"database": "ok", "mcp": "unavailable"},
        )
        assert (await h.client.get("/healthz")).status_code == 200


async def test_feedback_on_own_items_is_accepted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness(tmp_path, [[assistant_message("Hi.", item_id="msg_g1")]]) as h:
        events = await create_thread(h.client, "hello")
        thread_id = events[0]["thread"]["id"]
        reply_id = [i for i in done_items(events) if i["type"] == "assistant_message"][0]["id"]
        with caplog.at_level("INFO", logger="chat_server.conversation.server"):
            response = await post(
                h.client,
                {
                    "type": "items.feedback",
                    "params": {"thread_id": thread_id, "item_ids": [reply_id], "kind": "positive"},
                },
            )
        assert (response.status_code, response.json()) == (200, {})
        assert f"feedback positive from local on ['{reply_id}'] in {thread_id}" in caplog.text
