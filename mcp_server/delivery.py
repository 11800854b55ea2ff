"""Sending one reminder or digest to one channel: a signed webhook POST, or an email.

A webhook is a POST of JSON signed with the channel's secret
(`X-Taskchat-Signature: sha256=<hex HMAC-SHA256 of the raw body>`), retried with backoff a
bounded number of times; its URL is checked against the outgoing-request policy
(shared/channels.py) before every attempt, and redirects are not followed, so a receiver
cannot send the server somewhere the policy refuses. Email goes through SMTP_URL with the
standard library's smtplib, in a worker thread. Neither secrets nor URLs (which may carry
tokens) are logged: log lines name the channel by id.
"""

import hashlib
import hmac
import json
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio
import httpx

from shared.channels import ChannelError, check_webhook_url

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Taskchat-Signature"
WEBHOOK_ATTEMPTS = 4
WEBHOOK_BACKOFF_SECONDS = 0.5  # then 1 s, 2 s: about 3.5 s of waiting at most
WEBHOOK_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 20.0
_RETRIED_STATUSES = frozenset({408, 425, 429})
SERVER_ERROR = 500


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel as the scheduler read it."""

    id: int
    kind: str
    target: str
    secret: str | None


def signature(body: bytes, secret: str) -> str:
    """The X-Taskchat-Signature value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(
    client: httpx.AsyncClient, channel: Channel, payload: dict[str, Any], *,
    allow_private: bool, attempts: int = WEBHOOK_ATTEMPTS,
    backoff: float = WEBHOOK_BACKOFF_SECONDS,
) -> bool:
    """POST `payload` to the webhook; True once it answered 2xx."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(body, channel.secret or ""),
        "User-Agent": "taskchat-reminders",
    }
    for attempt in range(attempts):
        if attempt:
            await anyio.sleep(backoff * 2 ** (attempt - 1))
        try:
            # Checked each time: the name may resolve elsewhere than when it was added.
            await anyio.to_thread.run_sync(
                lambda: check_webhook_url(channel.target, allow_private=allow_private)
            )
        except ChannelError as exc:
            log.warning("webhook %s refused by the outgoing request policy: %s", channel.id, exc)
            return False
        try:
            answer = await client.post(channel.target, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.info("webhook %s attempt %d failed: %s", channel.id, attempt + 1,
                     type(exc).__name__)  # fmt: skip
            continue
        if answer.is_success:
            return True
        log.info("webhook %s attempt %d answered %d", channel.id, attempt + 1, answer.status_code)
        if answer.status_code < SERVER_ERROR and answer.status_code not in _RETRIED_STATUSES:
            return False  # the receiver refuses it; asking again would not change that
    return False


def _send_email(smtp_url: str, sender: str, message: EmailMessage) -> None:
    parts = urlsplit(smtp_url)
    secure = parts.scheme == "smtps"
    host, port = parts.hostname or "127.0.0.1", parts.port or (465 if secure else 25)
    smtp_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with smtp_class(host, port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if parts.username:
            if not secure and smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message, from_addr=sender)


async def send_email(
    smtp_url: str | None, sender: str, channel: Channel, subject: str, text: str
) -> bool:
    """Email `text` to the channel's address; False when it could not be handed over."""
    if not smtp_url:
        log.warning("email channel %s skipped: SMTP_URL is not set", channel.id)
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, channel.target, subject
    message.set_content(text)
    try:
        await anyio.to_thread.run_sync(_send_email, smtp_url, sender, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("email channel %s failed: %s", channel.id, type(exc).__name__)
        return False
    return True
