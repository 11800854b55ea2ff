"""Where the signed-in user's reminders go: /api/channels (webhooks, email) and /api/digest.

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
from chat_server.web.deps import PanelUser, SettingsDep
from shared import channels
from shared.db import run_db

router = APIRouter()


class ChannelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook", "email"]
    url: Annotated[str, Field(max_length=channels.URL_MAX_CHARS)] | None = None
    address: Annotated[str, Field(max_length=channels.ADDRESS_MAX_CHARS)] | None = None


class DigestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time: Annotated[str, Field(max_length=5)] | None


def _engine(request: Request) -> Any:
    return request.app.state.engine


@router.post("/api/channels", status_code=201)
async def add_channel(
    body: ChannelBody, request: Request, user: PanelUser, settings: SettingsDep
) -> channels.ChannelDict:
    """Add a webhook (the answer carries its signing secret, shown only here) or an email."""
    target = body.url if body.type == "webhook" else body.address
    if not target:
        raise HTTPException(422, f"a {body.type} channel needs "
                                 f"{'url' if body.type == 'webhook' else 'address'}")  # fmt: skip
    try:
        return await run_db(
            _engine(request), lambda session: channels.add_channel(
                session, user_id=user.user_id, kind=body.type, target=target,
                allow_private=settings.reminder_allow_private_urls, now=datetime.now(UTC)),
        )  # fmt: skip
    except channels.ChannelError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/api/channels")
async def list_channels(request: Request, user: PanelUser) -> dict[str, list[Any]]:
    """The user's channels, oldest first (without secrets)."""
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
