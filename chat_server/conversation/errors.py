"""Failures while answering, put in plain words for the assistant message that reports them."""

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import openai
from agents.exceptions import MaxTurnsExceeded, ModelBehaviorError, UserError
from chatkit.errors import CustomStreamError
from chatkit.store import NotFoundError, Store
from chatkit.types import AssistantMessageContent, AssistantMessageItem, ThreadMetadata
from mcp.shared.exceptions import MCPError
from sqlalchemy.exc import SQLAlchemyError

from chat_server.agent.pool import MCPCallBroke, MCPPoolError, MCPTimeout, MCPUnavailable
from shared.auth import Principal

DATABASE_UNAVAILABLE = "The database is unavailable right now. Please try again in a moment."


class DatabaseUnavailable(CustomStreamError):
    """The chat database could not be reached or stayed locked.

    A CustomStreamError, so a stream that hits it ends with chatkit's error event carrying
    this message; outside a stream the app answers 503 with it.
    """

    def __init__(self) -> None:
        super().__init__(DATABASE_UNAVAILABLE, allow_retry=True)


class ThreadGone(NotFoundError, CustomStreamError):
    """A write names a thread that is not (or no longer) the caller's: deleted mid-turn.

    A NotFoundError, so requests answer 404 as for any missing thread; a CustomStreamError,
    so a turn whose thread was deleted from another tab ends with this message instead of
    chatkit's bare stream error.
    """

    def __init__(self, thread_id: str) -> None:
        NotFoundError.__init__(self, f"thread {thread_id} not found")
        CustomStreamError.__init__(
            self,
            "This conversation no longer exists (it was deleted), so the reply was not saved.",
            allow_retry=False,
        )


def assistant_message(
    store: Store[Principal], thread: ThreadMetadata, text: str, context: Principal
) -> AssistantMessageItem:
    """A reply the server writes itself, such as a failure put in plain words."""
    return AssistantMessageItem(
        id=store.generate_item_id("message", thread, context),
        thread_id=thread.id,
        created_at=datetime.now(),
        content=[AssistantMessageContent(text=text)],
    )


# How the Agents SDK words a Responses stream that ended in an error event.
_STREAM_FAILED = "Responses stream ended with terminal event"
_SAID = re.compile(r"message=(.+?)(?:; param=|$)")


_MAX_CAUSES = 10
"""How deep describe_failure follows __cause__: a cycle must not hang the turn's error path."""


def describe_failure(exc: BaseException) -> str:
    """A sentence a user can act on; never a traceback."""
    # The Agents SDK wraps tool failures (AgentsException from MCPUnavailable, ...):
    # explain the innermost cause we know.
    causes = [exc]
    while causes[-1].__cause__ is not None and len(causes) < _MAX_CAUSES:
        causes.append(causes[-1].__cause__)
    # The pool's own errors know what happened to the call ("it may or may not have run");
    # the transport error inside one would claim that nothing was changed.
    if pool_error := next((c for c in causes if isinstance(c, MCPPoolError)), None):
        return _describe(pool_error) or str(pool_error)
    for cause in reversed(causes):
        if (message := _describe(cause)) is not None:
            return message
    return f"Something went wrong while answering ({type(exc).__name__}). Please retry."


_Reader = Callable[[Any], str | None]
"""Words for an exception of its row's types (which is why it may take Any), or None to let
the later rows try."""

_TASK_SERVER_DOWN = (
    "I couldn't reach the task server, so nothing was changed. Please try again in a moment."
)


def _describe(exc: BaseException) -> str | None:
    """The first row whose types `exc` is and whose reader has words for it; None if none does."""
    for kinds, reader in _DESCRIPTIONS:
        if isinstance(exc, kinds) and (message := reader(exc)) is not None:
            return message
    return None


def _said(text: str) -> _Reader:
    return lambda _exc: text


def _stream_failure(exc: BaseException) -> str | None:
    # The Responses API ended its stream with an `error` or `response.failed` event.
    if not str(exc).startswith(_STREAM_FAILED):
        return None
    said = _SAID.search(str(exc))
    why = f": {said[1].rstrip('.')[:200]}" if said else ""
    return f"The language model reported an error{why}. Please retry."


def _mcp_server_error(exc: BaseException) -> str | None:
    return _TASK_SERVER_DOWN if "MCP server" in str(exc) else None


# The pool's messages name the task server's address for the log; users get no use of it.
_ADDRESS = re.compile(r" at https?://\S+")


def _refused(exc: BaseException) -> str:
    return f"The task server refused the request: {_ADDRESS.sub('', str(exc))} Nothing was changed."


_MAYBE_RAN = "so it may or may not have run: check your tasks before trying again."


# First match wins, so a subclass comes before its base (MCPUnavailable < MCPPoolError <
# MCPError; the openai errors before openai.APIError).
_DESCRIPTIONS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], _Reader], ...] = (
    (MCPTimeout, _said(f"The task server did not answer in time, {_MAYBE_RAN}")),
    (
        MCPCallBroke,
        _said(f"The connection to the task server broke during the request, {_MAYBE_RAN}"),
    ),
    (MCPUnavailable, _said(_TASK_SERVER_DOWN)),
    (MCPPoolError, _refused),
    (MCPError, _said(_TASK_SERVER_DOWN)),
    (
        openai.AuthenticationError,
        _said("The language model rejected our API key. Check OPENAI_API_KEY."),
    ),
    (
        openai.RateLimitError,
        _said("The language model is rate limiting us. Please wait a moment and try again."),
    ),
    (
        (openai.APIConnectionError, openai.APITimeoutError),
        _said("I couldn't reach the language model. Please try again in a moment."),
    ),
    (
        openai.APIStatusError,
        lambda exc: f"The language model returned an error (HTTP {exc.status_code}). Please retry.",
    ),
    (ModelBehaviorError, _stream_failure),
    (
        openai.APIError,
        lambda exc: f"The language model reported an error: {exc.message[:200]}. Please retry.",
    ),
    (
        MaxTurnsExceeded,
        _said("I took too many steps on that request and stopped. Try rephrasing it."),
    ),
    (
        ModelBehaviorError,
        _said("The model produced an invalid tool call, so nothing was changed. Try again."),
    ),
    ((SQLAlchemyError, DatabaseUnavailable), _said(DATABASE_UNAVAILABLE)),
    (TimeoutError, _said("That took too long and was stopped. Please try again.")),
    (UserError, _mcp_server_error),
)
