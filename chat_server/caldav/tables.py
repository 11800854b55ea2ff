"""The chat server's CalDAV tables: app passwords, client hrefs and sync-token states.

Only a SHA-256 of each app password is kept: the password is 192 random bits, so a fast
hash is as strong as a slow one, and a stolen database signs nobody in. A task made by a
client keeps the href and UID the client gave it (`caldav_item`), or the client would see
its own task twice. A sync token names a snapshot of a collection's hrefs and ETags
(`caldav_sync`), so a later sync reports what changed, deletions included, whoever made
the change (a client, the page, the chat or another MCP client).
"""

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, select
from sqlmodel import Column, Field, Session, SQLModel

from chat_server.transfer.tables import DIGEST_CHARS, digest
from shared.auth import MAX_USER_ID_CHARS

HREF_CHARS = 300
UID_CHARS = 300
# Sync states kept per collection: a client whose token is older gets a full sync.
KEPT_STATES = 20


class AppPassword(SQLModel, table=True):
    """A password one CalDAV client signs in with; revoking it signs that client out."""

    __tablename__ = "app_password"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=MAX_USER_ID_CHARS, index=True)
    password_digest: str = Field(max_length=DIGEST_CHARS, unique=True)
    created_at: datetime


class CalDavItem(SQLModel, table=True):
    """The href and UID a client gave a task it made (tasks made here need no row)."""

    __tablename__ = "caldav_item"

    user_id: str = Field(max_length=MAX_USER_ID_CHARS, primary_key=True)
    task_id: int = Field(primary_key=True)
    href: str = Field(max_length=HREF_CHARS)
    uid: str = Field(max_length=UID_CHARS)


class CalDavSync(SQLModel, table=True):
    """A collection's hrefs and ETags when a sync token was handed out."""

    __tablename__ = "caldav_sync"

    user_id: str = Field(max_length=MAX_USER_ID_CHARS, primary_key=True)
    collection: str = Field(max_length=100, primary_key=True)
    token: str = Field(max_length=DIGEST_CHARS, primary_key=True)
    state: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


PASSWORDS: Any = AppPassword.__table__  # type: ignore[attr-defined]
ITEMS: Any = CalDavItem.__table__  # type: ignore[attr-defined]
SYNCS: Any = CalDavSync.__table__  # type: ignore[attr-defined]


def add_password(session: Session, *, user_id: str, password: str, now: datetime) -> int:
    """Store a new app password of the user; its id, for revoking it."""
    row = AppPassword(user_id=user_id, password_digest=digest(password), created_at=now)
    session.add(row)
    session.commit()
    assert row.id is not None
    return row.id


def list_passwords(session: Session, *, user_id: str) -> list[dict[str, Any]]:
    """The user's app passwords: ids and when each was made (never the password)."""
    rows = session.execute(
        select(PASSWORDS.c.id, PASSWORDS.c.created_at)
        .where(PASSWORDS.c.user_id == user_id)
        .order_by(PASSWORDS.c.id)
    )
    return [{"id": id_, "created_at": created.isoformat()} for id_, created in rows]


def revoke_password(session: Session, *, user_id: str, password_id: int) -> bool:
    """Delete one of the user's app passwords; False when the user has none by that id."""
    gone = session.execute(
        delete(PASSWORDS).where(PASSWORDS.c.user_id == user_id, PASSWORDS.c.id == password_id)
    )
    session.commit()
    return bool(gone.rowcount)  # type: ignore[attr-defined]


def password_owner(session: Session, *, user_id: str, password: str) -> bool:
    """True when `password` is one of `user_id`'s app passwords."""
    found = select(PASSWORDS.c.id).where(
        PASSWORDS.c.user_id == user_id, PASSWORDS.c.password_digest == digest(password)
    )
    return session.execute(found).first() is not None


def client_items(session: Session, *, user_id: str) -> dict[int, tuple[str, str]]:
    """Each task a client made: task id -> (href, uid)."""
    rows = session.execute(
        select(ITEMS.c.task_id, ITEMS.c.href, ITEMS.c.uid).where(ITEMS.c.user_id == user_id)
    )
    return {task_id: (href, uid) for task_id, href, uid in rows}


def remember_item(session: Session, *, user_id: str, task_id: int, href: str, uid: str) -> None:
    """Keep the href and UID a client gave a task."""
    session.execute(delete(ITEMS).where(ITEMS.c.user_id == user_id, ITEMS.c.task_id == task_id))
    session.add(CalDavItem(user_id=user_id, task_id=task_id, href=href, uid=uid))
    session.commit()


def forget_item(session: Session, *, user_id: str, task_id: int) -> None:
    """Drop a deleted task's href and UID."""
    session.execute(delete(ITEMS).where(ITEMS.c.user_id == user_id, ITEMS.c.task_id == task_id))
    session.commit()


def sync_state(
    session: Session, *, user_id: str, collection: str, token: str
) -> dict[str, str] | None:
    """The hrefs and ETags a token was handed out for, or None for an unknown token."""
    found = select(SYNCS.c.state).where(
        SYNCS.c.user_id == user_id, SYNCS.c.collection == collection, SYNCS.c.token == token
    )
    state = session.execute(found).scalar_one_or_none()
    return None if state is None else dict(json.loads(state))


def keep_sync_state(
    session: Session, *, user_id: str, collection: str, state: dict[str, str], now: datetime
) -> str:
    """The token of this state (stored unless it already is); old states beyond
    KEPT_STATES are dropped."""
    text = json.dumps(state, sort_keys=True)
    token = digest(text)
    if sync_state(session, user_id=user_id, collection=collection, token=token) is not None:
        return token
    session.add(
        CalDavSync(user_id=user_id, collection=collection, token=token, state=text, created_at=now)
    )
    mine = (SYNCS.c.user_id == user_id, SYNCS.c.collection == collection)
    old = select(SYNCS.c.token).where(*mine).order_by(SYNCS.c.created_at.desc())
    stale = [row for row in session.execute(old.offset(KEPT_STATES)).scalars()]
    if stale:
        session.execute(delete(SYNCS).where(*mine, SYNCS.c.token.in_(stale)))
    session.commit()
    return token
