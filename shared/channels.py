"""Where reminders go: a user's notification channels and daily digest time.

The chat server writes these rows (its /api/channels and /api/digest) and the task
server's scheduler reads them (mcp_server/scheduler.py), in the one database both already
share; the tables come with the task server's migration tasks_0008. Both processes also
share the outgoing-request policy here: a webhook URL is checked when it is added and again
before every delivery.
"""

import ipaddress
import re
import secrets
import socket
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import Index, delete, func, insert, select
from sqlmodel import Field, Session, SQLModel
from typing_extensions import TypedDict

from shared.zones import MAX_ZONE_CHARS, zone_named

ChannelType = Literal["webhook", "email"]
CHANNEL_TYPES: tuple[ChannelType, ...] = ("webhook", "email")
MAX_CHANNELS = 10  # per user: each reminder goes to every one of them
URL_MAX_CHARS = 2000
ADDRESS_MAX_CHARS = 254  # RFC 5321's longest path
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")
_DIGEST_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class NotifyChannel(SQLModel, table=True):
    """A webhook or an email address of one user; every reminder goes to each of them."""

    __tablename__ = "notify_channel"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=200)
    kind: str = Field(max_length=10)  # webhook or email
    target: str = Field(max_length=URL_MAX_CHARS)  # the URL or the address
    # A webhook's HMAC key (URL-safe base64), shown once when it is made; null for email.
    secret: str | None = Field(default=None, max_length=100)
    created_at: datetime


class DigestSetting(SQLModel, table=True):
    """A user's daily digest: the local time, the zone it is read in, and the next moment
    it is due (UTC), which the scheduler that sends it moves on by a day."""

    __tablename__ = "digest_setting"

    user_id: str = Field(max_length=200, primary_key=True)
    time: str = Field(max_length=5)  # HH:MM
    timezone: str = Field(max_length=MAX_ZONE_CHARS)
    next_at: datetime
    last_sent_at: datetime | None = None


CHANNEL_TABLE: Any = NotifyChannel.__table__  # type: ignore[attr-defined]
DIGEST_TABLE: Any = DigestSetting.__table__  # type: ignore[attr-defined]
Index("ix_notify_channel_user", CHANNEL_TABLE.c.user_id)
Index("ix_digest_setting_next_at", DIGEST_TABLE.c.next_at)


class ChannelError(ValueError):
    """A channel or digest setting that is refused; the message says why."""


class ChannelDict(TypedDict, total=False):
    """A channel as the API shows it (the secret only in the answer that made it)."""

    id: int
    type: str
    url: str
    address: str
    created_at: str
    secret: str


# --- the outgoing request policy ---------------------------------------------------------


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """`url` if a webhook may be sent there, else ChannelError.

    http(s) only, no credentials in it, and unless `allow_private` every address its host
    resolves to must be public: no loopback, private, link-local (cloud metadata) or other
    special range, so a user cannot make the server reach into its own network.
    """
    if not isinstance(url, str) or not url or len(url) > URL_MAX_CHARS:
        raise ChannelError(f"url must be an http(s) URL of at most {URL_MAX_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ChannelError("url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChannelError("url must start with http:// or https:// and name a host")
    if parts.username is not None or parts.password is not None:
        raise ChannelError("url must not carry a user name or password")
    if allow_private:
        return url
    try:
        found = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise ChannelError(f"url's host {parts.hostname!r} does not resolve") from None
    if not found or not all(_public(str(entry[4][0])) for entry in found):
        raise ChannelError(
            f"url's host {parts.hostname!r} is a loopback, private or reserved address; "
            "webhooks go to public addresses only (REMINDER_ALLOW_PRIVATE_URLS allows others)"
        )
    return url


def check_address(address: str) -> str:
    """An email address as stored, else ChannelError (one plain address, no display name)."""
    text = address.strip() if isinstance(address, str) else ""
    if len(text) > ADDRESS_MAX_CHARS or not _ADDRESS.fullmatch(text):
        raise ChannelError("address must be one email address like ann@example.com")
    return text


# --- channels ----------------------------------------------------------------------------


def _shown(row: Any, *, with_secret: bool = False) -> ChannelDict:
    shown: ChannelDict = {"id": row.id, "type": row.kind}
    if row.kind == "webhook":
        shown["url"] = row.target
    else:
        shown["address"] = row.target
    created: datetime = row.created_at
    shown["created_at"] = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if with_secret and row.secret:
        shown["secret"] = row.secret
    return shown


def add_channel(
    session: Session, *, user_id: str, kind: str, target: str, allow_private: bool,
    now: datetime,
) -> ChannelDict:
    """Add a channel for `user_id`; a webhook's answer carries its new secret."""
    if kind == "webhook":
        target, secret = check_webhook_url(target, allow_private=allow_private), None
        secret = secrets.token_urlsafe(32)
    elif kind == "email":
        target, secret = check_address(target), None
    else:
        raise ChannelError(f"type must be webhook or email (got {kind!r})")
    conn = session.connection()
    count = conn.execute(
        select(func.count()).where(CHANNEL_TABLE.c.user_id == user_id)
    ).scalar_one()
    if count >= MAX_CHANNELS:
        raise ChannelError(f"at most {MAX_CHANNELS} channels; delete one first")
    row = conn.execute(
        insert(CHANNEL_TABLE)
        .values(user_id=user_id, kind=kind, target=target, secret=secret, created_at=now)
        .returning(*CHANNEL_TABLE.c)
    ).one()
    session.commit()
    return _shown(row, with_secret=True)


def list_channels(session: Session, *, user_id: str) -> list[ChannelDict]:
    """The channels of `user_id`, oldest first (secrets left out)."""
    rows = session.connection().execute(
        select(CHANNEL_TABLE).where(CHANNEL_TABLE.c.user_id == user_id).order_by(
            CHANNEL_TABLE.c.id)
    )  # fmt: skip
    return [_shown(row) for row in rows]


def delete_channel(session: Session, *, user_id: str, channel_id: int) -> bool:
    """Delete one of `user_id`'s channels; False when there is no such channel of theirs."""
    if not 1 <= channel_id <= 2**31 - 1:
        return False
    gone = session.connection().execute(
        delete(CHANNEL_TABLE).where(
            CHANNEL_TABLE.c.id == channel_id, CHANNEL_TABLE.c.user_id == user_id
        )
    )
    session.commit()
    return bool(gone.rowcount)


# --- the daily digest --------------------------------------------------------------------


def next_digest_at(at: str, zone: tzinfo, after: datetime) -> datetime:
    """The first moment after `after` that is `at` (HH:MM) on the wall clock in `zone`, UTC.

    A time skipped by a DST change falls forward (zoneinfo's fold rules), so the digest of
    that day is still sent.
    """
    hour, minute = (int(part) for part in at.split(":"))
    day: date = after.astimezone(zone).date()
    for offset in range(3):
        local = datetime.combine(day + timedelta(days=offset), time(hour, minute), zone)
        moment = local.astimezone(UTC)
        if moment > after:
            return moment
    raise AssertionError("a wall-clock time recurs within three days")  # pragma: no cover


def set_digest(
    session: Session, *, user_id: str, at: str | None, zone_name: str, now: datetime
) -> dict[str, str | None]:
    """Set (or with None, stop) `user_id`'s daily digest at local time `at` in `zone_name`."""
    conn = session.connection()
    conn.execute(delete(DIGEST_TABLE).where(DIGEST_TABLE.c.user_id == user_id))
    if at is None:
        session.commit()
        return {"time": None, "timezone": None}
    if not isinstance(at, str) or not _DIGEST_TIME.fullmatch(at):
        raise ChannelError('time must be "HH:MM" (24-hour clock) or null')
    zone = zone_named(zone_name)
    conn.execute(insert(DIGEST_TABLE).values(
        user_id=user_id, time=at, timezone=zone_name, next_at=next_digest_at(at, zone, now)
    ))  # fmt: skip
    session.commit()
    return {"time": at, "timezone": zone_name}
