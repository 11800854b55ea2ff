"""The reminder outbox: one reminder_delivery row per (occurrence, channel).

A scheduler that claims a due reminder or digest writes its rows in the claiming
transaction, `pending` and leased to itself for LEASE; it then sends each and marks it
`sent` or, after a failure, `pending` again for a later round (with backoff, at most
MAX_ROUNDS) or `failed`. A process killed between claim and delivery leaves its rows
pending: when the lease runs out any process takes them (`claim_pending`), and sends them
marked late. The unique (occurrence, channel) key means a row is written once, whoever
claims; so each occurrence reaches each channel once, except when a process dies after the
receiver took the message but before the row says so: then the receiver sees it twice,
with the same `X-Taskchat-Delivery` occurrence (at least once, idempotent by that key).
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from mcp_server.delivery import Channel, Message, Result
from shared.channels import CHANNEL_TABLE, DELIVERY_TABLE, note_delivery, pause_channel

# How long a claimed delivery belongs to the process that claimed it: longer than the
# slowest delivery (a webhook's retries with their timeouts, an SMTP handover).
LEASE = timedelta(minutes=2)
# A failed round that may succeed later is tried again after these waits, then given up.
ROUND_BACKOFF = (timedelta(minutes=1), timedelta(minutes=10))
MAX_ROUNDS = len(ROUND_BACKOFF) + 1
BATCH = 100
LATE_NOTE = "(This reminder is late: the server was not running at its time.)"

_o, _c = DELIVERY_TABLE, CHANNEL_TABLE


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(slots=True)
class Delivery:
    """One pending row, claimed: what to send, where, and how many rounds it has had."""

    id: int
    kind: str
    user_id: str
    channel: Channel
    due_at: datetime
    attempts: int
    occurrence: str
    stored: dict[str, Any]

    def message(self, now: datetime, late_after: timedelta) -> Message:
        """The message as of `now`: late when its time is more than `late_after` past."""
        late = self.due_at < now - late_after
        payload = {**self.stored["payload"], "late": late}
        text = self.stored["text"] + (f"\n{LATE_NOTE}" if late else "")
        return Message(self.occurrence, payload, self.stored["subject"], text)


def enqueue(
    conn: Connection, *, occurrence: str, kind: str, user_id: str, due_at: datetime,
    message: dict[str, Any], channels: Sequence[Channel], now: datetime,
) -> list[Delivery]:
    """Write the occurrence's rows (one per channel), leased to the caller; the ones
    written before (by whoever claimed this occurrence first) are left alone."""
    made = []
    stored = json.dumps(message, separators=(",", ":"))
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for channel in channels:
        row = conn.execute(insert(_o).values(
            occurrence=occurrence, channel_id=channel.id, user_id=user_id, kind=kind,
            payload=stored, due_at=due_at, status="pending", attempts=1,
            next_at=now + LEASE, created_at=now,
        ).on_conflict_do_nothing().returning(_o.c.id)).scalar()  # fmt: skip
        if row is not None:
            made.append(Delivery(row, kind, user_id, channel, _utc(due_at), 1, occurrence,
                                 message))  # fmt: skip
    return made


def claim_pending(conn: Connection, now: datetime) -> list[Delivery]:
    """Claim the pending rows whose retry time or lease has come; the caller commits."""
    query = (select(_o, _c.c.kind.label("channel_kind"), _c.c.target, _c.c.secret, _c.c.push_keys,
                    _c.c.paused_at)
             .join(_c, _c.c.id == _o.c.channel_id)
             .where(_o.c.status == "pending", _o.c.next_at <= now)
             .order_by(_o.c.next_at, _o.c.id).limit(BATCH))  # fmt: skip
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # see scheduler._begin_claim
    else:
        query = query.with_for_update(of=_o, skip_locked=True)
    rows = conn.execute(query).all()
    claimed = []
    for row in rows:
        if row.paused_at is not None:
            conn.execute(update(_o).where(_o.c.id == row.id).values(
                status="failed", last_error="the channel is paused"))  # fmt: skip
            continue
        conn.execute(update(_o).where(_o.c.id == row.id).values(
            attempts=row.attempts + 1, next_at=now + LEASE))  # fmt: skip
        channel = Channel(row.channel_id, row.channel_kind, row.target, row.secret, row.push_keys)
        claimed.append(Delivery(
            row.id, row.kind, row.user_id, channel, _utc(row.due_at), row.attempts + 1,
            row.occurrence, json.loads(row.payload),
        ))  # fmt: skip
    return claimed


def finish(conn: Connection, delivery: Delivery, result: Result, now: datetime) -> str:
    """Record how the delivery went (and the channel's health); its new status."""
    where = _o.c.id == delivery.id
    if result.ok:
        conn.execute(update(_o).where(where).values(status="sent", sent_at=now,
                                                    last_error=None))  # fmt: skip
        note_delivery(conn, delivery.channel.id, None, now)
        return "sent"
    error = result.error or "failed"
    again = result.retry and not result.gone and delivery.attempts < MAX_ROUNDS
    status = "pending" if again else "failed"
    next_at = now + ROUND_BACKOFF[delivery.attempts - 1] if again else now
    conn.execute(update(_o).where(where).values(status=status, next_at=next_at,
                                                last_error=error[:200]))  # fmt: skip
    if result.gone:
        pause_channel(conn, delivery.channel.id, error, now)
    else:
        note_delivery(conn, delivery.channel.id, error, now)
    return status
