"""The deployment's own keys, kept in its database: the VAPID key pair web push is sent
with, and the key that signs the snooze and complete links in reminders.

Each is made by whichever process first needs it and read by every other (the task server
signs with them, the chat server checks links and hands browsers the public VAPID key), so
a deployment of any number of instances needs no configuration for them. Deleting a row of
deployment_secret makes a new key: links already sent stop working, and browsers must
subscribe again (the page does so when the key it subscribed with has changed).
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import column, select, table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

# The table migration tasks_0005 made (its model is the task server's DeploymentSecret).
_secrets = table("deployment_secret", column("name"), column("value"))
VAPID_KEY_NAME = "vapid"
LINK_KEY_NAME = "reminder_links"
LINK_LIFETIME_SECONDS = 3 * 24 * 3600  # a reminder read on Monday can still be snoozed
SNOOZE_MINUTES = 15
Action = Literal["complete", "snooze"]
ACTIONS: tuple[Action, ...] = ("complete", "snooze")
TOKEN_MAX_CHARS = 400


def b64url(data: bytes) -> str:
    """Unpadded URL-safe base64, as Web Push writes keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """The bytes of unpadded URL-safe base64; ValueError when it is not."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def stored_secret(conn: Connection, name: str, make: str | None = None) -> str:
    """The deployment's secret called `name`, stored now (as `make`, else random) if missing."""
    query = select(_secrets.c.value).where(_secrets.c.name == name)
    value = conn.execute(query).scalar()
    if value is None:
        # In a transaction of its own, so it is kept even when `conn` is only reading. Of
        # several processes getting here at once, the first insert wins and all read it.
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        made = insert(_secrets).values(name=name, value=make or secrets.token_urlsafe(32))
        with conn.engine.begin() as writer:
            writer.execute(made.on_conflict_do_nothing(index_elements=["name"]))
            value = writer.execute(query).scalar_one()
    return str(value)


# --- VAPID (RFC 8292) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VapidKey:
    """The deployment's P-256 key pair for web push."""

    private: ec.EllipticCurvePrivateKey

    @property
    def public_b64(self) -> str:
        """The public key as browsers take it (applicationServerKey): the uncompressed point."""
        point = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)


def vapid_key(conn: Connection) -> VapidKey:
    """The stored VAPID key (its private scalar, base64url), made now if there is none."""
    fresh = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    value = stored_secret(conn, VAPID_KEY_NAME, make=b64url(fresh.to_bytes(32, "big")))
    scalar = int.from_bytes(unb64url(value), "big")
    return VapidKey(ec.derive_private_key(scalar, ec.SECP256R1()))


# --- signed reminder links ---------------------------------------------------------------


class LinkError(ValueError):
    """A reminder link that is tampered with, malformed or expired."""


@dataclass(frozen=True, slots=True)
class LinkGrant:
    """What a valid link lets its holder do: one action on one task of one user."""

    user_id: str
    task_id: int
    action: Action


def _mac(key: bytes, body: str) -> str:
    return b64url(hmac.new(key, body.encode(), hashlib.sha256).digest())


def sign_link(key: bytes, *, user_id: str, task_id: int, action: Action, now: float) -> str:
    """A token for `action` on `task_id` as `user_id`, valid LINK_LIFETIME_SECONDS."""
    expires = int(now) + LINK_LIFETIME_SECONDS
    body = b64url(json.dumps([user_id, task_id, action, expires], separators=(",", ":"))
                  .encode())  # fmt: skip
    return f"{body}.{_mac(key, body)}"


def check_link(key: bytes, token: object, *, now: float | None = None) -> LinkGrant:
    """The grant a token carries, or LinkError when it is forged, malformed or expired."""
    if not isinstance(token, str) or len(token) > TOKEN_MAX_CHARS or token.count(".") != 1:
        raise LinkError("this link is not a reminder link")
    body, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise LinkError("this link is not a reminder link, or was changed")
    try:
        user_id, task_id, action, expires = json.loads(unb64url(body))
    except (ValueError, TypeError):
        raise LinkError("this link is not a reminder link") from None
    if (not isinstance(user_id, str) or type(task_id) is not int or action not in ACTIONS
            or type(expires) is not int):  # fmt: skip
        raise LinkError("this link is not a reminder link")
    if expires < (time.time() if now is None else now):
        raise LinkError("this link has expired; open the app to change the task")
    return LinkGrant(user_id, task_id, action)


def link_key(conn: Connection) -> bytes:
    """The stored key reminder links are signed with."""
    return stored_secret(conn, LINK_KEY_NAME).encode()
