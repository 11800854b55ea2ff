"""Batch writes: several task writes in one call, each applied or refused on its own.

An item is one write (mcp_server/tasks.py) applied once per call id like a single write
(calls.py), under an id derived from the batch's call id and the item's place, so a batch
sent again after a broken connection is applied once per item. One item's refusal (a
foreign id, a broken rule) is its entry in the result and never undoes or stops the others.
Deleting CONFIRM_DELETE_FROM tasks or more asks the user first (elicitation), or is refused
until the client sends confirm: true.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp.server.elicitation import AcceptedElicitation, render_elicitation_schema
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitRequest, ElicitRequestFormParams, ElicitResult, InputRequiredResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field
from sqlmodel import Session

from mcp_server import calls
from mcp_server.errors import Refused
from mcp_server.task_rules import TaskError
from shared.contract import (
    CONFIRM_DELETE_FROM,
    BatchItem,
    BatchResult,
    ErrorCode,
    TaskChange,
)
from shared.db import UNAVAILABLE_ERRORS

log = logging.getLogger(__name__)

# Batches of this many items or more report progress to a client that asked for it.
PROGRESS_FROM = 5
ITEM_UNAVAILABLE = "the task database was unavailable for this item; send it again"


@dataclass(frozen=True)
class Write:
    """One item of a batch: a task write and its arguments as the write takes them."""

    fn: Callable[..., TaskChange]
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """An item's entry in the result, and its change when it was applied (to publish)."""

    item: BatchItem
    change: TaskChange | None


def apply_all(
    session: Session,
    writes: list[Write],
    *,
    user_id: str,
    call_id: str | None,
    on_item: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Apply each write in its own transaction, in order; a refusal stays with its item.
    `on_item(n)` is told after each item how many are done (progress)."""
    outcomes = []
    for index, write in enumerate(writes):
        item_call = calls.item_call_id(call_id, index)
        outcomes.append(_apply_one(session, write, user_id=user_id, call_id=item_call))
        if on_item is not None:
            on_item(index + 1)
    return outcomes


def _apply_one(session: Session, write: Write, *, user_id: str, call_id: str | None) -> Outcome:
    try:
        change = calls.apply(session, write.fn, user_id=user_id, call_id=call_id, **write.kwargs)
    except TaskError as exc:
        return Outcome(refusal(str(exc), exc.code, exc.task_id), None)
    except UNAVAILABLE_ERRORS as exc:
        session.rollback()
        log.warning("database unavailable in a batch item (%s): %s", write.fn.__name__, exc)
        return Outcome(refusal(ITEM_UNAVAILABLE, ErrorCode.UNAVAILABLE), None)
    item = BatchItem(ok=True, status=change["status"], task=change["task"])
    if change["next_task"] is not None:
        item["next_task"] = change["next_task"]
    return Outcome(item, change)


def refusal(message: str, code: ErrorCode, task_id: int | None = None) -> BatchItem:
    """A refused item: the message for people, the code for programs."""
    item = BatchItem(ok=False, error=message, code=code.value)
    if task_id is not None:
        item["task_id"] = task_id
    return item


def summary(outcomes: list[Outcome]) -> BatchResult:
    """The batch's result: every item in input order, and how many were applied."""
    items = [outcome.item for outcome in outcomes]
    succeeded = sum(1 for item in items if item["ok"])
    return BatchResult(results=items, succeeded=succeeded, failed=len(items) - succeeded)


class DeleteConfirmation(BaseModel):
    """What the user is asked before a large delete."""

    confirm: bool = Field(description="Delete these tasks for good?")


# The key of the question in an InputRequiredResult, and of its answer in the retried call.
CONFIRM_KEY = "confirm_delete"


async def confirm_delete(
    ctx: Context, task_ids: list[int], *, confirmed: bool
) -> InputRequiredResult | None:
    """None when deleting `task_ids` may go ahead; the question to ask the user first; or
    Refused.

    Fewer than CONFIRM_DELETE_FROM tasks, or confirm: true, go ahead. A client that declared
    elicitation is asked: at the 2026-07-28 revision by answering the call with an
    InputRequiredResult (the client retries it with the user's answer, so a stateless server
    can ask), at older ones over the connection when it has a way back. Any other client is
    told to resend with confirm: true.
    """
    count = len(set(task_ids))
    if confirmed or count < CONFIRM_DELETE_FROM:
        return None
    if (answer := _answer(ctx)) is not None:
        if answer.action == "accept" and (answer.content or {}).get("confirm") is True:
            return None
        raise _declined(count)
    if _can_elicit(ctx):
        ask = f"Delete {count} tasks ({', '.join(f'#{n}' for n in task_ids)}) for good?"
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            params = ElicitRequestFormParams(
                message=ask, requested_schema=render_elicitation_schema(DeleteConfirmation)
            )
            return InputRequiredResult(input_requests={CONFIRM_KEY: ElicitRequest(params=params)})
        try:
            elicited = await ctx.elicit(ask, DeleteConfirmation)
        except MCPError as exc:  # no way back to the client after all (stateless HTTP)
            log.info("could not ask to confirm a delete: %r", exc)
        else:
            if isinstance(elicited, AcceptedElicitation) and elicited.data.confirm:
                return None
            raise _declined(count)
    raise Refused(
        f"deleting {count} tasks (>= {CONFIRM_DELETE_FROM}) needs the user's agreement: ask "
        "them, then send the same call again with confirm: true; nothing was deleted",
        ErrorCode.CONFIRMATION_REQUIRED,
    )


def _declined(count: int) -> Refused:
    return Refused(
        f"the user did not confirm deleting {count} tasks; nothing was deleted",
        ErrorCode.CONFIRMATION_REQUIRED,
    )


def _answer(ctx: Context) -> ElicitResult | None:
    try:
        answer = (ctx.input_responses or {}).get(CONFIRM_KEY)
    except ValueError:  # no request (a direct call in a unit test)
        return None
    return answer if isinstance(answer, ElicitResult) else None


def _can_elicit(ctx: Context) -> bool:
    try:
        capabilities = ctx.client_capabilities
    except ValueError:
        return False
    return capabilities is not None and capabilities.elicitation is not None
