"""End to end on the Responses API path (the default with an OpenAI key): the chat server
as a real process with OPENAI_API=responses, pointed at a scripted Responses server."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testbed.servers import free_port, start_server
from tests.e2e.stack import Stack, running_stack
from tests.e2e.test_chat_stack import tasks_of

pytestmark = pytest.mark.e2e


class Scripted:
    """The scripted Responses server: queue steps, read the requests it got."""

    def __init__(self, url: str) -> None:
        self.url = url

    def queue(self, *steps: dict[str, Any]) -> None:
        httpx.post(f"{self.url}/_script", json=list(steps)).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.url}/_requests").json())


@pytest.fixture
def responses_api(sqlite_url: str) -> Iterator[tuple[Scripted, Stack]]:
    port = free_port()
    fake = start_server("tests.e2e.fake_responses", {}, port, args=(str(port),))
    try:
        url = f"http://127.0.0.1:{port}"
        env = {
            "TASKCHAT_MODEL": "scripted",
            "OPENAI_BASE_URL": f"{url}/v1",
            "OPENAI_API": "responses",
            "OPENAI_API_KEY": "sk-test",
        }
        with running_stack(sqlite_url, **env) as stack:
            yield Scripted(url), stack
    finally:
        fake.stop()


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def _text(output: str | list[dict[str, Any]]) -> str:
    """An output as text: a string, or input_text parts (how MCP results are sent)."""
    return output if isinstance(output, str) else "".join(p.get("text", "") for p in output)


def _outputs(request: dict[str, Any]) -> dict[str, str]:
    """call_id -> output of every function call output in a request's input."""
    return {
        item["call_id"]: _text(item["output"])
        for item in request["input"]
        if item.get("type") == "function_call_output"
    }


def test_a_whole_conversation_adds_lists_completes_and_deletes(
    responses_api: tuple[Scripted, Stack], sqlite_url: str
) -> None:
    fake, stack = responses_api
    chat = stack.client(timezone="Asia/Tokyo")
    listing = "You have **1** open task:\n\n- **#1** Buy milk — due *2030-01-02*\n\n`done`? Say so."
    fake.queue(
        call("add_task", title="Buy milk", due="2030-01-02", tags=["home"]),
        {"text": "Added task 1: Buy milk."},
        call("list_tasks", status="pending"),
        {"text": listing},
        call("list_tasks", search="milk", status="pending"),
        call("complete_task", task_id=1),
        {"text": "Marked task 1 as done."},
        call("delete_task", task_id=1),
        {"text": "Deleted task 1: Buy milk."},
    )
    first = chat.create("add buy milk on jan 2 2030 #home")
    assert first.tools == ["add_task"]
    assert first.reply == "Added task 1: Buy milk."
    [task] = tasks_of(sqlite_url, "local")
    assert (task["title"], task["due"], task["tags"]) == ("Buy milk", "2030-01-02", ["home"])

    shown = chat.say(first.thread_id, "what's on my list?")
    assert shown.tools == ["list_tasks"]
    assert shown.reply == listing  # markdown arrives as the model wrote it

    done = chat.say(first.thread_id, "I bought the milk")
    assert done.tools == ["list_tasks", "complete_task"]
    assert tasks_of(sqlite_url, "local")[0]["completed"] is True

    gone = chat.say(first.thread_id, "delete it")
    assert (gone.tools, gone.reply) == (["delete_task"], "Deleted task 1: Buy milk.")
    assert tasks_of(sqlite_url, "local") == []

    sent = fake.requests()
    assert len(sent) == 9
    assert all(r["stream"] is True and not r.get("previous_response_id") for r in sent)
    # Each function call's output comes back in the next request's input, with its call.
    after_add = sent[1]["input"]
    [(call_id, output)] = _outputs(sent[1]).items()
    assert {"type": "function_call", "call_id": call_id, "name": "add_task"}.items() <= next(
        i for i in after_add if i.get("type") == "function_call"
    ).items()
    assert '"Buy milk"' in output
    # A later turn replays the earlier calls and replies as history.
    last = sent[-1]["input"]
    assert [i["name"] for i in last if i.get("type") == "function_call"] == [
        "add_task",
        "list_tasks",
        "list_tasks",
        "complete_task",
        "delete_task",
    ]
    assert "Asia/Tokyo" in sent[0]["instructions"]


def test_a_tool_failure_reaches_the_model_and_comes_back_as_its_message(
    responses_api: tuple[Scripted, Stack],
) -> None:
    fake, stack = responses_api
    fake.queue(call("complete_task", task_id=99), {"text": "I couldn't find task 99."})
    turn = stack.client().create("complete task 99")
    assert turn.tools == ["complete_task"]
    assert turn.reply == "I couldn't find task 99."
    [output] = _outputs(fake.requests()[1]).values()
    assert json.loads(output) == {
        "error": {"code": "not_found", "message": "Task 99 not found", "task_id": 99}
    }


def test_model_errors_become_readable_assistant_messages(
    responses_api: tuple[Scripted, Stack],
) -> None:
    fake, stack = responses_api
    chat = stack.client()
    fake.queue(*[{"status": 500, "text": "boom"}] * 3)  # the client retries twice
    failed = chat.create("hello")
    assert failed.reply.startswith("The language model returned an error (HTTP 500)")
    fake.queue({"error_event": "The model is overloaded."})
    broken = chat.say(failed.thread_id, "hello again")
    assert broken.reply.startswith("The language model reported an error")
    assert "overloaded" in broken.reply
    fake.queue({"text": "Hi! What needs doing?"})
    assert chat.say(failed.thread_id, "hi").reply == "Hi! What needs doing?"
