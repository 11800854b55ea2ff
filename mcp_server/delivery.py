"""Sending one reminder or digest to one channel: a signed webhook POST, an email, an ntfy
message or a web push.

A webhook is a POST of JSON signed with the channel's secret
(`X-Taskchat-Signature: sha256=<hex HMAC-SHA256 of the raw body>`) and carrying the
occurrence in `X-Taskchat-Delivery`, so a receiver can drop a repeat; it is retried with
backoff a bounded number of times. ntfy gets its JSON publish with action buttons. A web
push is encrypted for the subscription (RFC 8291, aes128gcm, with `http_ece`) and signed
with the deployment's VAPID key (RFC 8292, with `py_vapid`); both are the libraries
pywebpush itself is built on, used directly so the request goes through our own client and
its outgoing-request policy. Every URL is checked against that policy
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
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import anyio

from shared.channels import ChannelError, check_url
from shared.deployment_keys import SNOOZE_MINUTES, VapidKey, unb64url

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Taskchat-Signature"
DELIVERY_HEADER = "X-Taskchat-Delivery"
WEBHOOK_ATTEMPTS = 4
WEBHOOK_BACKOFF_SECONDS = 0.5  # then 1 s, 2 s: about 3.5 s of waiting at most
WEBHOOK_TIMEOUT_SECONDS = 10.0
SMTP_TIMEOUT_SECONDS = 20.0
PUSH_TTL_SECONDS = 24 * 3600  # a reminder a day old is not worth waking a phone for
PUSH_MAX_BYTES = 3000  # well under the 4 KB push services take, after encryption
PUSH_BODY_CHARS = 300
VAPID_LIFETIME_SECONDS = 12 * 3600
_RETRIED_STATUSES = frozenset({408, 425, 429})
_GONE_STATUSES = frozenset({404, 410})  # a push subscription the browser has dropped
SERVER_ERROR = 500


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel as the scheduler read it."""

    id: int
    kind: str
    target: str
    secret: str | None
    keys: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """How one delivery went: `error` None when it was handed over."""

    error: str | None = None
    retry: bool = False  # worth another round later (a timeout, a 5xx, a 429)
    gone: bool = False  # the channel will never work again

    @property
    def ok(self) -> bool:
        """True when it was delivered."""
        return self.error is None


SENT = Result()


@dataclass(frozen=True, slots=True)
class Message:
    """One occurrence as every channel says it: the webhook's JSON, a subject and a text."""

    occurrence: str  # "reminder:12:2025-03-11T08:30:00Z": the idempotency key
    payload: dict[str, Any]
    subject: str
    text: str

    def text_with_links(self) -> str:
        """The text, then the links to act on it (when REMINDER_LINKS_URL is set)."""
        links = self.payload.get("links") or {}
        said = [f"{label}: {links[name]}" for name, label in (
            ("complete", "Mark done"), ("snooze", f"Snooze {SNOOZE_MINUTES} minutes"),
            ("open", "Open taskchat")) if name in links]  # fmt: skip
        return "\n\n".join([self.text, "\n".join(said)] if said else [self.text])


@dataclass(slots=True)
class Sender:
    """What every delivery of one process shares: its HTTP client and the settings."""

    allow_private: bool
    smtp_url: str | None = None
    smtp_from: str = "taskchat@localhost"
    vapid: VapidKey | None = None
    vapid_subject: str = "mailto:taskchat@localhost"
    webhook_attempts: int = WEBHOOK_ATTEMPTS
    webhook_backoff: float = WEBHOOK_BACKOFF_SECONDS
    client: "httpx.AsyncClient | None" = None

    def http(self) -> "httpx.AsyncClient":
        """The HTTP client, made at the first delivery: a server that never delivers
        (most are idle) does not load httpx and what it imports (about 2 MiB)."""
        if self.client is None:
            import httpx  # noqa: PLC0415

            self.client = httpx.AsyncClient(
                timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
            )
        return self.client

    async def aclose(self) -> None:
        """Close the HTTP client, if one was made."""
        if self.client is not None:
            await self.client.aclose()

    async def check(self, url: str) -> Result | None:
        """None when `url` may be reached now, else the refusal (not retried)."""
        try:
            # Checked each time: the name may resolve elsewhere than when it was added.
            await anyio.to_thread.run_sync(
                lambda: check_url(url, allow_private=self.allow_private)
            )
        except ChannelError as exc:
            return Result(f"refused by the outgoing request policy: {exc}")
        return None


def signature(body: bytes, secret: str) -> str:
    """The X-Taskchat-Signature value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _answered(answer: "httpx.Response") -> Result:
    if answer.is_success:
        return SENT
    status = answer.status_code
    return Result(f"answered HTTP {status}", retry=status >= SERVER_ERROR or
                  status in _RETRIED_STATUSES)  # fmt: skip


async def deliver(sender: Sender, channel: Channel, message: Message) -> Result:
    """Send `message` to `channel` by whatever the channel is."""
    match channel.kind:
        case "webhook":
            return await post_webhook(sender, channel, message)
        case "ntfy":
            return await post_ntfy(sender, channel, message)
        case "webpush":
            return await send_push(sender, channel, message)
        case "email":
            return await send_email(sender, channel, message)
    return Result(f"unknown channel type {channel.kind!r}")


async def post_webhook(sender: Sender, channel: Channel, message: Message) -> Result:
    """POST the message's JSON to the webhook, retried with backoff while it may help."""
    body = json.dumps(message.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(body, channel.secret or ""),
        DELIVERY_HEADER: message.occurrence,
        "User-Agent": "taskchat-reminders",
    }
    import httpx  # noqa: PLC0415  (loaded with the client, at the first delivery)

    result = Result("not tried")
    for attempt in range(sender.webhook_attempts):
        if attempt:
            await anyio.sleep(sender.webhook_backoff * 2 ** (attempt - 1))
        refused = await sender.check(channel.target)
        if refused:
            return refused
        try:
            result = _answered(await sender.http().post(channel.target, content=body,
                                                        headers=headers))  # fmt: skip
        except httpx.HTTPError as exc:
            result = Result(f"could not be reached ({type(exc).__name__})", retry=True)
        if result.ok or not result.retry:
            return result
        log.info("webhook %s attempt %d failed: %s", channel.id, attempt + 1, result.error)
    return result


def ntfy_publish(topic_url: str, message: Message) -> tuple[str, dict[str, Any]]:
    """Where to POST and the JSON to publish `message` to an ntfy topic URL (ntfy's JSON
    publishing: to the server's root, the topic in the body), with its action buttons."""
    base, _, topic = topic_url.rstrip("/").rpartition("/")
    links, tokens = message.payload.get("links") or {}, message.payload.get("tokens") or {}
    actions: list[dict[str, Any]] = []
    if "open" in links:
        actions.append({"action": "view", "label": "Open", "url": links["open"]})
    if "act" in links:
        for action, label in (("complete", "Done"), ("snooze", f"Snooze {SNOOZE_MINUTES} min")):
            if action in tokens:
                actions.append({
                    "action": "http", "label": label, "url": links["act"], "method": "POST",
                    "headers": {"Content-Type": "application/json"},
                    "body": json.dumps({"token": tokens[action]}), "clear": True,
                })  # fmt: skip
    publish: dict[str, Any] = {
        "topic": topic, "title": message.subject, "message": message.text,
        "tags": ["alarm_clock" if message.payload.get("type") == "reminder" else "calendar"],
        "priority": 4 if message.payload.get("type") == "reminder" else 3,
        "actions": actions[:3],  # ntfy shows at most three
    }  # fmt: skip
    if "open" in links:
        publish["click"] = links["open"]
    return base or topic_url, publish


async def post_ntfy(sender: Sender, channel: Channel, message: Message) -> Result:
    """Publish to the channel's ntfy topic."""
    url, publish = ntfy_publish(channel.target, message)
    headers = {"Content-Type": "application/json", "User-Agent": "taskchat-reminders"}
    if channel.secret:
        headers["Authorization"] = f"Bearer {channel.secret}"
    refused = await sender.check(url)
    if refused:
        return refused
    import httpx  # noqa: PLC0415  (loaded with the client, at the first delivery)

    try:
        return _answered(await sender.http().post(url, json=publish, headers=headers))
    except httpx.HTTPError as exc:
        return Result(f"could not be reached ({type(exc).__name__})", retry=True)


def push_data(message: Message) -> dict[str, Any]:
    """What the service worker is pushed for `message` (and shows as a notification)."""
    payload = message.payload
    data: dict[str, Any] = {
        "type": payload.get("type"), "title": message.subject,
        "body": message.text[:PUSH_BODY_CHARS], "tag": message.occurrence,
        "late": bool(payload.get("late")),
    }  # fmt: skip
    if payload.get("task"):
        data["task_id"] = payload["task"]["id"]
    if payload.get("tokens"):
        data["tokens"] = payload["tokens"]
    return data


def encrypt_push(data: bytes, keys: str) -> bytes:
    """`data` encrypted for a subscription's "<p256dh> <auth>" keys (RFC 8291, aes128gcm)."""
    # Web push only: loaded at the first push.
    import http_ece  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    p256dh, auth = keys.split(" ")
    return bytes(http_ece.encrypt(
        data, private_key=ec.generate_private_key(ec.SECP256R1()), dh=unb64url(p256dh),
        auth_secret=unb64url(auth), version="aes128gcm",
    ))  # fmt: skip


def vapid_headers(key: VapidKey, endpoint: str, subject: str, now: float) -> dict[str, str]:
    """The Authorization header for a push to `endpoint` (RFC 8292)."""
    from py_vapid import Vapid02  # noqa: PLC0415  (web push only: loaded at the first push)

    parts = urlsplit(endpoint)
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "sub": subject,
              "exp": int(now) + VAPID_LIFETIME_SECONDS}  # fmt: skip
    return dict(Vapid02(key.private).sign(claims))


async def send_push(sender: Sender, channel: Channel, message: Message) -> Result:
    """Push the message to the browser's subscription through its push service."""
    if sender.vapid is None or not channel.keys:
        return Result("web push is not set up on this server")
    data = json.dumps(push_data(message), separators=(",", ":")).encode()[:PUSH_MAX_BYTES]
    headers = {
        **vapid_headers(sender.vapid, channel.target, sender.vapid_subject, time.time()),
        "TTL": str(PUSH_TTL_SECONDS), "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream", "Urgency": "high",
        # A push service keeps only the newest undelivered message of one topic.
        "Topic": hashlib.sha256(message.occurrence.encode()).hexdigest()[:32],
    }  # fmt: skip
    refused = await sender.check(channel.target)
    if refused:
        return refused
    import httpx  # noqa: PLC0415  (loaded with the client, at the first delivery)

    try:
        answer = await sender.http().post(
            channel.target, content=encrypt_push(data, channel.keys), headers=headers
        )
    except httpx.HTTPError as exc:
        return Result(f"could not be reached ({type(exc).__name__})", retry=True)
    if answer.status_code in _GONE_STATUSES:
        return Result("the browser's subscription has expired; allow notifications again",
                      gone=True)  # fmt: skip
    return _answered(answer)


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


async def send_email(sender: Sender, channel: Channel, message: Message) -> Result:
    """Email the message to the channel's address through SMTP_URL."""
    if not sender.smtp_url:
        return Result("email is not set up on this server (SMTP_URL)")
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender.smtp_from, channel.target, (
        message.subject)  # fmt: skip
    email.set_content(message.text_with_links())
    try:
        await anyio.to_thread.run_sync(_send_email, sender.smtp_url, sender.smtp_from, email)
    except smtplib.SMTPResponseException as exc:
        code = exc.smtp_code
        return Result(f"the mail server answered {code}", retry=code < SERVER_ERROR)
    except (OSError, smtplib.SMTPException) as exc:
        return Result(f"could not be sent ({type(exc).__name__})", retry=True)
    return SENT
