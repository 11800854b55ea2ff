"""The browser side: the app page, its static files, and the small JSON API the page uses.

`GET /` serves one page that shows either OpenAI's ChatKit web component (loaded from its
CDN) or our built-in chat UI; both speak the ChatKit protocol to `/chatkit`.
"""

import json
import logging
from pathlib import Path
from typing import Annotated, Any, cast
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from chat_server.agent.task_tools import call_task_tool
from chat_server.conversation.errors import describe_failure
from chat_server.web.deps import ChatServerDep, CurrentUser, RateLimitedUser, SettingsDep
from chat_server.web.oidc import provider_name
from chat_server.web.protocol import RequestError
from shared.auth import Principal
from shared.contract import (
    ADD_TASK,
    COMPLETE_TASK,
    DELETE_TASK,
    DESCRIPTION_INPUT_MAX_CHARS,
    DUE_INPUT_MAX_CHARS,
    LIST_TASKS,
    TAG_INPUT_MAX_CHARS,
    TAGS_INPUT_MAX_ITEMS,
    TITLE_INPUT_MAX_CHARS,
    ErrorCode,
    Priority,
    Recurrence,
    Status,
    TaskChange,
    TaskPage,
    ToolFailure,
)
from shared.limits import clipped
from shared.settings import Settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
PAGE = Path(__file__).parent / "page.html"
UI_MODES = ("auto", "builtin", "chatkit")
PANEL_LIMIT = 200

router = APIRouter()


def content_security_policy(ui: str, script_url: str) -> str:
    """The page's policy: this server only, plus the ChatKit script's origin when it may load.

    The built-in UI needs nothing from elsewhere. The official component loads from its
    script's origin, frames and calls it, and styles itself inline; nothing else is allowed.
    """
    other = ""
    if ui != "builtin":
        parts = urlsplit(script_url)
        other = f" {parts.scheme}://{parts.netloc}"
    directives = {
        "default-src": "'self'",
        "script-src": f"'self'{other}",
        "style-src": "'self'" + (" 'unsafe-inline'" if other else ""),
        "img-src": f"'self' data:{other}",
        "font-src": f"'self'{other}",
        "connect-src": f"'self'{other}",
        "frame-src": other.strip() or "'none'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def page_config(ui: str, settings: Settings) -> dict[str, Any]:
    """What the page's script needs to know, embedded in the page as JSON."""
    return {
        "ui": ui,
        "apiUrl": "/chatkit",
        "domainKey": settings.chatkit_domain_key,
        "chatkitScript": None if ui == "builtin" else settings.chatkit_script_url,
        "auth": "local" if settings.local_mode else "jwt",
        # JWT mode with OIDC_ISSUER: the page offers "Sign in with <provider>".
        "signIn": (
            {"provider": provider_name(settings), "url": "/auth/login"}
            if settings.oidc_issuer and not settings.local_mode
            else None
        ),
    }


def render_page(config: dict[str, Any]) -> str:
    """The app page with `config` embedded; '<' is escaped so no value can end the script."""
    template = PAGE.read_text(encoding="utf-8")
    return template.replace("__TASKCHAT_CONFIG__", json.dumps(config).replace("<", "\\u003c"))


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def app_page(settings: SettingsDep, ui: str | None = None) -> HTMLResponse:
    """The chat page: `?ui=builtin|chatkit|auto` overrides CHAT_UI for this load."""
    mode = ui if ui is not None else settings.chat_ui
    if mode not in UI_MODES:
        choices = ", ".join(UI_MODES)
        raise HTTPException(400, f"ui must be one of {choices}; got {clipped(mode)!r}")
    headers = {
        "Cache-Control": "no-store",
        "Content-Security-Policy": content_security_policy(mode, settings.chatkit_script_url),
    }
    config = page_config(mode, settings)
    return HTMLResponse(render_page(config), headers=headers)


@router.get("/api/me")
async def whoami(user: CurrentUser, settings: SettingsDep) -> dict[str, str]:
    """Who the page is signed in as, so it can say so."""
    return {"user_id": user.user_id, "auth": "local" if settings.local_mode else "jwt"}


@router.get("/api/tasks")
async def tasks_panel(
    user: RateLimitedUser,
    server: ChatServerDep,
    status: Status = "all",
) -> TaskPage:
    """The user's tasks for the panel beside the chat, read through the same MCP client."""
    arguments = {"status": status, "sort": "due", "order": "asc", "limit": PANEL_LIMIT}
    try:
        page, _ = await call_task_tool(server.mcp, LIST_TASKS, arguments, user.user_id)
    except ToolFailure as exc:
        raise refusal(exc) from None
    except Exception as exc:
        log.warning("tasks panel: list_tasks failed: %r", exc)
        raise RequestError(503, "task_server_unavailable", describe_failure(exc)) from None
    return cast(TaskPage, page)


class NewTaskBody(BaseModel):
    """The panel's quick add: a title and, optionally, when it is due.

    Bounded like add_task's arguments (shared/contract.py); the task server applies the rules.
    """

    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=TITLE_INPUT_MAX_CHARS)
    due: str | None = Field(
        default=None,
        max_length=DUE_INPUT_MAX_CHARS,
        description="ISO 8601 date or date-time with zone",
    )
    # The rest lets "Undo" bring a deleted task back as it was.
    description: str | None = Field(default=None, max_length=DESCRIPTION_INPUT_MAX_CHARS)
    priority: Priority | None = None
    tags: list[Annotated[str, Field(max_length=TAG_INPUT_MAX_CHARS)]] | None = Field(
        default=None, max_length=TAGS_INPUT_MAX_ITEMS
    )
    recurrence: Recurrence | None = None


class CompletionBody(BaseModel):
    """A checkbox: done (true, also when the body leaves it out) or open again (false)."""

    model_config = ConfigDict(extra="forbid")
    completed: bool = True


# A task server refusal as the page's answer: what the user can act on is a 4xx in the
# server's words; what only the operator can fix (our own call refused) is a 502.
_ANSWERS: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.NOT_FOUND: (404, "not_found"),
    ErrorCode.INVALID_INPUT: (400, "invalid_task"),
    ErrorCode.RATE_LIMITED: (429, "rate_limited"),
    ErrorCode.UNAVAILABLE: (503, "task_server_unavailable"),
    ErrorCode.UNREACHABLE: (503, "task_server_unavailable"),
}


def refusal(failure: ToolFailure) -> RequestError:
    """The answer to the page for a task tool call that failed."""
    status, code = _ANSWERS.get(failure.code, (502, "task_server_error"))
    message = failure.reason if status != 502 else f"the task server refused: {failure.reason}"
    return RequestError(status, code, message)


async def _change(
    server: ChatServerDep, tool: str, arguments: dict[str, Any], user: Principal
) -> TaskChange:
    """Run a task tool for the page's user; its refusals become answers by their code."""
    try:
        result, _ = await call_task_tool(server.mcp, tool, arguments, user.user_id)
    except ToolFailure as exc:
        raise refusal(exc) from None
    except Exception as exc:
        log.warning("tasks panel: %s failed: %r", tool, exc)
        raise RequestError(503, "task_server_unavailable", describe_failure(exc)) from None
    return cast(TaskChange, result)


@router.post("/api/tasks")
async def add_task(body: NewTaskBody, user: RateLimitedUser, server: ChatServerDep) -> TaskChange:
    """Add a task from the panel's quick-add field."""
    arguments = body.model_dump(exclude_none=True)
    return await _change(server, ADD_TASK, arguments, user)


@router.post("/api/tasks/{task_id}/complete")
async def complete_task(
    task_id: int,
    user: RateLimitedUser,
    server: ChatServerDep,
    body: Annotated[CompletionBody | None, Body()] = None,
) -> TaskChange:
    """Complete a task (or reopen it with completed=false) from its checkbox."""
    arguments = {"task_id": task_id, "completed": body is None or body.completed}
    return await _change(server, COMPLETE_TASK, arguments, user)


@router.delete("/api/tasks/{task_id}")
async def delete_task(task_id: int, user: RateLimitedUser, server: ChatServerDep) -> TaskChange:
    """Delete a task from the panel."""
    return await _change(server, DELETE_TASK, {"task_id": task_id}, user)
