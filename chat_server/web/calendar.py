"""The private calendar feed: turned on (or replaced) and off by its owner, read by calendar
apps with nothing but the secret in its URL.

`POST /api/calendar-feed` makes a new secret each time, and the URL before it answers 404
at once; `DELETE /api/calendar-feed` turns the feed off. `GET /calendar/<secret>.ics` is
the feed: the owner's open tasks with a due date, as VTODOs (or VEVENTs with
`?events=true`, for calendars that ignore to-dos). A wrong, revoked and never-made secret
get the same 404, and every try counts against the caller's address's rate limit, so the
feed neither says whether a secret existed nor lets anyone guess at speed.
"""

import logging
import secrets
from datetime import UTC, datetime
from typing import Any, cast

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from chat_server.conversation.errors import DatabaseUnavailable
from chat_server.transfer import tables
from chat_server.transfer.ical import calendar_of
from chat_server.web.deps import ChatServerDep, PanelUser, SettingsDep
from chat_server.web.panel import call_tool
from shared.auth import Principal
from shared.contract import LIST_TASKS, MAX_PAGE_SIZE, Status, TaskDict, TaskPage
from shared.db import UNAVAILABLE_ERRORS, run_db
from shared.ratelimit import RateLimiter

log = logging.getLogger(__name__)

router = APIRouter()

# 256 random bits, URL-safe: 43 characters.
SECRET_BYTES = 32
SECRET_CHARS = 43
FEED_PATH = "/calendar/{secret}.ics"
# UIDs name this domain rather than the host a request came by, so they stay the same in
# every feed and export whatever address the server is reached at.
UID_DOMAIN = "taskchat"
# A user's tasks read page after page; past this many pages (10,000 tasks) the rest is left out.
MAX_PAGES = 50
NOT_FOUND = "no calendar feed at this address"


async def all_tasks(server: ChatServerDep, user: Principal, status: Status) -> list[TaskDict]:
    """Every task of the user with this status, subtasks included, through the task tools."""
    tasks: dict[int, TaskDict] = {}
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        arguments: dict[str, Any] = {
            "status": status, "subtasks": "all", "sort": "created", "order": "asc",
            "limit": MAX_PAGE_SIZE,
        }  # fmt: skip
        if cursor is not None:
            arguments["cursor"] = cursor
        page = cast(TaskPage, await call_tool(server, LIST_TASKS, arguments, user.user_id))
        tasks.update((task["id"], task) for task in page["tasks"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return list(tasks.values())


async def in_database(request: Request, fn: Any, /, **kwargs: Any) -> Any:
    """`fn(session, **kwargs)` on the chat database; 503 while it cannot be reached."""
    try:
        return await run_db(request.app.state.engine, fn, **kwargs)
    except UNAVAILABLE_ERRORS as exc:
        log.warning("database unavailable: %r", exc)
        raise DatabaseUnavailable() from None


@router.post("/api/calendar-feed")
async def new_feed(request: Request, user: PanelUser) -> dict[str, str]:
    """Turn the feed on with a new secret URL; the URL before it stops working."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    now = datetime.now(UTC)
    await in_database(request, tables.replace_feed, user_id=user.user_id, secret=secret, now=now)
    url = str(request.url_for("calendar_feed", secret=secret))
    return {"url": url}


@router.delete("/api/calendar-feed")
async def drop_feed(request: Request, user: PanelUser) -> dict[str, bool]:
    """Turn the feed off: its URL answers 404 from now on."""
    await in_database(request, tables.drop_feed, user_id=user.user_id)
    return {"enabled": False}


def feed_limiter(request: Request, rate: str, storage_url: str) -> RateLimiter:
    """The process's feed limiter (counted per client address), made on first use."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "feed_rate_limiter", None)
    if limiter is None:
        limiter = RateLimiter(rate, storage_url, scope="calendar-feed")
        state.feed_rate_limiter = limiter
    return limiter


@router.get(FEED_PATH, name="calendar_feed")
async def calendar_feed(
    secret: str,
    request: Request,
    server: ChatServerDep,
    settings: SettingsDep,
    events: bool = False,
) -> Response:
    """The feed itself: no sign-in, the secret in the URL is the credential."""
    limiter = feed_limiter(request, settings.rate_limit, settings.rate_limit_storage_url)
    address = request.client.host if request.client else "unknown"
    retry_after = await limiter.retry_after(address)
    if retry_after is not None:
        raise HTTPException(
            429, f"rate limit exceeded; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )  # fmt: skip
    owner = None
    if len(secret) == SECRET_CHARS:
        owner = await in_database(request, tables.feed_owner, secret=secret)
    if owner is None:
        raise HTTPException(404, NOT_FOUND)
    tasks = await all_tasks(server, Principal(owner), "pending")
    calendar = calendar_of(
        (task for task in tasks if task["due"]), domain=UID_DOMAIN, name="taskchat",
        events=events,
    )  # fmt: skip
    headers = {"Cache-Control": "no-store", "Content-Disposition": 'inline; filename="tasks.ics"'}
    return Response(calendar.to_ical(), media_type="text/calendar", headers=headers)
