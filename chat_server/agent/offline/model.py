"""taskchat's built-in offline model: a rules-based `agents` Model, so no API key is needed.

It takes the same path as an LLM: the Runner calls it with the conversation items, it
answers with a function call for an MCP tool (the Runner runs it and calls again with the
output) or with the final assistant message. Each call is stateless and costs
microseconds; the decisions live in chat_server/agent/offline/steps.py and the English in
chat_server/agent/offline/grammar.py and chat_server/agent/offline/replies.py.
"""

import json
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

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
from pydantic import BaseModel

from chat_server.agent.offline.batches import offering
from chat_server.agent.offline.dates import DAY_FIRST
from chat_server.agent.offline.steps import Call, Say, Step, next_step, read_conversation
from chat_server.agent.zones import local_zone, user_zone

_M = TypeVar("_M", bound=BaseModel)

MODEL_NAME = "taskchat-offline"
MAX_DELTAS = 24  # a long list streams in at most this many pieces
_PIECES = re.compile(r"(?<!\s)\s*+\S+")  # tried from a run's first space only: linear
NO_TOOLS = (
    "I can't reach your task list right now (the task tools are unavailable). "
    "Please try again in a moment."
)


def _new_id(prefix: str) -> str:
    # chatkit reuses message ids as thread item ids, so every one must be unique: 96 random bits.
    return f"{prefix}_{secrets.token_hex(12)}"


def text_pieces(text: str) -> list[str]:
    """`text` cut at word boundaries into at most MAX_DELTAS pieces that join back to it."""
    words = _PIECES.findall(text)
    if not words:
        return [text]
    size = math.ceil(len(words) / MAX_DELTAS)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)]


# Every output item and event is a copy of a template validated once at import, with this
# call's values swapped in (model_copy): validating a dozen pydantic events per call would
# cost more than the decision itself, and the swapped-in values are ours and typed.
_TEXT = ResponseOutputText(type="output_text", text="", annotations=[])
_MESSAGE = ResponseOutputMessage(
    id="msg", type="message", role="assistant", status="completed", content=[_TEXT]
)
_CALL = ResponseFunctionToolCall(
    id="fc", call_id="call", type="function_call", name="tool", arguments="{}", status="completed"
)
# usage=None: openai 3.x refuses a zeroed usage object (its InputTokensDetails fails).
_RESPONSE = Response(
    id="resp",
    created_at=0,
    model=MODEL_NAME,
    object="response",
    output=[],
    tool_choice="auto",
    tools=[],
    parallel_tool_calls=False,
    status="completed",
    usage=None,
)
_AT: dict[str, Any] = {"item_id": "msg", "output_index": 0, "sequence_number": 0}
_CREATED = ResponseCreatedEvent(type="response.created", response=_RESPONSE, sequence_number=0)
_ITEM_ADDED = ResponseOutputItemAddedEvent(
    type="response.output_item.added", item=_MESSAGE, output_index=0, sequence_number=0
)
_PART_ADDED = ResponseContentPartAddedEvent(
    type="response.content_part.added", part=_TEXT, content_index=0, **_AT
)
_TEXT_DELTA = ResponseTextDeltaEvent(
    type="response.output_text.delta", delta="", logprobs=[], content_index=0, **_AT
)
_TEXT_DONE = ResponseTextDoneEvent(
    type="response.output_text.done", text="", logprobs=[], content_index=0, **_AT
)
_PART_DONE = ResponseContentPartDoneEvent(
    type="response.content_part.done", part=_TEXT, content_index=0, **_AT
)
_ARGS_DELTA = ResponseFunctionCallArgumentsDeltaEvent(
    type="response.function_call_arguments.delta", delta="", **_AT
)
# Older openai types require `name` here; newer ones keep it as an extra field.
_ARGS_DONE = ResponseFunctionCallArgumentsDoneEvent.model_validate(
    {"type": "response.function_call_arguments.done", "arguments": "", "name": "tool", **_AT}
)
_ITEM_DONE = ResponseOutputItemDoneEvent(
    type="response.output_item.done", item=_MESSAGE, output_index=0, sequence_number=0
)
_COMPLETED = ResponseCompletedEvent(
    type="response.completed", response=_RESPONSE, sequence_number=0
)


def _like(template: _M, **values: Any) -> _M:
    return template.model_copy(update=values)


def _output_item(step: Step) -> ResponseOutputMessage | ResponseFunctionToolCall:
    if isinstance(step, Call):
        arguments = json.dumps(step.args, ensure_ascii=False)
        return _like(
            _CALL, id=_new_id("fc"), call_id=_new_id("call"), name=step.name, arguments=arguments
        )
    return _like(_MESSAGE, id=_new_id("msg"), content=[_like(_TEXT, text=step.text)])


def _response(item: Any | None) -> Response:
    output, status = ([item], "completed") if item is not None else ([], "in_progress")
    return _like(
        _RESPONSE, id=_new_id("resp"), created_at=time.time(), output=output, status=status
    )


def _message_events(item: ResponseOutputMessage) -> Iterator[Any]:
    part = item.content[0]
    assert isinstance(part, ResponseOutputText)
    yield _like(_ITEM_ADDED, item=_like(item, content=[], status="in_progress"))
    yield _like(_PART_ADDED, item_id=item.id)
    for piece in text_pieces(part.text):
        yield _like(_TEXT_DELTA, item_id=item.id, delta=piece)
    yield _like(_TEXT_DONE, item_id=item.id, text=part.text)
    yield _like(_PART_DONE, item_id=item.id, part=part)


def _call_events(item: ResponseFunctionToolCall) -> Iterator[Any]:
    yield _like(_ITEM_ADDED, item=_like(item, arguments="", status="in_progress"))
    yield _like(_ARGS_DELTA, item_id=item.id, delta=item.arguments)
    yield _like(_ARGS_DONE, item_id=item.id, arguments=item.arguments, name=item.name)


def stream_events(item: ResponseOutputMessage | ResponseFunctionToolCall) -> list[Any]:
    """The raw Responses events for one output item, as the OpenAI API would stream them."""
    middle = (
        _call_events(item) if isinstance(item, ResponseFunctionToolCall) else _message_events(item)
    )
    events: list[Any] = [
        _like(_CREATED, response=_response(None)),
        *middle,
        _like(_ITEM_DONE, item=item),
        _like(_COMPLETED, response=_response(item)),
    ]
    for number, event in enumerate(events):
        event.sequence_number = number
    return events


class OfflineModel(Model):
    """A rules-based model that drives the task tools from plain English (docs/offline-model.md)."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        timezone: str | None = None,
        day_first: bool = False,
    ) -> None:
        self._zone = local_zone(timezone)
        self._clock = clock or (lambda: datetime.now(self._zone))
        self._day_first = day_first

    def now(self) -> datetime:
        """The current time in the user's zone: this request's, else the model's own.

        A naive clock value is taken as local to the model's own zone.
        """
        moment = self._clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return moment.astimezone(user_zone(self._zone))

    def decide(self, input: str | list[TResponseInputItem], tools: Sequence[Tool]) -> Step:
        """The next step for these input items: a tool call, or the final reply."""
        offered = {getattr(t, "name", None) for t in tools} - {None}
        token = DAY_FIRST.set(self._day_first)
        try:
            with offering({str(name) for name in offered}):
                step = next_step(read_conversation(input), self.now())
        finally:
            DAY_FIRST.reset(token)
        if isinstance(step, Call) and step.name not in offered:
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
