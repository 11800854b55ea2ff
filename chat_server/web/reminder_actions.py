"""Acting on a reminder from wherever it reached the user, and the installable app's files.

`POST /api/reminders/act` with `{"token": ...}` completes or snoozes the task a signed link
names (shared/deployment_keys.py): the token, not a session, says who may, so an ntfy
button on a phone, a notification's button and a link in an email all work signed out.
A link in a message opens `GET /reminder#<token>`, a page that asks before it acts (mail
scanners follow links; they do not press buttons). The page's own reminders snooze through
`POST /api/tasks/{id}/snooze` as the signed-in user. Both go through the task tools, as
the user, like every other change the chat server makes.

The app is installable (a Progressive Web App): `/manifest.webmanifest`, and `/sw.js`, the
service worker that shows pushed reminders with the page closed and keeps an offline shell;
both are served from the site's root so the worker's scope is the whole app.
"""

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from chat_server.web.deps import ChatServerDep, PanelUser
from chat_server.web.page import STATIC_DIR
from chat_server.web.panel import call_tool
from chat_server.web.protocol import RequestError
from shared.contract import COMPLETE_TASK, GET_TASK, UPDATE_TASK
from shared.db import run_db
from shared.deployment_keys import (
    SNOOZE_MINUTES,
    TOKEN_MAX_CHARS,
    LinkError,
    check_link,
    link_key,
)

log = logging.getLogger(__name__)

router = APIRouter()
# A task has at most five reminders; a snooze keeps the newest four beside itself.
SNOOZE_KEEPS = 4
MAX_SNOOZE_MINUTES = 7 * 24 * 60


class ActBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=TOKEN_MAX_CHARS)


class SnoozeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: int = Field(SNOOZE_MINUTES, ge=1, le=MAX_SNOOZE_MINUTES)


def snoozed(reminders: list[dict[str, str]], now: datetime, minutes: int) -> list[dict[str, str]]:
    """A task's reminders with one more at `now + minutes`; `at`s already past are dropped
    (they have fired), and so are the oldest others if the task would hold too many."""
    kept = [r for r in reminders if "at" not in r or datetime.fromisoformat(r["at"]) > now]
    moment = (now + timedelta(minutes=minutes)).replace(microsecond=0)
    return [*kept[-SNOOZE_KEEPS:], {"at": moment.isoformat()}]


async def snooze(server: ChatServerDep, user_id: str, task_id: int, minutes: int) -> Any:
    """Remind `user_id` of the task again in `minutes`."""
    task = await call_tool(server, GET_TASK, {"task_id": task_id}, user_id)
    reminders = snoozed(task["reminders"], datetime.now(UTC), minutes)
    return await call_tool(server, UPDATE_TASK, {"task_id": task_id, "reminders": reminders},
                       user_id)  # fmt: skip


async def _link_key(request: Request) -> bytes:
    key: bytes | None = getattr(request.app.state, "reminder_link_key", None)
    if key is None:

        def read(session: Any) -> bytes:
            return link_key(session.connection())

        key = await run_db(request.app.state.engine, read)
        request.app.state.reminder_link_key = key
    return key


@router.post("/api/reminders/act")
async def act(body: ActBody, request: Request, server: ChatServerDep) -> dict[str, Any]:
    """Do what a signed reminder link says: complete the task, or snooze it."""
    try:
        grant = check_link(await _link_key(request), body.token)
    except LinkError as exc:
        raise RequestError(403, "bad_link", str(exc)) from None
    if grant.action == "complete":
        arguments = {"task_id": grant.task_id, "completed": True}
        change = await call_tool(server, COMPLETE_TASK, arguments, grant.user_id)
    else:
        change = await snooze(server, grant.user_id, grant.task_id, SNOOZE_MINUTES)
    log.info("reminder link: %s task %s for user %s", grant.action, grant.task_id, grant.user_id)
    return {"action": grant.action, "minutes": SNOOZE_MINUTES if grant.action == "snooze"
            else None, "task": change["task"]}  # fmt: skip


@router.post("/api/tasks/{task_id}/snooze")
async def snooze_task(
    task_id: int, user: PanelUser, server: ChatServerDep,
    body: Annotated[SnoozeBody | None, Body()] = None,
) -> Any:  # fmt: skip
    """Remind the signed-in user of the task again in `minutes` (default 15)."""
    minutes = body.minutes if body else SNOOZE_MINUTES
    return await snooze(server, user.user_id, task_id, minutes)


def _file(name: str, media_type: str, **headers: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type=media_type,
                        headers={"Cache-Control": "no-cache", **headers})  # fmt: skip


@router.get("/reminder", include_in_schema=False)
async def reminder_page() -> FileResponse:
    """The page a reminder's link opens: it asks, then acts (the token is in the #hash)."""
    return _file("reminder.html", "text/html", **{
        "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; "
                                   "frame-ancestors 'none'"})  # fmt: skip


@router.get("/manifest.webmanifest", include_in_schema=False)
async def manifest() -> FileResponse:
    """The web app manifest: name, icons, colours, so the app can be installed."""
    return _file("manifest.webmanifest", "application/manifest+json")


@router.get("/sw.js", include_in_schema=False)
async def service_worker() -> FileResponse:
    """The service worker, from the root so that it controls the whole app."""
    return _file("sw.js", "text/javascript")
