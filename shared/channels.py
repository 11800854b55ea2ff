"""Where reminders go: a user's notification channels and daily digest time.

The chat server writes these rows (its /api/channels and /api/digest) and the task
server's scheduler reads them (mcp_server/scheduler.py), in the one database both already
share; the tables come with the task server's migration tasks_0008. Both processes also
share the outgoing-request policy here: a webhook URL is checked when it is added and again
before every delivery.
"""

import binascii
import ipaddress
import json
import re
import secrets
import socket
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import (
    Index,
    Text,
    UniqueConstraint,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlmodel import Field, Session, SQLModel
from typing_extensions import TypedDict

from shared.deployment_keys import unb64url
from shared.zones import MAX_ZONE_CHARS, zone_named

ChannelType = Literal["webhook", "email", "ntfy", "webpush"]
CHANNEL_TYPES: tuple[ChannelType, ...] = ("webhook", "email", "ntfy", "webpush")
URL_KINDS = frozenset({"webhook", "ntfy", "webpush"})  # the channels whose target is a URL
MAX_CHANNELS = 10  # per user: each reminder goes to every one of them
URL_MAX_CHARS = 2000
ADDRESS_MAX_CHARS = 254  # RFC 5321's longest path
NTFY_TOKEN_MAX_CHARS = 100
# After this many deliveries in a row failed, a channel is paused (not tried again) until
# the user adds it anew; the page shows it with its last error.
MAX_FAILURES = 5
ERROR_MAX_CHARS = 200
PUSH_AUTH_BYTES = 16  # RFC 8291's authentication secret
MAX_DEFAULT_REMINDERS = 3
DURATION_MAX_CHARS = 20
MAX_BEFORE = timedelta(days=366)
# Weeks, days, hours, minutes, seconds: years and months have no fixed length, and a
# reminder a year ahead is P52W or P365D.
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d{1,3})W)?(?:(?P<days>\d{1,3})D)?"
    r"(?:T(?:(?P<hours>\d{1,4})H)?(?:(?P<minutes>\d{1,6})M)?(?:(?P<seconds>\d{1,8})S)?)?"
)
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")
_DIGEST_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class NotifyChannel(SQLModel, table=True):
    """A webhook, email address, ntfy topic or browser push subscription of one user;
    every reminder goes to each of them that is not paused."""

    __tablename__ = "notify_channel"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=200)
    kind: str = Field(max_length=10)  # one of CHANNEL_TYPES
    target: str = Field(max_length=URL_MAX_CHARS)  # the URL, push endpoint or address
    # A webhook's HMAC key (URL-safe base64), shown once when it is made; an ntfy topic's
    # access token if it needs one; null for the others.
    secret: str | None = Field(default=None, max_length=100)
    created_at: datetime
    # A push subscription's keys, "<p256dh> <auth>" (tasks_0010).
    push_keys: str | None = Field(default=None, max_length=200)
    failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # in a row
    last_error: str | None = Field(default=None, max_length=ERROR_MAX_CHARS)
    last_error_at: datetime | None = None
    paused_at: datetime | None = None  # set after MAX_FAILURES: no longer tried


class DigestSetting(SQLModel, table=True):
    """A user's daily digest: the local time, the zone it is read in, and the next moment
    it is due (UTC), which the scheduler that sends it moves on by a day."""

    __tablename__ = "digest_setting"

    user_id: str = Field(max_length=200, primary_key=True)
    time: str = Field(max_length=5)  # HH:MM
    timezone: str = Field(max_length=MAX_ZONE_CHARS)
    next_at: datetime
    last_sent_at: datetime | None = None


class ReminderDelivery(SQLModel, table=True):
    """One occurrence (a reminder's firing, a day's digest) to one channel: the outbox row
    the task server's scheduler writes when it claims the occurrence and updates as it
    sends (mcp_server/outbox.py). Unique per (occurrence, channel)."""

    __tablename__ = "reminder_delivery"
    __table_args__ = (
        UniqueConstraint("occurrence", "channel_id", name="uq_reminder_delivery_once"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    # "reminder:<id>:<fire time>" or "digest:<user>:<date>"
    occurrence: str = Field(max_length=120)
    channel_id: int = Field(foreign_key="notify_channel.id", ondelete="CASCADE")
    user_id: str = Field(max_length=200)
    kind: str = Field(max_length=10)  # reminder or digest
    payload: str = Field(sa_type=Text)  # the JSON sent, with the subject and text
    due_at: datetime  # the occurrence's own time: later than it by much is "late"
    status: str = Field(max_length=10)  # pending, sent or failed
    attempts: int
    next_at: datetime  # when a process may (re)try a pending row
    last_error: str | None = Field(default=None, max_length=ERROR_MAX_CHARS)
    created_at: datetime
    sent_at: datetime | None = None


class ReminderDefault(SQLModel, table=True):
    """A user's default reminders (tasks_0013): what a new task with a due time gets when
    it is added without reminders of its own. A JSON list of stored specs ("before PT0S")."""

    __tablename__ = "reminder_default"

    user_id: str = Field(max_length=200, primary_key=True)
    reminders: str = Field(sa_type=Text)
    updated_at: datetime


CHANNEL_TABLE: Any = NotifyChannel.__table__  # type: ignore[attr-defined]
DEFAULT_TABLE: Any = ReminderDefault.__table__  # type: ignore[attr-defined]
DIGEST_TABLE: Any = DigestSetting.__table__  # type: ignore[attr-defined]
DELIVERY_TABLE: Any = ReminderDelivery.__table__  # type: ignore[attr-defined]
Index("ix_notify_channel_user", CHANNEL_TABLE.c.user_id)
Index("ix_digest_setting_next_at", DIGEST_TABLE.c.next_at)
Index("ix_reminder_delivery_pending", DELIVERY_TABLE.c.status, DELIVERY_TABLE.c.next_at)
Index("ix_reminder_delivery_channel", DELIVERY_TABLE.c.channel_id)


class ChannelError(ValueError):
    """A channel or digest setting that is refused; the message says why."""


class ChannelDict(TypedDict, total=False):
    """A channel as the API shows it (a webhook's secret only in the answer that made it).

    `status` is "ok", "failing" (its last delivery failed; `last_error` says why) or
    "paused" (MAX_FAILURES in a row: no longer tried; delete it and add it again).
    """

    id: int
    type: str
    url: str
    address: str
    created_at: str
    secret: str
    status: str
    last_error: str | None
    last_error_at: str | None


class PushSubscription(TypedDict):
    """The part of a browser's PushSubscription JSON a push is sent with."""

    endpoint: str
    p256dh: str
    auth: str


# --- the outgoing request policy ---------------------------------------------------------


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: object, *, allow_private: bool) -> str:
    """`url` if the server may send a request there (a webhook, ntfy topic or push
    endpoint), else ChannelError.

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
            "reminders go to public addresses only (REMINDER_ALLOW_PRIVATE_URLS allows others)"
        )
    return url


def check_address(address: object) -> str:
    """An email address as stored, else ChannelError (one plain address, no display name)."""
    text = address.strip() if isinstance(address, str) else ""
    if len(text) > ADDRESS_MAX_CHARS or not _ADDRESS.fullmatch(text):
        raise ChannelError("address must be one email address like ann@example.com")
    return text


# --- channels ----------------------------------------------------------------------------


def check_subscription(subscription: object, *, allow_private: bool) -> PushSubscription:
    """A browser's PushSubscription JSON as stored, else ChannelError."""
    if not isinstance(subscription, dict) or not isinstance(subscription.get("keys"), dict):
        raise ChannelError('subscription must be the browser\'s PushSubscription JSON, '
                           'with "endpoint" and "keys": {"p256dh", "auth"}')  # fmt: skip
    keys = subscription["keys"]
    endpoint = check_url(subscription.get("endpoint"), allow_private=allow_private)
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    try:
        point, secret = unb64url(p256dh), unb64url(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (TypeError, ValueError, binascii.Error):
        raise ChannelError("subscription keys.p256dh must be a P-256 public key and keys.auth "
                           "16 bytes, both base64url") from None  # fmt: skip
    if len(secret) != PUSH_AUTH_BYTES:
        raise ChannelError(f"subscription keys.auth must be {PUSH_AUTH_BYTES} bytes")
    return {"endpoint": endpoint, "p256dh": str(p256dh), "auth": str(auth)}


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shown(row: Any, *, with_secret: bool = False) -> ChannelDict:
    shown: ChannelDict = {"id": row.id, "type": row.kind}
    if row.kind in URL_KINDS:
        shown["url"] = row.target
    else:
        shown["address"] = row.target
    shown["created_at"] = _when(row.created_at) or ""
    shown["status"] = "paused" if row.paused_at else "failing" if row.failures else "ok"
    shown["last_error"] = row.last_error
    shown["last_error_at"] = _when(row.last_error_at)
    if with_secret and row.secret and row.kind == "webhook":
        shown["secret"] = row.secret
    return shown


def _target(
    kind: str, target: object, *, allow_private: bool
) -> tuple[str, str | None, str | None]:
    """(target, secret, keys) of a new channel, each checked."""
    match kind:
        case "webhook":
            return check_url(target, allow_private=allow_private), secrets.token_urlsafe(32), None
        case "ntfy":
            return check_url(target, allow_private=allow_private), None, None
        case "email":
            return check_address(target), None, None
        case "webpush":
            push = check_subscription(target, allow_private=allow_private)
            return push["endpoint"], None, f"{push['p256dh']} {push['auth']}"
    raise ChannelError(f"type must be one of {', '.join(CHANNEL_TYPES)} (got {kind!r})")


def add_channel(
    session: Session, *, user_id: str, kind: str, target: object, allow_private: bool,
    now: datetime, token: str | None = None,
) -> ChannelDict:
    """Add a channel for `user_id`; a webhook's answer carries its new secret.

    `target` is the URL (webhook, ntfy), the address (email) or the PushSubscription JSON
    (webpush); `token` an ntfy topic's access token. Subscribing the same browser again
    replaces its old channel rather than sending every reminder to it twice.
    """
    target, secret, keys = _target(kind, target, allow_private=allow_private)
    if token is not None:
        if kind != "ntfy" or not token or len(token) > NTFY_TOKEN_MAX_CHARS:
            raise ChannelError(f"token is an ntfy access token of at most "
                               f"{NTFY_TOKEN_MAX_CHARS} characters")  # fmt: skip
        secret = token
    conn = session.connection()
    mine = CHANNEL_TABLE.c.user_id == user_id
    if kind == "webpush":
        conn.execute(delete(CHANNEL_TABLE).where(
            mine, CHANNEL_TABLE.c.kind == kind, CHANNEL_TABLE.c.target == target))  # fmt: skip
    count = conn.execute(select(func.count()).where(mine)).scalar_one()
    if count >= MAX_CHANNELS:
        raise ChannelError(f"at most {MAX_CHANNELS} channels; delete one first")
    row = conn.execute(
        insert(CHANNEL_TABLE)
        .values(user_id=user_id, kind=kind, target=target, secret=secret, push_keys=keys,
                created_at=now, failures=0)
        .returning(*CHANNEL_TABLE.c)
    ).one()  # fmt: skip
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
    conn = session.connection()
    owned = CHANNEL_TABLE.c.id == channel_id, CHANNEL_TABLE.c.user_id == user_id
    if conn.execute(select(CHANNEL_TABLE.c.id).where(*owned)).first() is None:
        return False
    # Explicitly: SQLite enforces the cascade only with its foreign_keys pragma on.
    conn.execute(delete(DELIVERY_TABLE).where(DELIVERY_TABLE.c.channel_id == channel_id))
    conn.execute(delete(CHANNEL_TABLE).where(*owned))
    session.commit()
    return True


def note_delivery(conn: Connection, channel_id: int, error: str | None, now: datetime) -> None:
    """Record how a delivery to the channel went: a success clears its failures, the
    MAX_FAILURES-th failure in a row pauses it."""
    c = CHANNEL_TABLE.c
    if error is None:
        conn.execute(update(CHANNEL_TABLE).where(c.id == channel_id, c.failures > 0)
                     .values(failures=0))  # fmt: skip
        return
    conn.execute(update(CHANNEL_TABLE).where(c.id == channel_id).values(
        failures=c.failures + 1, last_error=error[:ERROR_MAX_CHARS], last_error_at=now,
        paused_at=case((c.failures + 1 >= MAX_FAILURES, now), else_=c.paused_at),
    ))  # fmt: skip


def pause_channel(conn: Connection, channel_id: int, error: str, now: datetime) -> None:
    """Stop trying a channel now (a push subscription the browser has dropped)."""
    conn.execute(update(CHANNEL_TABLE).where(CHANNEL_TABLE.c.id == channel_id).values(
        failures=CHANNEL_TABLE.c.failures + 1, last_error=error[:ERROR_MAX_CHARS],
        last_error_at=now, paused_at=now))  # fmt: skip


# --- reminder durations and the user's default -------------------------------------------


def duration(text: object, longest: timedelta | None = MAX_BEFORE) -> timedelta | None:
    """A strict ISO 8601 duration of weeks, days, hours, minutes and seconds (PT30M, P1DT2H,
    at most `longest`), else None."""
    value = text.strip().upper() if isinstance(text, str) else ""
    found = _DURATION.fullmatch(value) if len(value) <= DURATION_MAX_CHARS else None
    if found is None or value in ("P", "PT") or value.endswith("T"):
        return None
    parts = {name: int(number) for name, number in found.groupdict().items() if number}
    length = timedelta(**parts)
    return length if longest is None or length <= longest else None


def get_default_reminders(conn: Connection, *, user_id: str) -> list[str]:
    """`user_id`'s default reminders as stored specs ("before PT30M"); [] when none."""
    stored = conn.execute(select(DEFAULT_TABLE.c.reminders).where(
        DEFAULT_TABLE.c.user_id == user_id)).scalar()  # fmt: skip
    found = json.loads(stored) if stored else []
    return [spec for spec in found if isinstance(spec, str)]


def set_default_reminders(
    session: Session, *, user_id: str, reminders: list[object], now: datetime
) -> list[dict[str, str]]:
    """Set (or with [], clear) `user_id`'s default reminders: each {"before": duration}."""
    if len(reminders) > MAX_DEFAULT_REMINDERS:
        raise ChannelError(f"reminders: at most {MAX_DEFAULT_REMINDERS}")
    specs: list[str] = []
    for item in reminders:
        before = item.get("before") if isinstance(item, dict) and set(item) == {"before"} else None
        if duration(before) is None:
            raise ChannelError('reminders: each one is {"before": "<ISO 8601 duration>"}, like '
                               'PT0S (at the due time), PT30M or P1D')  # fmt: skip
        spec = f"before {str(before).strip().upper()}"
        if spec not in specs:
            specs.append(spec)
    conn = session.connection()
    conn.execute(delete(DEFAULT_TABLE).where(DEFAULT_TABLE.c.user_id == user_id))
    if specs:
        conn.execute(insert(DEFAULT_TABLE).values(user_id=user_id, reminders=json.dumps(specs),
                                                  updated_at=now))  # fmt: skip
    session.commit()
    return [{"before": spec.removeprefix("before ")} for spec in specs]


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


def get_digest(session: Session, *, user_id: str) -> dict[str, str | None]:
    """`user_id`'s daily digest: its local time and zone, both None when there is none."""
    row = session.connection().execute(
        select(DIGEST_TABLE.c.time, DIGEST_TABLE.c.timezone).where(
            DIGEST_TABLE.c.user_id == user_id)).first()  # fmt: skip
    if row is None:
        return {"time": None, "timezone": None}
    return {"time": row.time, "timezone": row.timezone}


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
