"""Where the signed-in user's reminders go: /api/channels (webhooks, email, ntfy topics,
browser push subscriptions), /api/push/key (the key browsers subscribe with) and
/api/digest. Acting on a reminder is chat_server/web/reminder_actions.py.

The rows live in the task database both servers share (shared/channels.py); the task
server's scheduler reads them. Written here directly rather than through new MCP tools:
they are the user's delivery settings, not tasks, and no agent should be able to point a
user's reminders at a URL of its choosing.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from chat_server.agent.zones import HEADER, zone_from_header
from chat_server.web import reminder_actions
from chat_server.web.deps import CurrentUser, PanelUser, SettingsDep
from shared import channels
from shared.db import run_db
from shared.deployment_keys import vapid_key

router = APIRouter()
router.include_router(reminder_actions.router)
# What each type of channel is given by: the field of the request that must be there.
TARGET_FIELD = {"webhook": "url", "ntfy": "url", "email": "address", "webpush": "subscription"}


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")

    p256dh: Annotated[str, Field(max_length=200)]
    auth: Annotated[str, Field(max_length=100)]


class Subscription(BaseModel):
    """A browser's PushSubscription JSON (expirationTime and anything newer are ignored)."""

    model_config = ConfigDict(extra="ignore")

    endpoint: Annotated[str, Field(max_length=channels.URL_MAX_CHARS)]
    keys: PushKeys


class ChannelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook", "email", "ntfy", "webpush"]
    url: Annotated[str, Field(max_length=channels.URL_MAX_CHARS)] | None = None
    address: Annotated[str, Field(max_length=channels.ADDRESS_MAX_CHARS)] | None = None
    subscription: Subscription | None = None
    # An ntfy topic's access token, when the server wants one.
    token: Annotated[str, Field(max_length=channels.NTFY_TOKEN_MAX_CHARS)] | None = None


class DefaultBefore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    before: Annotated[str, Field(max_length=channels.DURATION_MAX_CHARS)]


class DefaultBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reminders: Annotated[list[DefaultBefore], Field(max_length=channels.MAX_DEFAULT_REMINDERS)]


class DigestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time: Annotated[str, Field(max_length=5)] | None


def _engine(request: Request) -> Any:
    return request.app.state.engine


@router.post("/api/channels", status_code=201)
async def add_channel(
    body: ChannelBody, request: Request, user: PanelUser, settings: SettingsDep
) -> channels.ChannelDict:
    """Add a channel: a webhook (the answer carries its signing secret, shown only here), an
    email address, an ntfy topic URL or this browser's push subscription."""
    needed = TARGET_FIELD[body.type]
    given = {name: getattr(body, name) for name in ("url", "address", "subscription")
             if getattr(body, name) is not None}  # fmt: skip
    if set(given) != {needed}:
        raise HTTPException(422, f"a {body.type} channel is given by {needed} (only)")
    target = body.subscription.model_dump() if body.subscription else given[needed]
    try:
        return await run_db(
            _engine(request), lambda session: channels.add_channel(
                session, user_id=user.user_id, kind=body.type, target=target,
                allow_private=settings.reminder_allow_private_urls, now=datetime.now(UTC),
                token=body.token),
        )  # fmt: skip
    except channels.ChannelError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/api/push/key")
async def push_key(request: Request, user: CurrentUser) -> dict[str, str]:
    """The server's VAPID public key: what a browser subscribes to push with."""
    del user  # signed in only: the key is no secret, but the app is not open to strangers

    def read(session: Any) -> str:
        return vapid_key(session.connection()).public_b64

    return {"key": await run_db(_engine(request), read)}


@router.get("/api/channels")
async def list_channels(request: Request, user: PanelUser) -> dict[str, list[Any]]:
    """The user's channels, oldest first (without secrets), each with its status and the
    last error of a failing one."""
    user_id = user.user_id
    found = await run_db(_engine(request), lambda s: channels.list_channels(s, user_id=user_id))
    return {"channels": list(found)}


@router.delete("/api/channels/{channel_id}", status_code=204)
async def delete_channel(channel_id: int, request: Request, user: PanelUser) -> Response:
    """Delete one of the user's channels; 404 for another's or a missing one."""
    gone = await run_db(_engine(request), lambda s: channels.delete_channel(
        s, user_id=user.user_id, channel_id=channel_id))  # fmt: skip
    if not gone:
        raise HTTPException(404, f"channel {channel_id} not found")
    return Response(status_code=204)


@router.get("/api/digest")
async def get_digest(request: Request, user: PanelUser) -> dict[str, str | None]:
    """The user's daily digest: `time` (HH:MM) and `timezone`, both null when there is none."""
    user_id = user.user_id
    return await run_db(_engine(request), lambda s: channels.get_digest(s, user_id=user_id))


@router.put("/api/digest")
async def set_digest(
    body: DigestBody, request: Request, user: PanelUser, settings: SettingsDep
) -> dict[str, str | None]:
    """Send a daily digest at `time` (HH:MM) in the user's zone (X-Timezone); null stops it."""
    zone = zone_from_header(request.headers.get(HEADER))
    name = str(zone) if zone is not None else (settings.taskchat_timezone or "UTC")
    try:
        return await run_db(_engine(request), lambda s: channels.set_digest(
            s, user_id=user.user_id, at=body.time, zone_name=name, now=datetime.now(UTC)))
    except (channels.ChannelError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/api/reminders/default")
async def get_default_reminders(request: Request, user: PanelUser) -> dict[str, Any]:
    """The reminders a new task with a due time gets when it is added without any."""
    user_id = user.user_id

    def read(session: Any) -> list[str]:
        return channels.get_default_reminders(session.connection(), user_id=user_id)

    specs = await run_db(_engine(request), read)
    return {"reminders": [{"before": spec.removeprefix("before ")} for spec in specs]}


@router.put("/api/reminders/default")
async def set_default_reminders(
    body: DefaultBody, request: Request, user: PanelUser
) -> dict[str, Any]:
    """Set the default reminders ({"before": "PT0S"} is at the due time); [] clears them."""
    items: list[object] = [item.model_dump() for item in body.reminders]
    try:
        found = await run_db(_engine(request), lambda s: channels.set_default_reminders(
            s, user_id=user.user_id, reminders=items, now=datetime.now(UTC)))  # fmt: skip
    except channels.ChannelError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"reminders": found}
