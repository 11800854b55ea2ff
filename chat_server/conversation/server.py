"""The ChatKit server: runs the task agent for each user message and streams its answer."""

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import nullcontext
from datetime import datetime
from typing import Any

import anyio
from agents import Agent, RunConfig, Runner
from agents.mcp import MCPServer
from chatkit.actions import Action
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import (
    ChatKitReq,
    ErrorEvent,
    FeedbackKind,
    StreamingReq,
    ThreadItem,
    ThreadItemDoneEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
    is_streaming_req,
)

from chat_server.agent.agent import (
    TaskChatConverter,
    ToolActivityHooks,
    UniqueMessageIds,
    fail_open_workflow,
)
from chat_server.conversation import widgets
from chat_server.conversation.actions import handle_action
from chat_server.conversation.errors import assistant_message, describe_failure
from chat_server.conversation.store import SQLStore
from chat_server.conversation.turns import ThreadTurns, TurnLocks
from chat_server.metrics import observed_turn
from chat_server.sdk_compat import (
    NoClientToolCalls,
    process_non_streaming,
    process_streaming,
    sse_event,
)
from shared import tracing
from shared.auth import Principal

log = logging.getLogger(__name__)

HISTORY_ITEMS = 40
TITLE_CHARS = 48
MAX_AGENT_TURNS = 8
CANCEL_SAVE_SECONDS = 10
_converter = TaskChatConverter()
_run_config = RunConfig(tracing_disabled=True)


def title_from(text: str) -> str:
    """A short thread title from the first message: its first words, cut at a word boundary."""
    words = " ".join(text.split())
    if len(words) <= TITLE_CHARS:
        return words or "New chat"
    return words[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def message_text(item: UserMessageItem) -> str:
    """The plain text of a user message."""
    return " ".join(part.text for part in item.content).strip()


class TaskChatServer(NoClientToolCalls, ChatKitServer[Principal]):
    """Answers each message with one agent run whose tools act for the authenticated user."""

    store: SQLStore

    def __init__(
        self,
        store: SQLStore,
        agent: Agent[Any],
        mcp: MCPServer,
        turn_locks: TurnLocks | None = None,
    ) -> None:
        super().__init__(store)
        self.agent = agent
        self.mcp = mcp
        # `turn_locks` carries "one turn at a time" to other workers and instances.
        self._turns = ThreadTurns(turn_locks)

    async def handle(
        self, request: ChatKitReq, context: Principal
    ) -> StreamingResult | NonStreamingResult:
        """Like `process()`, for a request the HTTP layer has already parsed and checked."""
        if is_streaming_req(request):
            return StreamingResult(self._one_turn_per_thread(request, context))
        return NonStreamingResult(await process_non_streaming(self, request, context))

    async def _one_turn_per_thread(
        self, request: StreamingReq, context: Principal
    ) -> AsyncGenerator[bytes, None]:
        # A thread takes one turn at a time; the next waits for it (conversation/turns.py).
        thread_id = getattr(request.params, "thread_id", None)
        turn = self._turns.hold(thread_id) if thread_id is not None else nullcontext()
        started = False
        async with turn:
            try:
                async for chunk in process_streaming(self, request, context):
                    started = True
                    yield chunk
            except Exception as exc:
                if not started:
                    raise  # the app can still answer with a status and a message
                # chatkit re-raises failures outside the agent run (saving the user message
                # of a new thread, say), which would cut the stream off without a word.
                yield self._error_event(exc)

    def _error_event(self, exc: Exception) -> bytes:
        message = exc.message if isinstance(exc, CustomStreamError) else describe_failure(exc)
        event = ErrorEvent(code="custom", message=message, allow_retry=True)
        return sse_event(self, event)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: Principal,
    ) -> AsyncIterator[ThreadStreamEvent]:
        if thread.title is None and input_user_message is not None:
            # chatkit saves the thread and tells the client when it sees the change.
            thread.title = title_from(message_text(input_user_message))
        with observed_turn(thread.id) as turn:
            agent_context = AgentContext[Principal](
                thread=thread, store=self.store, request_context=context
            )
            try:
                history = await self.store.load_history(
                    thread.id, HISTORY_ITEMS, context, skip=_converter.LEFT_OUT
                )
                agent_input = await _converter.to_agent_input(history)
                hooks = ToolActivityHooks()
                # The run's own task starts here and inherits the turn's span as its parent.
                with tracing.activated(turn.span):
                    result = Runner.run_streamed(
                        self.agent,
                        agent_input,
                        context=agent_context,
                        hooks=hooks,
                        max_turns=MAX_AGENT_TURNS,
                        run_config=_run_config,
                    )
                message_ids = UniqueMessageIds(
                    lambda: self.store.generate_item_id("message", thread, context)
                )
                try:
                    async for event in stream_agent_response(agent_context, result):
                        yield message_ids(event)
                finally:
                    # A client that left cancels this generator, but not the run's own tasks:
                    # without this the model would go on talking, and calling tools, for nobody.
                    if not result.is_complete:
                        result.cancel()
                widget = widgets.widget_for_outcomes(hooks.outcomes)
                if widget is not None:
                    yield ThreadItemDoneEvent(
                        item=WidgetItem(
                            id=self.store.generate_item_id("message", thread, context),
                            thread_id=thread.id,
                            created_at=datetime.now(),
                            widget=widget,
                        )
                    )
                turn.outcome = "ok"
            except Exception as exc:
                turn.outcome, turn.error = "error", exc
                log.warning("turn failed in thread %s: %r", thread.id, exc)
                reason = describe_failure(exc)
                # The reply below says why: the activity line only says it stopped.
                workflow = fail_open_workflow(agent_context.workflow_item, "Did not finish")
                if workflow is not None:
                    yield ThreadItemDoneEvent(item=workflow)
                answer = assistant_message(self.store, thread, reason, context)
                yield ThreadItemDoneEvent(item=answer)

    async def handle_stream_cancelled(
        self, thread: ThreadMetadata, pending_items: list[ThreadItem], context: Principal
    ) -> None:
        """Save the partial reply and chatkit's "the user cancelled" note, despite the cancel.

        Starlette cancels the response's anyio scope when the client leaves, and that
        cancellation hits every later await in it: unshielded, both saves fail at once.
        """
        with anyio.move_on_after(CANCEL_SAVE_SECONDS, shield=True):
            await super().handle_stream_cancelled(thread, pending_items, context)

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], feedback: FeedbackKind, context: Principal
    ) -> None:
        """Record a thumbs up/down in the log (ids were checked as the caller's at the edge)."""
        log.info("feedback %s from %s on %s in %s", feedback, context.user_id, item_ids, thread_id)

    def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: Principal,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """A task widget's button: the change goes through the same pooled MCP client."""
        return handle_action(self.mcp, self.store, thread, action, sender=sender, context=context)
