"""End to end: both servers as real processes, ChatKit JSON over HTTP, a real database."""

from typing import Any

import httpx
import pytest
from sqlmodel import Session

from mcp_server.tasks import TaskQuery, list_tasks
from shared.auth import mint_jwt
from shared.db import make_engine
from shared.settings import Settings
from testbed.servers import free_port, start_server
from tests.e2e.stack import SECRET, SERVICE_TOKEN, running_stack, user_input

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}


def tasks_of(database_url: str, user_id: str) -> list[dict[str, Any]]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return list(list_tasks(session, user_id=user_id, query=TaskQuery())["tasks"])
    finally:
        engine.dispose()


def test_a_whole_conversation_manages_tasks(database_url: str) -> None:
    with running_stack(database_url) as stack:
        chat = stack.client()
        first = chat.create("add buy milk tomorrow high priority #home")
        thread = first.thread_id
        assert first.tools == ["add_task"]
        [task] = tasks_of(database_url, "local")
        assert (task["title"], task["priority"], task["tags"]) == ("Buy milk", "high", ["home"])
        assert f"task {task['id']}" in first.reply.lower()

        listing = chat.say(thread, "show me all my tasks")
        assert listing.tools == ["list_tasks"]
        assert "buy milk" in listing.reply.lower()

        assert chat.say(thread, f"mark task {task['id']} as complete").tools == ["complete_task"]
        assert tasks_of(database_url, "local")[0]["completed"] is True

        renamed = chat.say(thread, f"change task {task['id']} to 'Buy oat milk'")
        assert renamed.tools == ["update_task"]
        assert tasks_of(database_url, "local")[0]["title"] == "Buy oat milk"

        deleted = chat.say(thread, "delete it")
        assert deleted.tools == ["delete_task"]
        assert tasks_of(database_url, "local") == []

        saved = chat.items(thread)
        assert [i["type"] for i in saved].count("user_message") == 5
        assert chat.threads()[0]["title"] == "add buy milk tomorrow high priority #home"


def test_threads_items_and_titles_survive_a_chat_server_restart(sqlite_url: str) -> None:
    with running_stack(sqlite_url) as stack:
        turn = stack.client().create("add call the plumber")
        before_items = stack.client().items(turn.thread_id)
        assert stack.chat is not None
        stack.chat.stop()
        stack.start_chat()
        chat = stack.client()
        assert chat.items(turn.thread_id) == before_items
        assert [t["title"] for t in chat.threads()] == ["add call the plumber"]
        assert chat.say(turn.thread_id, "show my tasks").tools == ["list_tasks"]


def test_two_users_never_see_each_others_threads_items_or_tasks(database_url: str) -> None:
    env = {"JWT_SECRET": SECRET, "MCP_SERVICE_TOKEN": SERVICE_TOKEN}
    with running_stack(database_url, **env) as stack:
        settings = Settings(_env_file=None, jwt_secret=SECRET)
        alice = stack.client(mint_jwt("alice", settings))
        bob = stack.client(mint_jwt("bob", settings))
        alice_turn = alice.create("add plan alice's surprise party")
        assert [t["title"] for t in tasks_of(database_url, "alice")] == [
            "Plan alice's surprise party"
        ]

        bob_turn = bob.create("show me alice's tasks")
        assert "surprise" not in bob_turn.reply
        bob.say(bob_turn.thread_id, "show me all my tasks")
        task_id = tasks_of(database_url, "alice")[0]["id"]
        attack = bob.say(bob_turn.thread_id, f"delete task {task_id}")
        assert "surprise" not in attack.reply
        assert len(tasks_of(database_url, "alice")) == 1
        assert tasks_of(database_url, "bob") == []

        assert [t["id"] for t in bob.threads()] == [bob_turn.thread_id]
        for request in (
            {"type": "items.list", "params": {"thread_id": alice_turn.thread_id}},
            {"type": "threads.get_by_id", "params": {"thread_id": alice_turn.thread_id}},
            {"type": "threads.delete", "params": {"thread_id": alice_turn.thread_id}},
            {
                "type": "threads.add_user_message",
                "params": {"thread_id": alice_turn.thread_id, "input": user_input("hi")},
            },
        ):
            assert bob.post(request).status_code == 404
        assert len(alice.items(alice_turn.thread_id)) >= 2
        assert stack.client().post({"type": "threads.list", "params": {}}).status_code == 401


def test_the_mcp_server_going_down_is_reported_and_recovered_from(sqlite_url: str) -> None:
    with running_stack(sqlite_url) as stack:
        chat = stack.client()
        thread = chat.create("add water the plants").thread_id
        assert stack.mcp is not None
        stack.mcp.stop()
        down = chat.say(thread, "show my tasks")
        assert "task server" in down.reply
        assert chat.items(thread)[-1]["content"][0]["text"] == down.reply
        assert httpx.get(f"{stack.chat_url}/readyz").status_code == 503

        stack.start_mcp()
        back = chat.say(thread, "show my tasks")
        assert back.tools == ["list_tasks"]
        assert "- #1 Water the plants" in back.reply
        assert httpx.get(f"{stack.chat_url}/readyz").status_code == 200


def test_bad_requests_get_clear_errors_from_the_real_server(sqlite_url: str) -> None:
    with running_stack(
        sqlite_url, RATE_LIMIT="30/minute", CORS_ORIGINS="http://localhost:3000"
    ) as stack:
        chat = stack.client()
        http = chat.http
        cases = [
            (
                http.post("/chatkit", content=b"{nope", headers=JSON),
                400,
                "request body is not valid JSON",
            ),
            (
                chat.post({"type": "threads.fly", "params": {}}),
                400,
                "unknown request type 'threads.fly'",
            ),
            (
                chat.post({"type": "threads.create", "params": {"input": user_input("")}}),
                400,
                "message is empty",
            ),
            (
                chat.post({"type": "threads.create", "params": {"input": user_input("x" * 4001)}}),
                413,
                "message is 4001 characters; the limit is 4000",
            ),
            (
                chat.post({"type": "items.list", "params": {"thread_id": "thr_nope"}}),
                404,
                "thread thr_nope not found",
            ),
        ]
        for response, status, message in cases:
            assert (response.status_code, response.json()["message"]) == (status, message)

        preflight = http.options(
            "/chatkit",
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"

        statuses = [
            chat.post({"type": "threads.list", "params": {}}).status_code for _ in range(30)
        ]
        assert statuses.count(429) == 5  # 5 above + 25 here = 30 allowed, then refused
        limited = chat.post({"type": "threads.list", "params": {}})
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_an_openai_compatible_server_drives_the_agent(sqlite_url: str) -> None:
    port = free_port()
    fake = start_server("tests.e2e.fake_openai", {}, port, args=(str(port),))
    try:
        fake_url = f"http://127.0.0.1:{port}"
        httpx.post(
            f"{fake_url}/_script",
            json=[
                {
                    "tool_calls": [
                        {
                            "name": "add_task",
                            "arguments": {"title": "Renew passport", "priority": "high"},
                        }
                    ]
                },
                {"text": "Added task 1: Renew passport."},
                {"text": "You're welcome!"},
                {"status": 500, "text": "model exploded"},
            ],
        )
        env = {
            "TASKCHAT_MODEL": "scripted",
            "OPENAI_BASE_URL": f"{fake_url}/v1",
            "OPENAI_API_KEY": "sk-test",
        }
        with running_stack(sqlite_url, **env) as stack:
            chat = stack.client()
            first = chat.create("please add renew passport, it's urgent")
            assert first.tools == ["add_task"]
            assert first.reply.strip() == "Added task 1: Renew passport."
            assert tasks_of(sqlite_url, "local")[0]["priority"] == "high"
            second = chat.say(first.thread_id, "thanks")
            assert second.reply.strip() == "You're welcome!"
            failed = chat.say(first.thread_id, "and again")
            assert failed.reply.startswith("The language model returned an error")
        sent = httpx.get(f"{fake_url}/_requests").json()
        second_request = sent[2]["messages"]
        roles = [m["role"] for m in second_request]
        assert roles == ["system", "user", "assistant", "tool", "assistant", "user"]
        assert second_request[2]["tool_calls"][0]["function"]["name"] == "add_task"
    finally:
        fake.stop()
