"""taskchat's built-in offline model: a rules-based `agents` Model, so no API key is needed.

It takes the same path as an LLM: the Runner calls it with the conversation items, it
answers with a function call for an MCP tool (the Runner runs it and calls again with the
output) or with the final assistant message. Each call is stateless and costs
microseconds; the decisions live in chat_server/offline_steps.py and the English in
chat_server/grammar.py and chat_server/replies.py.
"""

import json
import math
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseStreamEvent
from agents.model_settings import ModelSettings
from agents.models.interface import Model, ModelTracing
from agents.tool import Tool
from agents.usage import Usage
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)
from openai.types.responses.response_prompt_param import ResponsePromptParam

from chat_server.dates import local_zone
from chat_server.offline_steps import Call, Say, Step, next_step, read_conversation

MODEL_NAME = "taskchat-offline"
MAX_DELTAS = 24  # a long list streams in at most this many pieces
_PIECES = re.compile(r"\s*\S+")
NO_TOOLS = (
    "I can't reach your task list right now (the task tools are unavailable). "
    "Please try again in a moment."
)


def _new_id(prefix: str) -> str:
    # chatkit reuses message ids as thread item ids, so every one must be unique.
    return f"{prefix}_{uuid4().hex}"


def text_pieces(text: str) -> list[str]:
    """`text` cut at word boundaries into at most MAX_DELTAS pieces that join back to it."""
    words = _PIECES.findall(text)
    if not words:
        return [text]
    size = math.ceil(len(words) / MAX_DELTAS)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


def _output_item(step: Step) -> ResponseOutputMessage | ResponseFunctionToolCall:
    if isinstance(step, Call):
        return ResponseFunctionToolCall(
            id=_new_id("fc"),
            call_id=_new_id("call"),
            type="function_call",
            name=step.name,
            arguments=json.dumps(step.args, ensure_ascii=False),
            status="completed",
        )
    return ResponseOutputMessage(
        id=_new_id("msg"),
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=step.text, annotations=[])],
    )


def _response(item: Any | None) -> Response:
    # usage=None: openai 3.x rejects a zeroed usage object (see STACK-NOTES).
    return Response(
        id=_new_id("resp"),
        created_at=time.time(),
        model=MODEL_NAME,
        object="response",
        output=[item] if item is not None else [],
        tool_choice="auto",
        tools=[],
        parallel_tool_calls=False,
        status="completed" if item is not None else "in_progress",
        usage=None,
    )


def _message_events(item: ResponseOutputMessage) -> Iterator[Any]:
    text = item.content[0].text  # type: ignore[union-attr]
    yield ResponseOutputItemAddedEvent(
        type="response.output_item.added",
        item=item.model_copy(update={"content": [], "status": "in_progress"}),
        output_index=0,
        sequence_number=0,
    )
    empty = ResponseOutputText(type="output_text", text="", annotations=[])
    yield ResponseContentPartAddedEvent(
        type="response.content_part.added",
        item_id=item.id,
        output_index=0,
        content_index=0,
        part=empty,
        sequence_number=0,
    )
    for piece in text_pieces(text):
        yield ResponseTextDeltaEvent(
            type="response.output_text.delta",
            item_id=item.id,
            output_index=0,
            content_index=0,
            delta=piece,
            logprobs=[],
            sequence_number=0,
        )
    yield ResponseTextDoneEvent(
        type="response.output_text.done",
        item_id=item.id,
        output_index=0,
        content_index=0,
        text=text,
        logprobs=[],
        sequence_number=0,
    )
    yield ResponseContentPartDoneEvent(
        type="response.content_part.done",
        item_id=item.id,
        output_index=0,
        content_index=0,
        part=item.content[0],
        sequence_number=0,
    )


def _call_events(item: ResponseFunctionToolCall) -> Iterator[Any]:
    assert item.id is not None
    yield ResponseOutputItemAddedEvent(
        type="response.output_item.added",
        item=item.model_copy(update={"arguments": "", "status": "in_progress"}),
        output_index=0,
        sequence_number=0,
    )
    yield ResponseFunctionCallArgumentsDeltaEvent(
        type="response.function_call_arguments.delta",
        item_id=item.id,
        output_index=0,
        delta=item.arguments,
        sequence_number=0,
    )
    yield ResponseFunctionCallArgumentsDoneEvent.model_validate(
        {
            "type": "response.function_call_arguments.done",
            "item_id": item.id,
            "output_index": 0,
            "arguments": item.arguments,
            "name": item.name,
            "sequence_number": 0,
        }
    )


def stream_events(item: ResponseOutputMessage | ResponseFunctionToolCall) -> list[Any]:
    """The raw Responses events for one output item, as the OpenAI API would stream them."""
    middle = (
        _call_events(item) if isinstance(item, ResponseFunctionToolCall) else _message_events(item)
    )
    events: list[Any] = [
        ResponseCreatedEvent(type="response.created", response=_response(None), sequence_number=0),
        *middle,
        ResponseOutputItemDoneEvent(
            type="response.output_item.done", item=item, output_index=0, sequence_number=0
        ),
        ResponseCompletedEvent(
            type="response.completed", response=_response(item), sequence_number=0
        ),
    ]
    for number, event in enumerate(events):
        event.sequence_number = number
    return events


class OfflineModel(Model):
    """A rules-based model that drives the task tools from plain English (see the README)."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        timezone: str | None = None,
    ) -> None:
        self._zone = local_zone(timezone)
        self._clock = clock or (lambda: datetime.now(self._zone))

    def now(self) -> datetime:
        """The current time in the model's zone (a naive clock value is taken as local)."""
        moment = self._clock()
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self._zone)
        return moment.astimezone(self._zone)

    def decide(self, input: str | list[TResponseInputItem], tools: Sequence[Tool]) -> Step:
        """The next step for these input items: a tool call, or the final reply."""
        step = next_step(read_conversation(input), self.now())
        if isinstance(step, Call) and step.name not in {getattr(t, "name", None) for t in tools}:
            return Say(NO_TOOLS)
        return step

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        """One step as a whole response (system instructions are not needed: rules are fixed)."""
        item = _output_item(self.decide(input, tools))
        return ModelResponse(output=[item], usage=Usage(requests=1), response_id=_new_id("resp"))

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        """One step as raw Responses stream events; a reply arrives in word-sized deltas."""
        for event in stream_events(_output_item(self.decide(input, tools))):
            yield event
