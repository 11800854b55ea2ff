"""The chat server's own tables for moving tasks in and out: feed secrets and import keys.

Only a SHA-256 of each feed secret is kept: the secret is 256 random bits, so a fast hash is
as strong as a slow one, and a stolen database gives no working URL. Each imported item's
key (its source id, or a digest of what it says) maps to the task made from it, so
importing the same file again adds nothing.
"""

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Field, Session, SQLModel

from shared.auth import MAX_USER_ID_CHARS

DIGEST_CHARS = 64
# SQL IN lists stay well under every database's bound on parameters.
KEYS_PER_QUERY = 500


def digest(text: str) -> str:
    """The hex SHA-256 of `text`: how secrets and import keys are stored."""
    return hashlib.sha256(text.encode()).hexdigest()


class CalendarFeed(SQLModel, table=True):
    """A user's calendar feed: at most one, found by the digest of its secret."""

    __tablename__ = "calendar_feed"

    user_id: str = Field(max_length=MAX_USER_ID_CHARS, primary_key=True)
    secret_digest: str = Field(max_length=DIGEST_CHARS, unique=True)
    created_at: datetime


class ImportedItem(SQLModel, table=True):
    """One imported item: the task it became, under the key that recognises it again."""

    __tablename__ = "imported_item"

    user_id: str = Field(max_length=MAX_USER_ID_CHARS, primary_key=True)
    item_key: str = Field(max_length=DIGEST_CHARS, primary_key=True)
    task_id: int
    created_at: datetime


FEEDS: Any = CalendarFeed.__table__  # type: ignore[attr-defined]
IMPORTED: Any = ImportedItem.__table__  # type: ignore[attr-defined]


def replace_feed(session: Session, *, user_id: str, secret: str, now: datetime) -> None:
    """Make `secret` the user's feed secret; the one before stops working with this commit."""
    session.execute(delete(FEEDS).where(FEEDS.c.user_id == user_id))
    session.add(CalendarFeed(user_id=user_id, secret_digest=digest(secret), created_at=now))
    session.commit()


def drop_feed(session: Session, *, user_id: str) -> None:
    """Turn the user's feed off (a no-op when it is off)."""
    session.execute(delete(FEEDS).where(FEEDS.c.user_id == user_id))
    session.commit()


def feed_owner(session: Session, *, secret: str) -> str | None:
    """The user whose feed `secret` opens, or None."""
    found = select(FEEDS.c.user_id).where(FEEDS.c.secret_digest == digest(secret))
    owner: str | None = session.execute(found).scalar_one_or_none()
    return owner


def known_keys(session: Session, *, user_id: str, keys: Iterable[str]) -> dict[str, int]:
    """The keys of `keys` the user imported before, each with the task it became."""
    wanted = list(dict.fromkeys(keys))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        query = select(IMPORTED.c.item_key, IMPORTED.c.task_id).where(
            IMPORTED.c.user_id == user_id, IMPORTED.c.item_key.in_(chunk)
        )
        found.update({key: task_id for key, task_id in session.execute(query).tuples()})
    return found


def remember(session: Session, *, user_id: str, items: dict[str, int], now: datetime) -> None:
    """Record imported keys and their tasks (keys already known keep their first task)."""
    fresh = set(items) - set(known_keys(session, user_id=user_id, keys=items))
    for key in fresh:
        session.add(ImportedItem(user_id=user_id, item_key=key, task_id=items[key], created_at=now))
    session.commit()
