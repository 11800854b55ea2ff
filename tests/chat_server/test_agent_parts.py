"""Pure parts of the chat server: titles, failure messages, tool records fed back to the model."""

import json
from datetime import datetime

import httpx
import openai
from agents.exceptions import MaxTurnsExceeded
from agents.models.chatcmpl_converter import Converter
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    HiddenContextItem,
    Workflow,
    WorkflowItem,
)
from sqlalchemy.exc import OperationalError

from chat_server.agent.agent import TaskChatConverter
from chat_server.agent.pool import MCPCallBroke, MCPPoolError, MCPTimeout, MCPUnavailable
from chat_server.agent.task_tools import TOOL_RECORD, summary
from chat_server.conversation.errors import describe_failure
from chat_server.conversation.server import title_from

MILK = {
    "id": 3, "title": "Milk", "description": None, "completed": True, "completed_at": None,
    "priority": "medium", "tags": [], "due": None, "recurrence": "none",
    "created_at": "2025-06-01T08:00:00Z", "updated_at": "2025-06-01T08:00:00Z",
}


def test_title_is_the_first_words_of_a_short_message() -> None:
    assert title_from("  add   buy milk tomorrow ") == "add buy milk tomorrow"


def test_long_title_is_cut_at_a_word_boundary() -> None:
    title = title_from("please add a task to call the plumber about the leaking kitchen sink today")
    assert title == "please add a task to call the plumber about the…"


def test_empty_message_gets_a_default_title() -> None:
    assert title_from("   ") == "New chat"


def test_failures_become_plain_sentences() -> None:
    request = httpx.Request("POST", "http://127.0.0.1/v1")
    assert describe_failure(OperationalError("select", {}, Exception("down"))) == (
        "The database is unavailable right now. Please try again in a moment."
    )
    assert describe_failure(openai.APIConnectionError(request=request)) == (
        "I couldn't reach the language model. Please try again in a moment."
    )
    assert describe_failure(MaxTurnsExceeded("too many")) == (
        "I took too many steps on that request and stopped. Try rephrasing it."
    )
    assert describe_failure(KeyError("x")) == (
        "Something went wrong while answering (KeyError). Please retry."
    )


def test_task_server_failures_say_what_happened_without_its_address() -> None:
    url = "http://10.0.0.7:8001/mcp"
    said = f"The task server at {url} said no (HTTP 502)."
    told = {kind: describe_failure(kind(said))
            for kind in (MCPUnavailable, MCPTimeout, MCPCallBroke, MCPPoolError)}
    assert told[MCPUnavailable] == (
        "I couldn't reach the task server, so nothing was changed. Please try again in a moment."
    )
    assert told[MCPTimeout].startswith("The task server did not answer in time, so it may")
    assert told[MCPCallBroke].startswith("The connection to the task server broke during")
    assert told[MCPPoolError] == (
        "The task server refused the request: The task server said no (HTTP 502). "
        "Nothing was changed."
    )
    assert not [text for text in told.values() if "10.0.0.7" in text]


def test_tool_summaries_name_what_happened() -> None:
    milk = json.dumps(MILK)
    assert summary("list_tasks", f'{{"tasks": [{milk}, {milk}], "next_cursor": null}}') == (
        "Found 2 tasks"
    )
    assert summary("list_tasks", f'{{"tasks": [{milk}], "next_cursor": null}}') == "Found 1 task"
    change = f'{{"task_id": 3, "status": "completed", "title": "Milk", "task": {milk}, ' \
        '"next_task": null}'
    assert summary("complete_task", change) == "Completed “Milk”"
    assert summary("get_task", milk) == "Looked up “Milk”"
    assert summary("get_task", "Error executing tool get_task: Task 9 not found") == (
        "Couldn't find the task: Task 9 not found"
    )
    assert summary("get_task", '{"id": 3}') == (
        "Couldn't find the task: get_task returned an unexpected result (title)"
    )


async def test_tool_records_are_replayed_as_function_call_and_output() -> None:
    record = {
        "call_id": "call_1",
        "name": "add_task",
        "arguments": '{"title": "Milk"}',
        "output": '{"task_id": 1}',
    }
    item = HiddenContextItem(
        id="m1", thread_id="t1", created_at=datetime.now(), content={TOOL_RECORD: record}
    )
    converted = await TaskChatConverter().to_agent_input([item])
    assert converted == [
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "add_task",
            "arguments": '{"title": "Milk"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": '{"task_id": 1}'},
    ]


async def test_workflow_items_are_not_repeated_to_the_model() -> None:
    item = WorkflowItem(
        id="w1",
        thread_id="t1",
        created_at=datetime.now(),
        workflow=Workflow(type="custom", tasks=[]),
    )
    assert await TaskChatConverter().to_agent_input([item]) == []


async def test_earlier_assistant_messages_are_plain_text_both_model_apis_accept() -> None:
    item = AssistantMessageItem(
        id="m1",
        thread_id="t1",
        created_at=datetime.now(),
        content=[AssistantMessageContent(text="Added task 1.")],
    )
    converted = await TaskChatConverter().to_agent_input([item])
    assert converted == [{"type": "message", "role": "assistant", "content": "Added task 1."}]
    assert Converter.items_to_messages(converted) == [
        {"role": "assistant", "content": "Added task 1."}
    ]
