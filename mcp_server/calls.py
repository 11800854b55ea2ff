"""Writes applied once per call id, so a client may safely send a write again.

A client whose connection broke while a write was on its way cannot know whether the
write ran (an instance killed mid-call, a load balancer answering 502). It sends the same
call again under the same id, `_meta["taskchat/call_id"]`, and gets the first call's
result back: not a second task, nor "Task 7 not found" for the task the first call
deleted. The result is stored in the write's own transaction, so a write that committed is
always found and one that did not leaves nothing behind. Ids are per user and kept for
KEEP_CALLS; a call without an id runs as usual.

An id is bound to the call it named: its fingerprint (the write and its arguments) is
stored beside the result, and the same id sent with another write or other arguments is
refused instead of answered with the first call's result, which would tell the client its
second write was done. Results stored before fingerprints were (tasks_0006) have none and
are returned as before.
"""

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Index, and_, delete, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, Session, SQLModel

from mcp_server.task_rules import TaskError
from shared.contract import ErrorCode, ListChange, TaskChange

log = logging.getLogger(__name__)

# What a write returns (a task tool's or a list tool's change), stored as JSON.
Result = TypeVar("Result", TaskChange, ListChange)
KEEP_CALLS = timedelta(hours=1)
PRUNE_EVERY = 60.0
MAX_CALL_ID_CHARS = 100


class ToolCall(SQLModel, table=True):
    """The result of one write a client named with a call id."""

    __tablename__ = "tool_call"

    user_id: str = Field(max_length=200, primary_key=True)
    call_id: str = Field(max_length=MAX_CALL_ID_CHARS, primary_key=True)
    result: str  # the TaskChange (or a list tool's ListChange), as JSON
    created_at: datetime
    # sha256 of the write and its arguments (fingerprint()); None for a row stored before
    # tasks_0006 added the column.
    fingerprint: str | None = Field(default=None, max_length=64)


_table: Any = ToolCall.__table__  # type: ignore[attr-defined]
Index("ix_tool_call_created_at", _table.c.created_at)


class CallIdReused(TaskError):
    """A call id sent again with another write or other arguments than its first call."""

    code = ErrorCode.CALL_ID_REUSED

    def __init__(self, call_id: str) -> None:
        super().__init__(
            f"call id {call_id!r} was already used for another call (another tool or other "
            "arguments); send a new call under a new id"
        )


def fingerprint(write: str, arguments: Mapping[str, Any]) -> str:
    """sha256 of a write's name and its arguments as canonical JSON (sorted keys, no
    spaces), so the same call always gives the same value and any other call another."""
    canonical = json.dumps(
        [write, arguments],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_plain,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: object) -> object:
    # Arguments arrive as the writes take them: NewTask is a dataclass.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    # A tool's nested input model: reminders, [{"before": "PT30M"}].
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def check_call_id(value: object) -> str:
    """A call id as sent in `_meta`, or ValueError saying what is wrong with it."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CALL_ID_CHARS:
        raise ValueError(f"must be a string of 1 to {MAX_CALL_ID_CHARS} characters")
    if not value.isascii() or not value.isprintable():
        raise ValueError("must be printable ASCII")
    return value


def item_call_id(call_id: str | None, index: int) -> str | None:
    """The id item `index` of a batch call is stored under: the batch's id and the index,
    so a batch sent again is applied once per item (an over-long id is hashed first)."""
    if call_id is None:
        return None
    suffix = f"#{index}"
    if len(call_id) + len(suffix) > MAX_CALL_ID_CHARS:
        call_id = hashlib.sha256(call_id.encode()).hexdigest()
    return call_id + suffix


def apply(
    session: Session,
    write: Callable[..., Result],
    *,
    user_id: str,
    call_id: str | None,
    **kwargs: Any,
) -> Result:
    """Run `write(session, user_id=..., **kwargs)` and commit it; once per call id.

    The write's name stands for its tool (one write function per write tool), and
    `kwargs` are the call's validated arguments as the write takes them. Raises
    CallIdReused when `call_id` named another call before.
    """
    called = None if call_id is None else fingerprint(write.__name__, kwargs)
    try:
        change = write(session, user_id=user_id, **kwargs)
        if call_id is not None:
            stored = {
                "result": json.dumps(change),
                "created_at": datetime.now(UTC),
                "fingerprint": called,
            }
            session.execute(insert(_table).values(user_id=user_id, call_id=call_id, **stored))
        session.commit()
    except (IntegrityError, TaskError):
        # A call sent before under this id has its result stored (the insert above collides
        # with it), or made this one fail (a repeated delete finds no task): the first
        # result stands, and this attempt is undone. Looked up only here, so a write that
        # was never sent before costs no extra query.
        session.rollback()
        if call_id is not None and (earlier := _recall(session, user_id, call_id)) is not None:
            result, first = earlier
            if first is not None and first != called:
                raise CallIdReused(call_id) from None
            return result
        raise
    if call_id is not None:
        _forget_old_calls(session)
    return change


_forgotten_at = 0.0  # time.monotonic() of this process's last pruning


def _forget_old_calls(session: Session) -> None:
    """Delete every result older than KEEP_CALLS, at most once every PRUNE_EVERY seconds per
    process (a statement per write cost more than the write's own insert)."""
    global _forgotten_at
    if time.monotonic() - _forgotten_at < PRUNE_EVERY:
        return
    _forgotten_at = time.monotonic()
    try:
        session.execute(delete(_table).where(_table.c.created_at < datetime.now(UTC) - KEEP_CALLS))
        session.commit()
    except SQLAlchemyError as exc:  # the write has committed; pruning can wait for next time
        session.rollback()
        log.warning("could not delete old tool call results: %s", exc)


def _recall(session: Session, user_id: str, call_id: str) -> tuple[Any, str | None] | None:
    """The stored result of `call_id` and the fingerprint of the call that made it."""
    stored = session.execute(
        select(_table.c.result, _table.c.fingerprint).where(
            and_(_table.c.user_id == user_id, _table.c.call_id == call_id)
        )
    ).one_or_none()
    return None if stored is None else (json.loads(stored.result), stored.fingerprint)
