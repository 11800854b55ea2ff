"""FastAPI dependencies: the request's user, rate limit and the process-wide objects."""

from typing import Annotated

import limits
from fastapi import Depends, HTTPException, Request

from chat_server.conversation.server import TaskChatServer
from shared.auth import AuthError, Principal, verify_jwt
from shared.observability import USER
from shared.ratelimit import RateLimiter
from shared.settings import ChatSettings


def get_settings(request: Request) -> ChatSettings:
    return request.app.state.settings


def get_chat_server(request: Request) -> TaskChatServer:
    return request.app.state.chat_server


SettingsDep = Annotated[ChatSettings, Depends(get_settings)]
ChatServerDep = Annotated[TaskChatServer, Depends(get_chat_server)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def presented_token(request: Request, settings: ChatSettings) -> tuple[str, str] | None:
    """The request's token and how it came ("token": bearer header, "cookie"), or None."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("Authorization header must be 'Bearer <token>'")
        return token, "token"
    token = request.cookies.get(settings.session_cookie_name, "")
    return (token, "cookie") if token else None


def current_user(request: Request, settings: SettingsDep) -> Principal:
    """The authenticated user: `local` in local mode, else from a bearer JWT or session cookie."""
    if settings.local_mode:
        return Principal(settings.local_user_id)
    presented = presented_token(request, settings)
    if presented is None:
        raise _unauthorized("authentication required: send a bearer token or session cookie")
    token, _ = presented
    try:
        return verify_jwt(token, settings)
    except AuthError as exc:
        raise _unauthorized(str(exc)) from None


CurrentUser = Annotated[Principal, Depends(current_user)]


async def _counted(user: Principal, limiter: RateLimiter) -> Principal:
    """`user`, after counting this request against `limiter`; 429 when over it."""
    USER.set(user.user_id)  # for the log lines written while this request runs
    retry_after = await limiter.retry_after(user.user_id)
    if retry_after is not None:
        raise HTTPException(
            429,
            f"rate limit exceeded; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
    return user


async def rate_limited_user(request: Request, user: CurrentUser) -> Principal:
    """The current user, after counting this request against their chat rate limit."""
    return await _counted(user, request.app.state.rate_limiter)


RateLimitedUser = Annotated[Principal, Depends(rate_limited_user)]

# The tasks panel counts in a bucket of its own, this many times the chat's rate (600 a
# minute beside the default 60): a page load is one request, a checkbox one, and a morning's
# triage of fifty tasks in a minute must never be refused, nor use up the chat's turns.
PANEL_RATE_FACTOR = 10


def panel_rate(chat_rate: str) -> str:
    """The panel's rate for a chat rate such as `60/minute`: PANEL_RATE_FACTOR times it."""
    item = limits.parse(chat_rate)
    return f"{item.amount * PANEL_RATE_FACTOR}/{item.multiples} {item.GRANULARITY.name}"


def panel_limiter(request: Request, settings: SettingsDep) -> RateLimiter:
    """The process's panel limiter, made on first use beside the chat's (same storage)."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "panel_rate_limiter", None)
    if limiter is None:
        limiter = RateLimiter(
            panel_rate(settings.rate_limit), settings.rate_limit_storage_url, scope="panel"
        )
        state.panel_rate_limiter = limiter
    return limiter


async def panel_user(
    user: CurrentUser, limiter: Annotated[RateLimiter, Depends(panel_limiter)]
) -> Principal:
    """The current user, after counting this request against their panel rate limit."""
    return await _counted(user, limiter)


PanelUser = Annotated[Principal, Depends(panel_user)]
