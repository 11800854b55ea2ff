"""The offline model driven by a real agents Runner, with in-process tools faking the MCP
task contract (same names, arguments, JSON results and error texts)."""

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from agents import Agent, FunctionTool, RunConfig, Runner, function_tool
from agents.tool import Tool
from agents.tool_context import ToolContext
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.types import (
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    Page,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
)
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage

from chat_server.agent.offline.model import MAX_DELTAS, NO_TOOLS, OfflineModel, text_pieces
from shared.contract import ErrorCode, ToolFailure, failure_text

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday
TODAY = NOW.date()


class NotFound(Exception):
    pass


class FakeTasks:
    """An in-memory task list with the MCP tools' names, arguments and result shapes."""

    def __init__(self) -> None:
        self.tasks: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._next = 1

    def seed(self, title: str, **fields: Any) -> dict[str, Any]:
        return self.add_task(title=title, **fields)["task"]

    def _task(self, task_id: int) -> dict[str, Any]:
        if task_id not in self.tasks:
            raise NotFound(f"Task {task_id} not found")
        return self.tasks[task_id]

    def _change(self, task: dict[str, Any], status: str, next_task: Any = None) -> dict[str, Any]:
        return {
            "task_id": task["id"],
            "status": status,
            "title": task["title"],
            "task": dict(task),
            "next_task": next_task,
        }

    def add_task(self, title: str, **fields: Any) -> dict[str, Any]:
        task = {
            "id": self._next,
            "title": title,
            "description": fields.get("description"),
            "completed": False,
            "completed_at": None,
            "priority": fields.get("priority", "medium"),
            "tags": fields.get("tags") or [],
            "due": fields.get("due"),
            "recurrence": fields.get("recurrence", "none"),
            "created_at": "2026-11-26T09:00:00Z",
            "updated_at": "2026-11-26T09:00:00Z",
        }
        self.tasks[self._next] = task
        self._next += 1
        return self._change(task, "created")

    def list_tasks(self, **query: Any) -> dict[str, Any]:
        found = list(self.tasks.values())
        if query.get("status") == "pending":
            found = [t for t in found if not t["completed"]]
        if query.get("status") == "completed":
            found = [t for t in found if t["completed"]]
        if search := query.get("search"):
            found = [t for t in found if search.lower() in t["title"].lower()]
        if tag := query.get("tag"):
            found = [t for t in found if tag in t["tags"]]
        return {"tasks": [dict(t) for t in found], "next_cursor": None}

    def get_task(self, task_id: int) -> dict[str, Any]:
        return dict(self._task(task_id))

    def update_task(self, task_id: int, **changes: Any) -> dict[str, Any]:
        task = self._task(task_id)
        task.update(changes)
        return self._change(task, "updated")

    def complete_task(self, task_id: int, completed: bool = True) -> dict[str, Any]:
        task = self._task(task_id)
        task["completed"] = completed
        next_task = None
        if completed and task["recurrence"] != "none":
            due = date.fromisoformat(task["due"]) + timedelta(days=7)
            next_task = self.seed(task["title"], due=due.isoformat(), recurrence="weekly")
        return self._change(task, "completed" if completed else "reopened", next_task)

    def delete_task(self, task_id: int) -> dict[str, Any]:
        task = self.tasks.pop(self._task(task_id)["id"])
        return self._change(task, "deleted")

    def tools(self) -> list[Tool]:
        names = ["add_task", "list_tasks", "get_task", "update_task", "complete_task"]
        return [self._tool(name) for name in [*names, "delete_task"]]

    def _tool(self, name: str) -> FunctionTool:
        body: Callable[..., Any] = getattr(self, name)

        async def invoke(ctx: ToolContext[Any], raw: str) -> str:
            args = json.loads(raw)
            self.calls.append((name, args))
            try:
                return json.dumps(body(**args))
            except NotFound as exc:
                # What a refusal looks like to the model through the pool.
                failure = ToolFailure(name, str(exc), ErrorCode.NOT_FOUND, task_id=args["task_id"])
                return failure_text(failure)

        schema = {"type": "object", "properties": {}, "additionalProperties": True}
        return FunctionTool(
            name=name,
            description=name,
            params_json_schema=schema,
            on_invoke_tool=invoke,
            strict_json_schema=False,
        )


@pytest.fixture
def tasks() -> FakeTasks:
    return FakeTasks()


def _agent(tasks: FakeTasks) -> Agent[Any]:
    model = OfflineModel(clock=lambda: NOW, timezone="UTC")
    return Agent(name="taskchat", model=model, tools=tasks.tools())


RUN = RunConfig(tracing_disabled=True)


async def chat(tasks: FakeTasks, text: str, history: list[Any] | None = None) -> tuple[str, list]:
    """One turn through the Runner: the reply and the items to feed the next turn."""
    items = [*(history or []), {"role": "user", "content": text}]
    result = await Runner.run(_agent(tasks), items, run_config=RUN)
    return result.final_output, result.to_input_list()


# ---------------------------------------------------------------- single calls


async def test_add_goes_through_the_add_task_tool_and_confirms_with_the_number(tasks):
    reply, _ = await chat(tasks, "add call mom tomorrow high priority #family")
    assert tasks.calls == [
        (
            "add_task",
            {"title": "Call mom", "tags": ["family"], "priority": "high", "due": "2026-11-27"},
        )
    ]
    assert reply == "Added task 1: Call mom — due tomorrow, high priority, #family."


async def test_list_shows_pending_tasks_numbered_by_id(tasks):
    tasks.seed("Buy milk", due="2026-11-27", priority="high")
    tasks.seed("Read book")
    done = tasks.seed("Old thing")
    tasks.complete_task(done["id"])
    reply, _ = await chat(tasks, "what's pending?")
    assert tasks.calls[-1] == ("list_tasks", {"status": "pending"})
    assert reply == (
        "You have 2 pending tasks:\n- #1 Buy milk (due tomorrow, high)\n- #2 Read book"
    )


async def test_empty_list_says_so(tasks):
    reply, _ = await chat(tasks, "show my #work tasks")
    assert tasks.calls == [("list_tasks", {"tag": "work"})]
    assert reply == "You have no tasks tagged #work."


async def test_greeting_gets_help_and_calls_no_tool(tasks):
    reply, _ = await chat(tasks, "hello!")
    assert tasks.calls == []
    assert reply.startswith("Hi! I keep your task list. Try:\n- “add call mom tomorrow")


async def test_gibberish_gets_help_and_calls_no_tool(tasks):
    reply, _ = await chat(tasks, "qwpoeiru zxmcnv")
    assert tasks.calls == []
    assert reply.startswith("Sorry, I didn't understand that.")


# ---------------------------------------------------------------- never a wrong change


async def test_a_sentence_that_names_a_task_edits_it_instead_of_adding_a_new_one(tasks):
    tasks.seed("Vet appointment", due="2026-12-01")
    reply, _ = await chat(tasks, "the vet appointment is actually on the 20th")
    assert [name for name, _ in tasks.calls] == ["list_tasks", "get_task", "update_task"]
    assert tasks.calls[-1] == ("update_task", {"task_id": 1, "due": "2026-12-20"})
    assert len(tasks.tasks) == 1
    assert reply == "Task 1 (Vet appointment) is now due Dec 20."


async def test_an_unread_to_do_is_asked_about_and_added_after_a_yes(tasks):
    reply, history = await chat(tasks, "sort the attic")
    assert tasks.calls == [] and reply == "Add “Sort the attic” as a task? Say “yes” to add it."
    reply, _ = await chat(tasks, "yes", history)
    assert tasks.calls == [("add_task", {"title": "Sort the attic"})]
    assert reply == "Added task 1: Sort the attic."


async def test_a_statement_with_a_date_that_names_no_task_changes_nothing(tasks):
    tasks.seed("Call the plumber")
    reply, _ = await chat(tasks, "my sister's birthday is on the 14th")
    assert [name for name, _ in tasks.calls] == ["list_tasks"]
    assert len(tasks.tasks) == 1 and reply.startswith("I'm not sure what to change.")


async def test_a_question_about_a_task_is_answered_from_it_and_changes_nothing(tasks):
    tasks.seed("Dentist", due="2026-11-27T09:00:00Z", priority="high")
    reply, _ = await chat(tasks, "when is the dentist?")
    assert tasks.calls == [("list_tasks", {"search": "dentist"})]
    assert reply == "Task 1 (Dentist) is due tomorrow at 9am."


async def test_moving_a_timed_task_to_another_day_keeps_its_time(tasks):
    tasks.seed("Dentist", due="2026-11-27T09:00:00Z")
    reply, _ = await chat(tasks, "move the dentist to wednesday")
    assert tasks.calls[-1] == ("update_task", {"task_id": 1, "due": "2026-12-02T09:00:00Z"})


async def test_a_correction_right_after_an_add_changes_the_time_and_keeps_the_day(tasks):
    _, history = await chat(tasks, "remind me to call mom tomorrow at 9am")
    reply, _ = await chat(tasks, "wait no, 7am", history)
    assert tasks.calls[-1] == ("update_task", {"task_id": 1, "due": "2026-11-27T07:00:00Z"})
    assert reply == "Task 1 (Call mom) is now due tomorrow at 7am."


# ---------------------------------------------------------------- chains


async def test_done_with_words_looks_the_task_up_then_completes_the_one_match(tasks):
    tasks.seed("Buy groceries")
    tasks.seed("Call mom")
    reply, _ = await chat(tasks, "I'm done with the groceries one")
    assert tasks.calls == [
        ("list_tasks", {"search": "groceries", "status": "pending"}),
        ("complete_task", {"task_id": 1}),
    ]
    assert reply == "Marked task 1 as done: Buy groceries."


async def test_delete_by_words_asks_which_when_several_match_and_deletes_nothing(tasks):
    tasks.seed("Team meeting", due="2026-11-27")
    tasks.seed("Meeting notes")
    reply, _ = await chat(tasks, "delete the meeting task")
    assert tasks.calls == [("list_tasks", {"search": "meeting"})]
    assert reply == (
        "2 tasks match “meeting”:\n"
        "- #1 Team meeting (due tomorrow)\n"
        "- #2 Meeting notes\n"
        "Which one should I delete? Reply with its number, like “1”."
    )
    assert len(tasks.tasks) == 2


async def test_answering_which_one_with_a_number_finishes_the_asked_action(tasks):
    tasks.seed("Team meeting")
    tasks.seed("Meeting notes")
    _, history = await chat(tasks, "delete the meeting task")
    reply, _ = await chat(tasks, "2", history)
    assert tasks.calls[-1] == ("delete_task", {"task_id": 2})
    assert reply == "Deleted task 2: Meeting notes."
    assert list(tasks.tasks) == [1]


async def test_answering_which_one_with_an_ordinal_picks_from_the_candidates(tasks):
    tasks.seed("Team meeting")
    tasks.seed("Meeting notes")
    _, history = await chat(tasks, "mark the meeting one done")
    reply, _ = await chat(tasks, "the first one", history)
    assert tasks.calls[-1] == ("complete_task", {"task_id": 1})
    assert reply == "Marked task 1 as done: Team meeting."


async def test_a_number_that_was_not_offered_picks_by_place_in_the_list(tasks):
    tasks.seed("Buy groceries")
    tasks.seed("Old meeting")
    tasks.seed("Team meeting")
    tasks.complete_task(1)
    _, history = await chat(tasks, "delete the meeting task")
    # Offered #2 and #3: "1" is not task 1 (Buy groceries) but the first one offered.
    reply, _ = await chat(tasks, "1", history)
    assert tasks.calls[-1] == ("delete_task", {"task_id": 2})
    assert reply == "Deleted task 2: Old meeting."
    assert 1 in tasks.tasks


async def test_a_number_neither_offered_nor_a_place_in_the_list_is_asked_again(tasks):
    tasks.seed("Team meeting")
    tasks.seed("Meeting notes")
    _, history = await chat(tasks, "delete the meeting task")
    calls_before = len(tasks.calls)
    reply, _ = await chat(tasks, "7", history)
    assert len(tasks.calls) == calls_before
    assert reply == (
        "Task 7 isn't one of these:\n- #1 Team meeting\n- #2 Meeting notes\n"
        "Which one did you mean? Reply with its number."
    )
    assert len(tasks.tasks) == 2


async def test_a_bare_number_with_nothing_asked_shows_that_task(tasks):
    tasks.seed("Buy milk")
    _, history = await chat(tasks, "add call mom")
    reply, _ = await chat(tasks, "1", history)
    assert tasks.calls[-1] == ("get_task", {"task_id": 1})
    assert reply == "Task 1: Buy milk."


async def test_delete_by_words_says_so_when_nothing_matches(tasks):
    tasks.seed("Buy milk")
    reply, _ = await chat(tasks, "delete the dentist task")
    # The search, then every title compared with typos forgiven.
    assert tasks.calls == [
        ("list_tasks", {"search": "dentist"}),
        ("list_tasks", {"limit": 200, "subtasks": "all"}),
    ]
    assert reply == (
        "I couldn't find a task matching “dentist”. Try “show my tasks” to see them all."
    )


async def test_tagging_by_number_reads_the_current_tags_first_and_keeps_them(tasks):
    tasks.seed("Write report", tags=["q4"])
    reply, _ = await chat(tasks, "tag task 1 #work")
    assert tasks.calls == [
        ("get_task", {"task_id": 1}),
        ("update_task", {"task_id": 1, "tags": ["q4", "work"]}),
    ]
    assert reply == "Task 1 (Write report) is now tagged #q4, #work."


async def test_moving_a_task_found_by_words_updates_its_due_date(tasks):
    tasks.seed("Dentist appointment")
    reply, _ = await chat(tasks, "move the dentist appointment to next monday")
    assert tasks.calls[-1] == ("update_task", {"task_id": 1, "due": "2026-11-30"})
    assert reply == "Task 1 (Dentist appointment) is now due Monday."


async def test_completing_a_recurring_task_mentions_the_next_occurrence(tasks):
    tasks.seed("Water plants", due="2026-11-26", recurrence="weekly")
    reply, _ = await chat(tasks, "complete task 1")
    assert reply == (
        "Marked task 1 as done: Water plants. "
        "It repeats, so I added the next one as task 2, due Dec 3."
    )


# ---------------------------------------------------------------- follow-ups


async def test_delete_it_after_adding_deletes_the_added_task(tasks):
    tasks.seed("Something else")
    _, history = await chat(tasks, "add buy milk")
    reply, _ = await chat(tasks, "delete it", history)
    assert tasks.calls[-1] == ("delete_task", {"task_id": 2})
    assert reply == "Deleted task 2: Buy milk."


async def test_make_it_high_priority_after_a_single_task_list(tasks):
    tasks.seed("Buy milk")
    tasks.seed("Call mom")
    _, history = await chat(tasks, "search for milk")
    reply, _ = await chat(tasks, "make it high priority", history)
    assert tasks.calls[-1] == ("update_task", {"task_id": 1, "priority": "high"})
    assert reply == "Task 1 (Buy milk) is now high priority."


async def test_mark_that_one_done_after_a_list_of_several_asks_which(tasks):
    tasks.seed("Buy milk")
    tasks.seed("Call mom")
    _, history = await chat(tasks, "show my tasks")
    calls_before = len(tasks.calls)
    reply, _ = await chat(tasks, "mark that one done", history)
    assert len(tasks.calls) == calls_before
    assert reply == (
        "Which task should I mark as done?\n- #1 Buy milk\n- #2 Call mom\nReply with its number."
    )


async def test_it_with_no_earlier_task_asks_which_without_calling_a_tool(tasks):
    reply, _ = await chat(tasks, "delete it")
    assert tasks.calls == []
    assert reply == (
        "Which task should I delete? Tell me its number (“task 3”) or words from its "
        "title (“the milk one”)."
    )


async def test_follow_up_skips_chatkit_hidden_context_messages(tasks):
    _, history = await chat(tasks, "add buy milk")
    history += [
        {"role": "user", "content": "A message was displayed to the user that the following..."},
        {"role": "user", "content": "Hidden context for the agent (not shown to the user): x"},
    ]
    reply, _ = await chat(tasks, "mark it done", history)
    assert tasks.calls[-1] == ("complete_task", {"task_id": 1})
    assert reply == "Marked task 1 as done: Buy milk."


async def test_follow_up_uses_the_last_reply_when_no_tool_items_were_kept(tasks):
    tasks.seed("Buy milk")
    history = [
        {"role": "user", "content": "add buy milk"},
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Added task 1: Buy milk."}],
        },
    ]
    reply, _ = await chat(tasks, "reopen it", history)
    assert tasks.calls == [("complete_task", {"task_id": 1, "completed": False})]
    assert reply == "Reopened task 1: Buy milk."


# ---------------------------------------------------------------- errors


async def test_missing_task_comes_back_in_plain_words(tasks):
    reply, _ = await chat(tasks, "mark task 99 as complete")
    assert tasks.calls == [("complete_task", {"task_id": 99})]
    assert reply == "I couldn't find task 99."


async def test_a_missing_tool_is_reported_instead_of_called(tasks):
    model = OfflineModel(clock=lambda: NOW, timezone="UTC")
    agent = Agent(name="taskchat", model=model, tools=[])
    result = await Runner.run(agent, "add buy milk", run_config=RUN)
    assert result.final_output == NO_TOOLS


async def test_a_failing_tool_is_reported_in_plain_words(tasks):
    @function_tool(name_override="add_task")
    async def broken(title: str) -> str:
        """Fails like a tool whose server is down."""
        raise RuntimeError("database is locked")

    model = OfflineModel(clock=lambda: NOW, timezone="UTC")
    result = await Runner.run(
        Agent(name="t", model=model, tools=[broken]), "add buy milk", run_config=RUN
    )
    assert result.final_output == (
        "I couldn't reach your task list just now. Please try again in a moment."
    )


# ---------------------------------------------------------------- streaming


async def test_streamed_reply_arrives_in_several_deltas_with_chatkit_events(tasks):
    tasks.seed("Buy milk")
    agent = _agent(tasks)
    result = Runner.run_streamed(agent, "mark task 1 as complete", run_config=RUN)
    raw: list[Any] = [
        e.data async for e in result.stream_events() if e.type == "raw_response_event"
    ]
    kinds = [e.type for e in raw]
    # First model call: a function call; second: the message.
    assert kinds == [
        "response.created",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
        "response.created",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 7,  # one per word
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = "".join(e.delta for e in raw if e.type == "response.output_text.delta")
    assert deltas == "Marked task 1 as done: Buy milk."
    assert result.final_output == "Marked task 1 as done: Buy milk."
    message = raw[-2].item
    assert isinstance(message, ResponseOutputMessage)
    call = raw[4].item
    assert isinstance(call, ResponseFunctionToolCall)
    assert {e.item_id for e in raw if hasattr(e, "item_id")} == {call.id, message.id}
    assert raw[1].item.id == call.id and raw[7].item.id == message.id
    assert raw[-1].response.usage is None
    assert [e.sequence_number for e in raw[:6]] == list(range(6))


async def test_every_message_and_call_gets_a_fresh_id(tasks):
    seen: list[str] = []
    for text in ["add buy milk", "add call mom", "hello", "hello"]:
        result = Runner.run_streamed(_agent(tasks), text, run_config=RUN)
        async for event in result.stream_events():
            if (
                event.type == "raw_response_event"
                and event.data.type == "response.output_item.done"
            ):
                item: Any = event.data.item
                seen.append(item.id)
                if isinstance(item, ResponseFunctionToolCall):
                    seen.append(item.call_id)
    assert len(seen) == 8  # two adds (call item, call id, message), two greetings
    assert len(set(seen)) == 8


def test_text_pieces_split_at_words_and_join_back():
    text = "You have 2 pending tasks:\n- #1 Buy milk (due tomorrow, high)\n- #2 Read"
    pieces = text_pieces(text)
    assert "".join(pieces) == text
    assert pieces[:3] == ["You", " have", " 2"]
    long = " ".join(["word"] * 500)
    assert len(text_pieces(long)) <= MAX_DELTAS
    assert "".join(text_pieces(long)) == long


def test_timezone_decides_what_today_is():
    # 23:30 UTC on Thursday is already Friday in Tokyo.
    late = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    model = OfflineModel(clock=lambda: late, timezone="Asia/Tokyo")
    tools = FakeTasks().tools()
    step = model.decide("add pay rent today", tools)
    assert step.args == {"title": "Pay rent", "due": "2026-11-27"}  # type: ignore[union-attr]


def test_unknown_timezone_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="'Mars/Base' is not an IANA time zone name"):
        OfflineModel(timezone="Mars/Base")


class EmptyThreadStore:
    """The one store call chatkit makes while streaming a reply: a new thread has no items."""

    async def load_thread_items(self, *args: Any) -> Page[Any]:
        return Page(data=[], has_more=False)


async def test_chatkit_shows_and_saves_the_streamed_reply_as_one_assistant_message(tasks):
    tasks.seed("Buy milk")
    thread = ThreadMetadata(id="thr_1", created_at=datetime(2026, 11, 26))
    store = EmptyThreadStore()
    context: AgentContext[None] = AgentContext(
        thread=thread,
        store=store,  # type: ignore[arg-type]
        request_context=None,
    )
    result = Runner.run_streamed(
        _agent(tasks), "mark task 1 as complete", context=context, run_config=RUN
    )
    events = [event async for event in stream_agent_response(context, result)]
    added = [e.item for e in events if isinstance(e, ThreadItemAddedEvent)]
    done = [e.item for e in events if isinstance(e, ThreadItemDoneEvent)]
    deltas = [
        e.update.delta
        for e in events
        if isinstance(e, ThreadItemUpdatedEvent)
        and isinstance(e.update, AssistantMessageContentPartTextDelta)
    ]
    assert [type(item) for item in added] == [AssistantMessageItem]
    assert [type(item) for item in done] == [AssistantMessageItem]
    assert done[0].id == added[0].id
    assert done[0].content[0].text == "Marked task 1 as done: Buy milk."  # type: ignore[union-attr]
    assert "".join(deltas) == "Marked task 1 as done: Buy milk."
    assert len(deltas) == 7
